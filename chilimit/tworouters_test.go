package chilimit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/limiter"
)

// TestOneLimiterTwoRouters: a Limiter whose Handler runs on two root
// routers (two servers, or routers behind an http.ServeMux) keeps an index
// for each. It kept one, and rebuilt it on every request that came to the
// other router: a walk of every route, with hundreds of allocations, under
// the index lock, per request.
func TestOneLimiterTwoRouters(t *testing.T) {
	lim, err := New(WithClock(limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))),
		WithDefaultLimits("2/minute"))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mk := func() *chi.Mux {
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/d", ok)
		r.With(Limit("1/minute")).Get("/l", ok)
		return r
	}
	a, b := mk(), mk()
	code := func(r http.Handler, path, addr string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}
	// Both routers' limits hold (default limits are per route pattern, so
	// the two routers' "/d" share a bucket, as would two servers' of one
	// application).
	for i, want := range []int{200, 200, 429} {
		r := []http.Handler{a, b, a}[i]
		if got := code(r, "/d", "192.0.2.1:1"); got != want {
			t.Fatalf("request %d to /d = %d, want %d", i, got, want)
		}
	}
	if got := code(a, "/l", "192.0.2.2:1"); got != 200 {
		t.Fatalf("first /l on router a = %d, want 200", got)
	}
	if got := code(b, "/l", "192.0.2.2:1"); got != 429 {
		t.Fatalf("second /l on router b = %d, want 429", got)
	}
	before := lim.idx.Load()
	for i := range 20 {
		r := []http.Handler{a, b}[i%2]
		code(r, "/d", "192.0.2.3:1")
		if idx := lim.idx.Load(); idx != before {
			t.Fatalf("request %d, to router %c, rebuilt the route index; want one index per router, built once", i, "ab"[i%2])
		}
	}
}
