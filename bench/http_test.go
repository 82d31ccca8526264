package bench_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
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

// An httpScenario is one shape of HTTP traffic: how many clients the
// requests come from, round-robin.
type httpScenario struct {
	name    string
	clients int
}

var httpScenarios = []httpScenario{
	// Every request from 192.0.2.1. chilimit keeps the storage keys of the
	// last 1,024 or so (limit, client) pairs, so this client's key is always
	// cached.
	{name: "one-client", clients: 1},
	// 10,000 clients, 10.x.y.z as in benchKeys: far more than chilimit's
	// key cache holds, so nearly every request builds its storage key.
	{name: "10000-clients", clients: 10_000},
}

// BenchmarkHTTP measures one request through each router, named
// HTTP/<scenario>/<serial|parallel>/<library>. A library's overhead is its
// ns/op minus bare-chi's; its added allocations, its mallocs/op minus
// bare-chi's. Every client takes a request before the timer starts, and a
// response other than 200 fails the benchmark, whatever the library.
func BenchmarkHTTP(b *testing.B) {
	for _, sc := range httpScenarios {
		for _, parallel := range []bool{false, true} {
			mode := "serial"
			if parallel {
				mode = "parallel"
			}
			for _, rt := range routers {
				b.Run(sc.name+"/"+mode+"/"+rt.name, func(b *testing.B) {
					benchServe(b, rt, sc, parallel)
				})
			}
		}
	}
}

// newRequest returns the request of the one-client scenario: GET /users/42
// from 192.0.2.1.
func newRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, httpPath, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	return req
}

// manyClients holds GET /users/42 from each of the 10,000 clients, built once:
// the routers only read a request, so the workers of a parallel run share
// them.
var manyClients = sync.OnceValue(func() []*http.Request {
	reqs := make([]*http.Request, 10_000)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, httpPath, nil)
		reqs[i].RemoteAddr = net.JoinHostPort(clientIP(i), "1234")
	}
	return reqs
})

// clientRequests returns one request from each of n clients: a fresh one
// from 192.0.2.1 when n is 1, else the shared requests of the first n of
// the 10,000 clients.
func clientRequests(n int) []*http.Request {
	if n == 1 {
		return []*http.Request{newRequest()}
	}
	return manyClients()[:n]
}

// serve sends req through h into w, reused, and returns the status.
func serve(h http.Handler, w *discardWriter, req *http.Request) int {
	clear(w.h)
	w.status = 0
	h.ServeHTTP(w, req)
	if w.status == 0 {
		return http.StatusOK // the handler wrote without WriteHeader
	}
	return w.status
}

func benchServe(b *testing.B, rt router, sc httpScenario, parallel bool) {
	h := rt.make(b)
	// Check the router answers, then give every client its first request.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest())
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		b.Fatalf("%s: GET %s = %d %q, want 200 \"ok\"", rt.name, httpPath, rec.Code, rec.Body.String())
	}
	w := &discardWriter{h: make(http.Header)}
	for _, req := range clientRequests(sc.clients) {
		if code := serve(h, w, req); code != http.StatusOK {
			b.Fatalf("%s: GET %s from %s = %d, want 200", rt.name, httpPath, req.RemoteAddr, code)
		}
	}
	var failed failures
	runOps(b, parallel, func(worker int) func() {
		reqs, w := clientRequests(sc.clients), &discardWriter{h: make(http.Header)}
		i := worker * 7919 % len(reqs)
		return func() {
			if code := serve(h, w, reqs[i]); code != http.StatusOK {
				failed.add(fmt.Errorf("GET %s from %s = %d, want 200", httpPath, reqs[i].RemoteAddr, code))
			}
			if i++; i == len(reqs) {
				i = 0
			}
		}
	})
	failed.check(b, rt.name)
}

// requestMallocs returns the heap objects n requests through h allocate,
// exactly (see exactMallocs): requests from each of clients in turn, after
// each client's first; n is a whole number of rounds, at least 1,000.
func requestMallocs(h http.Handler, clients int) (total int64, n int) {
	reqs, w := clientRequests(clients), &discardWriter{h: make(http.Header)}
	for _, req := range reqs {
		serve(h, w, req)
	}
	n = len(reqs) * max(1, 1000/len(reqs))
	i := 0
	total = int64(exactMallocs(n, func() {
		serve(h, w, reqs[i])
		if i++; i == len(reqs) {
			i = 0
		}
	}))
	return total, n
}
