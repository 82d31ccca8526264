package chilimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"
)

// BenchmarkLookAhead measures how lim.Handler finds a route's index entry
// before chi routes the request: chi's Find on a router of about 60 routes
// with a mounted sub-router, plus the index lookup.
func BenchmarkLookAhead(b *testing.B) {
	l, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := chi.NewRouter()
	r.Use(l.Handler)
	for i := range 50 {
		r.With(Limit("10/second")).Get("/static"+strconv.Itoa(i), func(http.ResponseWriter, *http.Request) {})
	}
	r.Route("/api", func(r chi.Router) {
		r.Use(Limit("100/minute"))
		r.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {})
		r.Get("/users/{id}/posts/{post}", func(http.ResponseWriter, *http.Request) {})
		r.With(Exempt).Get("/health", func(http.ResponseWriter, *http.Request) {})
	})
	for _, path := range []string{"/static7", "/api/users/42/posts/7"} {
		b.Run(path, func(b *testing.B) {
			rctx := chi.NewRouteContext()
			rctx.Routes = r
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req = req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx))
			pattern, e, _, _ := l.lookup(req)
			if pattern == "" || e == nil || len(e.active) == 0 {
				b.Fatalf("lookup(%s) = %q, %v", path, pattern, e)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				l.lookup(req)
			}
		})
		b.Run(path+"/uncached", func(b *testing.B) {
			idx := l.index(r, false)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				l.resolve(r, idx, http.MethodGet, path)
			}
		})
	}
}
