package bench_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/storage/memory"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/throttled/throttled/v2"
	"github.com/ulule/limiter/v3/drivers/middleware/stdlib"
)

// httpQuota is the limit every HTTP scenario runs under: never reached, so
// every request reaches the handler.
var httpQuota = quota{amount: 1_000_000_000, window: time.Hour}

// httpRoute and httpPath are the route every router serves and the path
// every request asks for.
const (
	httpRoute = "/users/{id}"
	httpPath  = "/users/42"
)

// ok is the handler behind every router: it writes "ok".
func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// A router is one HTTP setup under test: a chi router with a library's
// middleware in front of the route.
type router struct {
	name string
	make func(tb testing.TB) http.Handler
}

// ourLimiter returns a chilimit Limiter on a fresh memory storage with a
// default limit (which the route limit replaces) and opts.
func ourLimiter(tb testing.TB, opts ...chilimit.Option) *chilimit.Limiter {
	mem, err := memory.New()
	if err != nil {
		tb.Fatal(err)
	}
	spec := httpQuota.limit().String()
	lim, err := chilimit.New(append([]chilimit.Option{chilimit.WithStorage(mem), chilimit.WithDefaultLimits(spec)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = lim.Close(); _ = mem.Close() })
	return lim
}

// ourRouter is lim.Handler on the router and a route limit on the route, as
// the chilimit documentation shows.
func ourRouter(headers bool) func(tb testing.TB) http.Handler {
	return func(tb testing.TB) http.Handler {
		lim := ourLimiter(tb, chilimit.WithHeaders(headers))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(lim.Limit(httpQuota.limit().String())).Get(httpRoute, ok)
		return r
	}
}

// peerRouter puts mw in front of every route, as each peer's README does.
func peerRouter(mw func(http.Handler) http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(mw)
	r.Get(httpRoute, ok)
	return r
}

// remoteHost keys a request by its TCP peer address, as chilimit's default.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

var routers = []router{
	{name: "bare-chi", make: func(testing.TB) http.Handler {
		r := chi.NewRouter()
		r.Get(httpRoute, ok)
		return r
	}},
	{name: "limits-go:headers-on", make: ourRouter(true)},
	{name: "limits-go:headers-off", make: ourRouter(false)},
	{name: "httprate", make: func(testing.TB) http.Handler {
		return peerRouter(httprate.LimitBy(int(httpQuota.amount), httpQuota.window, func(r *http.Request) (string, error) {
			return httprate.CanonicalizeIP(remoteHost(r)), nil
		}))
	}},
	{name: "ulule", make: func(testing.TB) http.Handler {
		return peerRouter(stdlib.NewMiddleware(newUluleLimiter(httpQuota)).Handler)
	}},
	{name: "sethvargo", make: func(tb testing.TB) http.Handler {
		mw, err := httplimit.NewMiddleware(newSethvargoStore(tb, httpQuota), httplimit.IPKeyFunc())
		if err != nil {
			tb.Fatal(err)
		}
		return peerRouter(mw.Handle)
	}},
	{name: "throttled", make: func(tb testing.TB) http.Handler {
		h := &throttled.HTTPRateLimiterCtx{RateLimiter: newThrottledMem(tb, httpQuota), VaryBy: &throttled.VaryBy{RemoteAddr: true}}
		return peerRouter(h.RateLimit)
	}},
	{name: "x-time-rate", make: func(testing.TB) http.Handler {
		rm := newRateMap(httpQuota)
		return peerRouter(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !rm.allow(remoteHost(r)) {
					http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
	}},
}

// BenchmarkHTTP measures one request through each router, named
// HTTP/route-limit/<serial|parallel>/<library>. A library's overhead is its
// ns/op minus bare-chi's.
func BenchmarkHTTP(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		mode := "serial"
		if parallel {
			mode = "parallel"
		}
		for _, rt := range routers {
			b.Run("route-limit/"+mode+"/"+rt.name, func(b *testing.B) {
				benchServe(b, rt.make(b), parallel)
			})
		}
	}
}

// newRequest returns the request every router serves: GET /users/42 from
// 192.0.2.1.
func newRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, httpPath, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	return req
}

func benchServe(b *testing.B, h http.Handler, parallel bool) {
	// Check the router answers before timing it.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest())
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		b.Fatalf("GET %s = %d %q, want 200 \"ok\"", httpPath, rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		req, w := newRequest(), &discardWriter{h: make(http.Header)}
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		req, w := newRequest(), &discardWriter{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}

// addedAllocs returns the allocations one request through h makes beyond
// one through the bare router.
func addedAllocs(tb testing.TB, h http.Handler) float64 {
	return serveAllocs(h) - serveAllocs(routers[0].make(tb))
}

// serveAllocs returns the average allocations of one request through h.
func serveAllocs(h http.Handler) float64 {
	req, w := newRequest(), &discardWriter{h: make(http.Header)}
	return testing.AllocsPerRun(1000, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
}
