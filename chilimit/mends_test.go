package chilimit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// Regression: Handler as inline middleware (Group/With) in front of a Mount: it runs
// after the root routed to the mount and before chi's mountHandler, which
// computes the sub-router's path from chi's unexported routeParams. The
// look-ahead's Find overwrote them and undo does not restore them, so the
// sub-router routes "/" instead of "/users/42".
func TestInlineHandlerBeforeMount(t *testing.T) {
	for _, how := range []string{"Group", "With"} {
		t.Run(how, func(t *testing.T) {
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"),
				chilimit.WithKeyFunc(func(r *http.Request) string { return "k" + chi.URLParam(r, "id") }))
			sub := chi.NewRouter()
			sub.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "u"+chi.URLParam(r, "id")) })
			r := chi.NewRouter()
			if how == "Group" {
				r.Group(func(g chi.Router) { g.Use(lim.Handler); g.Mount("/api", sub) })
			} else {
				r.With(lim.Handler).Mount("/api", sub)
			}
			w := get(r, "/api/users/42")
			if w.Code != 200 || w.Body.String() != "u42" {
				t.Fatalf("GET /api/users/42 = %d %q, want 200 \"u42\"", w.Code, w.Body.String())
			}
		})
	}
}

// Regression: Handler not at the root (in a sub-router's Use stack, or inline): the
// look-ahead appends the whole route from the root on top of the patterns
// chi has already recorded, so the callbacks see a doubled pattern.
func TestHandlerBelowRootCallbacksSeeThePattern(t *testing.T) {
	for _, how := range []string{"sub-router", "inline"} {
		t.Run(how, func(t *testing.T) {
			var mu sync.Mutex
			var seen string
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"),
				chilimit.WithKeyFunc(func(r *http.Request) string {
					mu.Lock()
					defer mu.Unlock()
					seen = chi.RouteContext(r.Context()).RoutePattern()
					return "k"
				}))
			r := chi.NewRouter()
			if how == "sub-router" {
				r.Route("/api", func(api chi.Router) { api.Use(lim.Handler); api.Get("/x/{id}", text("x")) })
			} else {
				r.With(lim.Handler).Get("/api/x/{id}", text("x"))
			}
			if w := get(r, "/api/x/1"); w.Code != 200 {
				t.Fatalf("GET = %d", w.Code)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen != "/api/x/{id}" {
				t.Fatalf("key function saw RoutePattern %q, want %q", seen, "/api/x/{id}")
			}
		})
	}
}

// Regression: A panic in a marker that borrowed the state through the handoff table
// (a writer wrapper without Unwrap between Handler and the marker) never
// calls giveBack: Handler's recover calls drop, which waits on the
// WaitGroup for good. The request never ends; Recoverer never answers.
func TestPanicInBorrowingMarkerEnds(t *testing.T) {
	lim, _ := newLimiter(t)
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, lim.Handler, hideWriter)
	r.With(lim.Limit("10/hour", chilimit.CostFunc(func(*http.Request) int64 { panic("cost func") }))).Get("/x", text("x"))
	if code := serveWithin(t, r, "/x", 3*time.Second); code != 500 {
		t.Fatalf("code %d, want 500", code)
	}
}

// Regression: The detached context lives in the pooled writer: once the request is
// over it is reset (parent = nil) and reused. A storage that keeps the
// context it was given (async audit, tracing spans, a goroutine that
// outlives the call) gets a nil-pointer panic, or another request's values.
// context.WithoutCancel's context stayed valid.
type keepCtxStorage struct {
	limiter.Storage
	mu   sync.Mutex
	ctxs []context.Context
}

func (s *keepCtxStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	s.mu.Lock()
	s.ctxs = append(s.ctxs, ctx)
	s.mu.Unlock()
	return s.Storage.AcquireFixedWindow(ctx, r, elastic)
}

type ctxKey struct{}

func TestDetachedContextOutlivesRequest(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	store := &keepCtxStorage{Storage: newSharedMemory(t, clock)}
	lim, err := chilimit.New(chilimit.WithClock(clock), chilimit.WithStorage(store), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	always := func(*http.Request, int) bool { return true }
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "v")))
		})
	})
	r.Use(lim.Handler)
	r.With(lim.Limit("10/hour", chilimit.DeductWhen(always))).Get("/x", text("x"))
	if w := get(r, "/x"); w.Code != 200 {
		t.Fatalf("GET /x = %d", w.Code)
	}
	store.mu.Lock()
	ctxs := append([]context.Context(nil), store.ctxs...)
	store.mu.Unlock()
	if len(ctxs) == 0 {
		t.Fatal("no storage call recorded")
	}
	for i, ctx := range ctxs {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("storage call %d: ctx.Value after the request panics: %v", i, p)
				}
			}()
			if v := ctx.Value(ctxKey{}); v != "v" {
				t.Errorf("storage call %d: ctx.Value = %v, want \"v\"", i, v)
			}
		}()
	}
}

// Regression: isOwnHandler is per limiter, but buildIndex's root-stack scan still
// takes any limiter's Handler for its own: another limiter's Handler before
// StripSlashes makes this one warn although its own Handler comes after.
func TestPathRewriteWarningOtherLimitersHandler(t *testing.T) {
	var buf syncBuffer
	l1, _ := newLimiter(t, chilimit.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	l2, _ := newLimiter(t)
	r := chi.NewRouter()
	r.Use(l2.Handler, middleware.StripSlashes, l1.Handler)
	r.Get("/x", text("x"))
	get(r, "/x")
	if strings.Contains(buf.String(), "path-rewriting middleware runs after") {
		t.Fatalf("l1 warns about StripSlashes after its Handler, though it runs before: %s", buf.String())
	}
}
