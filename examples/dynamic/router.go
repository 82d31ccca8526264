package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// plans holds the limit string of each plan; it is safe for concurrent use.
type plans struct {
	mu     sync.RWMutex
	limits map[string]string
}

func newPlans() *plans {
	return &plans{limits: map[string]string{"free": "2/minute", "pro": "5/minute"}}
}

// limitFor returns the limit of the request's plan (X-Plan, default free).
// chilimit calls it for every request and caches the parse while the string
// stays the same.
func (p *plans) limitFor(r *http.Request) string {
	plan := r.Header.Get("X-Plan")
	p.mu.RLock()
	defer p.mu.RUnlock()
	if l, ok := p.limits[plan]; ok {
		return l
	}
	return p.limits["free"]
}

// set changes a plan's limit after checking that it parses, so a typo is
// refused here instead of being logged at every request.
func (p *plans) set(plan, spec string) error {
	if _, err := limiter.ParseMany(spec); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limits[plan] = spec
	return nil
}

func (p *plans) String() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var lines []string
	for plan, l := range p.limits {
		lines = append(lines, plan+": "+l)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// newRouter builds an application whose /api limit depends on the client's
// plan and is read from a table at every request (chilimit.LimitFunc).
// PUT /admin/plans/{plan} with a limit string as the body changes a plan's
// limit at once; GET /admin/plans lists them. The admin routes are exempt
// (a real application would authenticate them). opts are added after the
// example's own options. The caller closes the Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{chilimit.WithHeaders(true)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	p := newPlans()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.LimitFunc(p.limitFor)).Get("/api", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	r.Route("/admin/plans", func(r chi.Router) {
		r.Use(chilimit.Exempt)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, p.String())
		})
		r.Put("/{plan}", func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1024))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			plan := chi.URLParam(r, "plan")
			if err := p.set(plan, strings.TrimSpace(string(body))); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%s: %s\n", plan, strings.TrimSpace(string(body)))
		})
	})
	return r, lim, nil
}
