package chilimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the router and the limiter, not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchRouter(b *testing.B, setup func(r chi.Router)) {
	b.Helper()
	r := chi.NewRouter()
	setup(r)
	req := httptest.NewRequest(http.MethodGet, "/users/42", nil)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		r.ServeHTTP(w, req)
	}
}

func benchLimiter(b *testing.B, opts ...chilimit.Option) *chilimit.Limiter {
	mem, err := memory.New(memory.WithSweepInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	l, err := chilimit.New(append([]chilimit.Option{chilimit.WithStorage(mem), chilimit.WithClock(limiter.SystemClock)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close(); _ = mem.Close() })
	return l
}

func ok(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }

// BenchmarkBareRouter is the baseline: chi alone.
func BenchmarkBareRouter(b *testing.B) {
	benchRouter(b, func(r chi.Router) {
		r.Get("/users/{id}", ok)
	})
}

// BenchmarkHandlerRouteLimit is lim.Handler plus one route limit, headers on.
func BenchmarkHandlerRouteLimit(b *testing.B) {
	lim := benchLimiter(b, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1000000000/day"))
	benchRouter(b, func(r chi.Router) {
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1000000000/second")).Get("/users/{id}", ok)
	})
}

// BenchmarkHandlerDefaultLimit is lim.Handler with one default limit,
// headers on.
func BenchmarkHandlerDefaultLimit(b *testing.B) {
	lim := benchLimiter(b, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1000000000/second"))
	benchRouter(b, func(r chi.Router) {
		r.Use(lim.Handler)
		r.Get("/users/{id}", ok)
	})
}

// BenchmarkHandlerRouteLimitNoHeaders is BenchmarkHandlerRouteLimit with
// headers off.
func BenchmarkHandlerRouteLimitNoHeaders(b *testing.B) {
	lim := benchLimiter(b)
	benchRouter(b, func(r chi.Router) {
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1000000000/second")).Get("/users/{id}", ok)
	})
}

// BenchmarkHandlerExempt is lim.Handler on an exempt route.
func BenchmarkHandlerExempt(b *testing.B) {
	lim := benchLimiter(b, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1000000000/second"))
	benchRouter(b, func(r chi.Router) {
		r.Use(lim.Handler)
		r.With(chilimit.Exempt).Get("/users/{id}", ok)
	})
}
