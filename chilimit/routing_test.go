package chilimit_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
)

// 404 and 405 responses are never counted, under the root router or inside
// a limited sub-router.
func TestNotFoundAndMethodNotAllowedAreNotCounted(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithApplicationLimits("2/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	r.With(chilimit.Limit("1/hour")).Route("/api", func(r chi.Router) {
		r.Get("/items", text("items"))
	})
	steps := concat(
		repeat(5, step{path: "/nope", code: 404}),
		repeat(5, step{method: "POST", path: "/", code: 405}),
		repeat(5, step{path: "/api/nope", code: 404}),
		repeat(5, step{method: "DELETE", path: "/api/items", code: 405}),
		[]step{{path: "/", code: 200}, {path: "/api/items", code: 200}, {path: "/api/items", code: 429}},
	)
	run(t, r, clock, steps)
}

// Route identity is the chi pattern: /users/{id} is one route.
func TestRouteIdentityIsThePattern(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/users/{id}", text("user"))
	r.Get("/users/{id}/posts", text("posts"))
	run(t, r, clock, []step{
		{path: "/users/1", code: 200}, {path: "/users/2", code: 200}, {path: "/users/3", code: 429},
		{path: "/users/1/posts", code: 200},
	})
}

// Path-rewriting middleware before lim.Handler: the limiter looks up the
// path chi will route.
func TestPathRewritingBeforeHandler(t *testing.T) {
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"StripSlashes": middleware.StripSlashes,
		"CleanPath":    middleware.CleanPath,
	} {
		t.Run(name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
			r := chi.NewRouter()
			r.Use(mw, lim.Handler)
			r.With(chilimit.Limit("1/hour")).Get("/a/b", text("ab"))
			path := "/a/b/"
			if name == "CleanPath" {
				path = "/a//b"
			}
			run(t, r, clock, []step{{path: "/a/b", code: 200}, {path: path, code: 429, body: "1 per 1 hour"}})
		})
	}
}

// HEAD falls back to GET routes through middleware.GetHead, before or
// after lim.Handler, and counts against the GET route.
func TestHeadFallsBackToGet(t *testing.T) {
	for _, order := range []string{"GetHead first", "lim.Handler first"} {
		t.Run(order, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
			r := chi.NewRouter()
			if order == "GetHead first" {
				r.Use(middleware.GetHead, lim.Handler)
			} else {
				r.Use(lim.Handler, middleware.GetHead)
			}
			r.With(chilimit.Limit("2/hour")).Get("/", text("ok"))
			run(t, r, clock, []step{{method: "HEAD", path: "/", code: 200}, {path: "/", code: 200}, {method: "HEAD", path: "/", code: 429}})
		})
	}
	t.Run("without GetHead HEAD is a 405, not counted", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour")).Get("/", text("ok"))
		run(t, r, clock, []step{{method: "HEAD", path: "/", code: 405}, {path: "/", code: 200}})
	})
}

// Find reports a mount's own path ("/api", "/api/") as a stub pattern; the
// limiter resolves it to the sub-router's "/" route (or the mounted
// handler's wildcard).
func TestMountStubs(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
	api := chi.NewRouter()
	api.With(chilimit.Limit("1/hour")).Get("/", text("api root"))
	api.Get("/x", text("x"))
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("file")) })
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/api", api)
	r.With(chilimit.Limit("2/hour")).Mount("/static", files)
	run(t, r, clock, []step{
		{path: "/api", code: 200, body: "api root"},
		{path: "/api/", code: 429, body: "1 per 1 hour"},
		{path: "/api/x", code: 200},
		{path: "/static", code: 200, body: "file"},
		{path: "/static/a.css", code: 200},
		{path: "/static/", code: 429, body: "2 per 1 hour"},
	})
}

// Limits on Mount, Route, Group and With chains, nested, each counted per
// route pattern; an inner limit overrides the defaults like an outer one.
func TestSubRouterChains(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/second"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/v1", func(r chi.Router) {
		r.Use(chilimit.Limit("3/hour"))
		r.Get("/a", text("a"))
		r.Group(func(r chi.Router) {
			r.Use(chilimit.Limit("1/minute", chilimit.OverrideDefaults(false)))
			r.Get("/b", text("b"))
		})
		r.With(chilimit.Limit("2/minute")).Route("/inner", func(r chi.Router) {
			r.Get("/c", text("c"))
		})
	})
	run(t, r, clock, []step{
		{path: "/v1/a", code: 200}, {path: "/v1/a", code: 200}, {path: "/v1/a", code: 200},
		{path: "/v1/a", code: 429, body: "3 per 1 hour"},
		// /b: 3/hour + 1/minute, defaults overridden by the router's 3/hour.
		{path: "/v1/b", code: 200}, {path: "/v1/b", code: 429, body: "1 per 1 minute"},
		// /inner/c: 3/hour (outer) and 2/minute.
		{path: "/v1/inner/c", code: 200}, {path: "/v1/inner/c", code: 200},
		{path: "/v1/inner/c", code: 429, body: "2 per 1 minute"},
		{path: "/v1/inner/c", advance: time.Minute, code: 200},
		{path: "/v1/inner/c", advance: time.Minute, code: 429, body: "3 per 1 hour"},
	})
}

// Nested exemptions: an exemption covers the sub-router's own routes, and
// its descendants only with ExemptDescendants; ExemptAncestors lifts the
// limits of enclosing routers but not the exempted level's own.
func TestNestedExemptions(t *testing.T) {
	build := func(scope chilimit.ExemptScope) http.Handler {
		lim, _ := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithApplicationLimits("1000/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour", chilimit.OverrideDefaults(false))).Route("/outer", func(r chi.Router) {
			r.Get("/x", text("outer x"))
			r.Route("/mid", func(r chi.Router) {
				r.Use(chilimit.ExemptFrom(scope))
				r.Get("/x", text("mid x"))
				r.With(chilimit.Limit("2/hour")).Get("/own", text("own"))
				r.Route("/deep", func(r chi.Router) {
					r.Get("/x", text("deep x"))
				})
			})
		})
		return r
	}
	count := func(h http.Handler, path string) int {
		for i := 0; i < 5; i++ {
			if get(h, path).Code == 429 {
				return i
			}
		}
		return 5
	}
	cases := []struct {
		scope                    chilimit.ExemptScope
		outerX, midX, own, deepX int
	}{
		{chilimit.ExemptAll, 1, 5, 2, 5},
		{chilimit.ExemptAll &^ chilimit.ExemptDescendants, 1, 5, 2, 1},
		{chilimit.ExemptDefault | chilimit.ExemptApplication, 1, 1, 1, 1}, // the outer 1/hour still applies
		{chilimit.ExemptAncestors | chilimit.ExemptDescendants, 1, 1, 2, 1},
	}
	for _, c := range cases {
		h := build(c.scope)
		got := [4]int{count(h, "/outer/x"), count(h, "/outer/mid/x"), count(h, "/outer/mid/own"), count(h, "/outer/mid/deep/x")}
		want := [4]int{c.outerX, c.midX, c.own, c.deepX}
		if got != want {
			t.Errorf("scope %b: allowed (outer/x, mid/x, mid/own, mid/deep/x) = %v, want %v", c.scope, got, want)
		}
	}
}

// A root-level exemption lifts the defaults for every route; Limit still
// applies where declared.
func TestStaticFilesExempt(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Exempt).Handle("/static/*", http.StripPrefix("/static/", http.FileServer(http.Dir("testdata"))))
	r.Get("/", text("index"))
	run(t, r, clock, concat(repeat(3, step{path: "/static/hello.txt", code: 200, body: "hello"}), []step{{path: "/", code: 200}, {path: "/", code: 429}}))
}

// Routes registered after the first request are indexed on sight.
func TestRoutesAddedLater(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("5/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{{path: "/", code: 200}, {path: "/later", code: 404}, {path: "/later", code: 404}})
	r.With(chilimit.Limit("1/hour")).Get("/later", text("later"))
	r.With(chilimit.Exempt).Get("/free", text("free"))
	run(t, r, clock, concat([]step{{path: "/later", code: 200}, {path: "/later", code: 429, body: "1 per 1 hour"}},
		repeat(7, step{path: "/free", code: 200})))
}

// A sub-router's "/" route registered after the first request serves the
// mount's own paths, counted as one route. The look-up of a route the index
// did not know yet recursed without end here, and the stack overflow killed
// the process.
func TestSubRouterRootAddedLater(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	var api chi.Router
	r.Route("/api", func(a chi.Router) { api = a; a.Get("/x", text("x")) })
	run(t, r, clock, []step{{path: "/api/x", code: 200}, {path: "/api", code: 404}})
	api.Get("/", text("api"))
	run(t, r, clock, []step{{path: "/api", code: 200, body: "api"}, {path: "/api/", code: 200}, {path: "/api", code: 429}})
}

// A route of its own beside a wildcard route ("/files" and "/files/*") is
// its own route, not the wildcard's mount path.
func TestRouteBesideWildcardRoute(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Exempt).Get("/files/*", text("file"))
	r.Get("/files", text("listing"))
	run(t, r, clock, concat(repeat(2, step{path: "/files/a", code: 200, body: "file"}),
		[]step{{path: "/files", code: 200, body: "listing"}, {path: "/files", code: 429}}))
}

// A route registered after the first request beside a wildcard route
// ("/files" beside "/files/*") is its own route, not the wildcard's: a
// plain wildcard route is no mount, whose own path its handler serves.
func TestRouteAddedLaterBesideWildcardRoute(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Exempt).Get("/files/*", text("file"))
	run(t, r, clock, []step{{path: "/files/a", code: 200, body: "file"}})
	r.Get("/files", text("listing"))
	run(t, r, clock, []step{
		{path: "/files", code: 200, body: "listing"},
		{path: "/files", code: 429, body: "1 per 1 hour"},
	})
}

var standaloneRuns atomic.Int64

// Limit works without a Limiter upstream (process-wide in-memory limiter
// keyed by remote address), and lim.Limit binds to its limiter.
func TestLimitWithoutHandler(t *testing.T) {
	// The process-wide limiter outlives the test: use a path of its own.
	path := fmt.Sprintf("/standalone-%d", standaloneRuns.Add(1))
	r := chi.NewRouter()
	r.With(chilimit.Limit("1/hour")).Get(path, text("ok"))
	if a, b := get(r, path).Code, get(r, path).Code; a != 200 || b != 429 {
		t.Fatalf("codes = %d, %d; want 200, 429", a, b)
	}
	if c := get(r, path, from("10.1.1.1:1")).Code; c != 200 {
		t.Fatalf("other address = %d, want 200", c)
	}

	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	other, _ := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	r = chi.NewRouter()
	r.Use(other.Handler) // a different limiter upstream does not take it over
	r.With(lim.Limit("1/hour")).Get("/bound", text("ok"))
	run(t, r, clock, []step{{path: "/bound", code: 200, headers: map[string]string{"X-RateLimit-Limit": "1"}}, {path: "/bound", code: 429}})
}

// Path-rewriting middleware after lim.Handler is reported once.
func TestPathRewritingAfterHandlerWarns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route func(r chi.Router)
	}{
		{"StripSlashes after Handler", func(r chi.Router) { r.Use(middleware.StripSlashes); r.Get("/a", text("a")) }},
		{"URLFormat after Handler", func(r chi.Router) { r.Use(middleware.URLFormat); r.Get("/a", text("a")) }},
		{"StripSlashes on a sub-router", func(r chi.Router) {
			r.Get("/a", text("a"))
			r.Route("/api", func(api chi.Router) { api.Use(middleware.StripSlashes); api.Get("/x", text("x")) })
		}},
		{"URLFormat on a sub-router", func(r chi.Router) {
			r.Get("/a", text("a"))
			r.Route("/api", func(api chi.Router) { api.Use(middleware.URLFormat); api.Get("/x", text("x")) })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := new(syncBuffer)
			lim, clock := newLimiter(t, chilimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			tc.route(r)
			run(t, r, clock, []step{{path: "/a", code: 200}, {path: "/a", code: 200}})
			if n := strings.Count(logs.String(), "path-rewriting middleware"); n != 1 {
				t.Fatalf("warnings = %d, want 1; log: %s", n, logs)
			}
		})
	}
}

// Markers and exemptions wrapped directly around a handler or a mounted
// sub-router, instead of sitting in a With chain, work as in the chain:
// a route limit replaces the defaults, and an exemption exempts.
func TestMarkersWrappedAroundHandlers(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	api := chi.NewRouter()
	api.Get("/a", text("a"))
	free := chi.NewRouter()
	free.Get("/f", text("f"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Handle("/x", chilimit.Limit("3/hour")(text("x")))
	r.Method(http.MethodGet, "/both", chilimit.Limit("3/hour", chilimit.OverrideDefaults(false))(text("both")))
	r.With(chilimit.Limit("5/hour")).Method(http.MethodGet, "/nested", chilimit.Limit("2/hour")(text("n")))
	r.Handle("/ping", chilimit.Exempt(text("pong")))
	r.Mount("/api", chilimit.Limit("2/hour")(api))
	r.Mount("/free", chilimit.Exempt(free))
	run(t, r, clock, concat(
		repeat(3, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "3 per 1 hour"}},
		[]step{{path: "/both", code: 200}, {path: "/both", code: 429, body: "1 per 1 hour"}},
		repeat(2, step{path: "/nested", code: 200}), []step{{path: "/nested", code: 429, body: "2 per 1 hour"}},
		repeat(3, step{path: "/ping", code: 200}),
		repeat(2, step{path: "/api/a", code: 200}), []step{{path: "/api/a", code: 429, body: "2 per 1 hour"}},
		repeat(3, step{path: "/free/f", code: 200}),
	))
}

// A marker wrapping a handler the index cannot see into is still
// enforced, and does not make the index rebuild on every request.
func TestMarkerOutsideTheIndex(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	limited := chilimit.Limit("2/hour")(text("sub"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	// A closure: nothing outside it can tell that it holds a marker.
	r.Handle("/x", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { limited.ServeHTTP(w, req) }))
	// The headers show that lim, not the process-wide limiter, enforces it.
	run(t, r, clock, []step{
		{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "2"}},
		{path: "/x", code: 200}, {path: "/x", code: 429, body: "2 per 1 hour"},
	})
}

// hidingWriter wraps a ResponseWriter without an Unwrap method, as
// http.TimeoutHandler's writer and many older middlewares do.
type hidingWriter struct{ http.ResponseWriter }

func hideWriter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(hidingWriter{w}, r) })
}

// Route markers behind a writer wrapper that hides lim.Handler's writer
// still work with the Handler's state: its defaults, its key function, its
// storage.
func TestMarkersBehindAWriterWithoutUnwrap(t *testing.T) {
	timeout := func(next http.Handler) http.Handler { return http.TimeoutHandler(next, time.Minute, "timeout") }
	for name, hide := range map[string]func(http.Handler) http.Handler{"plain wrapper": hideWriter, "TimeoutHandler": timeout} {
		t.Run(name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true),
				chilimit.WithKeyFunc(func(r *http.Request) string { return r.Header.Get("X-User") }))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Use(hide)
			r.With(lim.Limit("5/hour", chilimit.OverrideDefaults(false))).Get("/both", text("ok"))
			r.With(chilimit.Limit("1/hour")).Get("/user", text("ok"))
			alice, bob := header("X-User", "alice"), header("X-User", "bob")
			run(t, r, clock, []step{
				// The defaults still apply beside the route limit.
				{path: "/both", opts: []reqOpt{alice}, code: 200},
				{path: "/both", opts: []reqOpt{alice}, code: 429, body: "1 per 1 hour"},
				// An unbound marker uses lim's key function, not the
				// process-wide limiter's remote address.
				{path: "/user", opts: []reqOpt{alice}, code: 200},
				{path: "/user", opts: []reqOpt{bob}, code: 200},
				{path: "/user", opts: []reqOpt{bob}, code: 429},
			})
		})
	}
}

// A TimeoutHandler that answers while a marker behind it is still waiting
// on the storage: the Handler waits for the marker to finish with the
// request's state before it reads or reuses it (run with -race).
func TestMarkerOutlivedByTimeoutHandler(t *testing.T) {
	lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("10/hour"), chilimit.WithStorageTimeout(50*time.Millisecond))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Use(func(next http.Handler) http.Handler { return http.TimeoutHandler(next, 5*time.Millisecond, "timeout") })
	// The route limit replaces the defaults: only the marker calls the storage.
	r.With(chilimit.Limit("5/hour", chilimit.DeductWhen(func(*http.Request, int) bool { return true }))).
		Get("/slow", text("ok"))
	fs.hang.Store(true)
	run(t, r, clock, []step{{path: "/slow", code: http.StatusServiceUnavailable, body: "timeout"}})
	fs.hang.Store(false)
	run(t, r, clock, []step{{path: "/slow", code: 200}})
}

// Markers wrapped directly around a mounted plain handler, such as a file
// server, work as around a mounted sub-router, from the first request and
// at the mount's own path: an exemption exempts, a limit replaces the
// defaults.
func TestMarkersWrappedAroundMountedHandlers(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	files := http.FileServer(http.Dir("testdata"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/static", chilimit.Exempt(http.StripPrefix("/static", files)))
	r.Mount("/files", chilimit.Limit("3/hour")(http.StripPrefix("/files", files)))
	r.With(chilimit.Limit("5/hour")).Mount("/nested", chilimit.Limit("2/hour")(http.StripPrefix("/nested", files)))
	r.Get("/", text("index"))
	run(t, r, clock, concat(
		repeat(4, step{path: "/static/hello.txt", code: 200, body: "hello"}),
		repeat(2, step{path: "/static/", code: 200}),
		repeat(3, step{path: "/files/hello.txt", code: 200, body: "hello"}),
		[]step{{path: "/files/", code: 429, body: "3 per 1 hour"}},
		repeat(2, step{path: "/nested/hello.txt", code: 200}),
		[]step{{path: "/nested/hello.txt", code: 429, body: "2 per 1 hour"}},
		[]step{{path: "/", code: 200}, {path: "/", code: 429, body: "1 per 1 hour"}},
	))
}

// Wrapping a mounted plain handler in a marker makes chi record it as a
// sub-router; chi's Find and Match still report the patterns the bare
// mount has, and chi.Walk the same methods and routes.
func TestWrappedMountRoutesAsBefore(t *testing.T) {
	h := text("h")
	bare, wrapped := chi.NewRouter(), chi.NewRouter()
	bare.Mount("/static", h)
	wrapped.Mount("/static", chilimit.Exempt(h))
	bare.With(middleware.NoCache).Mount("/", h)
	wrapped.With(middleware.NoCache).Mount("/", chilimit.Limit("1/hour")(h))
	for _, path := range []string{"/static", "/static/", "/static/a", "/static/a/b.css", "/", "/x", "/x/y"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			want := bare.Find(chi.NewRouteContext(), method, path)
			if got := wrapped.Find(chi.NewRouteContext(), method, path); got != want {
				t.Errorf("Find(%s %s) = %q, want %q as without the marker", method, path, got, want)
			}
			if got, want := wrapped.Match(chi.NewRouteContext(), method, path), want != ""; got != want {
				t.Errorf("Match(%s %s) = %v, want %v as without the marker", method, path, got, want)
			}
		}
	}
	walk := func(r chi.Routes) []string {
		var out []string
		err := chi.Walk(r, func(method, route string, _ http.Handler, mws ...func(http.Handler) http.Handler) error {
			out = append(out, fmt.Sprintf("%s %s (%d middlewares)", method, route, len(mws)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	if got, want := walk(wrapped), walk(bare); !slices.Equal(got, want) {
		t.Errorf("chi.Walk with markers =\n%v\nwant as without them\n%v", got, want)
	}
}

// chi keeps no trace of where one r.Group (or r.With) ends and a nested
// one begins: a route's Group and With middlewares are one flat
// *chi.ChainHandler, the same for Group{Use(L); Group{Use(E); Get}} as for
// Group{Use(L); Use(E); Get}. So a limit of an enclosing Group counts as
// declared at the exemption's own level, and still applies, as Exempt's
// doc says; r.Route keeps the levels apart. Should chi ever record the
// nesting, the first check fails, and the exemption could lift the limit.
func TestExemptionInNestedGroupIsOneLevel(t *testing.T) {
	limit, exempt := chilimit.Limit("1/hour"), chilimit.Exempt
	nested, flat := chi.NewRouter(), chi.NewRouter()
	nested.Group(func(g chi.Router) {
		g.Use(limit)
		g.Group(func(g chi.Router) { g.Use(exempt); g.Get("/x", text("x")) })
	})
	flat.Group(func(g chi.Router) { g.Use(limit, exempt); g.Get("/x", text("x")) })
	stack := func(r chi.Routes) []uintptr {
		var out []uintptr
		for _, rt := range r.Routes() {
			ch, ok := rt.Handlers[http.MethodGet].(*chi.ChainHandler)
			if !ok {
				t.Fatalf("GET %s is a %T, want a *chi.ChainHandler", rt.Pattern, rt.Handlers[http.MethodGet])
			}
			for _, mw := range ch.Middlewares {
				out = append(out, reflect.ValueOf(mw).Pointer())
			}
		}
		return out
	}
	if a, b := stack(nested), stack(flat); len(a) != 2 || !slices.Equal(a, b) {
		t.Errorf("chi records nested and flat Groups apart (%v, %v): an exemption in a nested Group can now lift the enclosing Group's limits", a, b)
	}

	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Group(func(g chi.Router) {
		g.Use(chilimit.Limit("1/hour"))
		g.Group(func(g chi.Router) { g.Use(chilimit.Exempt); g.Get("/group", text("g")) })
	})
	r.Route("/route", func(s chi.Router) {
		s.Use(chilimit.Limit("1/hour"))
		s.Route("/inner", func(s chi.Router) { s.Use(chilimit.Exempt); s.Get("/", text("r")) })
	})
	run(t, r, clock, concat(
		[]step{{path: "/group", code: 200}, {path: "/group", code: 429, body: "1 per 1 hour"}},
		repeat(3, step{path: "/route/inner/", code: 200}),
	))
}

// middleware.GetHead on a sub-router serves HEAD with the sub-router's GET
// routes; the HEAD counts against the GET route, with Handler at the root
// or with a standalone limit, as it does when GetHead is on the root.
func TestHeadFallsBackToGetInSubRouter(t *testing.T) {
	headThenGet := []step{{method: "HEAD", path: "/api/x", code: 200}, {path: "/api/x", code: 429}}
	// apiV1 mounts v1 at /api/v1, after a root route at rootRoute, with
	// GetHead on /api when outer.
	apiV1 := func(r chi.Router, rootRoute string, outer bool, v1 func(chi.Router)) {
		r.Handle(rootRoute, text("root"))
		r.Route("/api", func(api chi.Router) {
			if outer {
				api.Use(middleware.GetHead)
			}
			api.Route("/v1", v1)
		})
	}
	getHeadX := func(v1 chi.Router) {
		v1.Use(middleware.GetHead)
		v1.Get("/x", text("x"))
	}
	for _, tc := range []struct {
		name     string
		defaults string // "": no Handler
		route    func(r chi.Router, lim *chilimit.Limiter)
		steps    []step
	}{
		{"Handler", "100/hour", func(r chi.Router, _ *chilimit.Limiter) {
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead)
				api.With(chilimit.Limit("2/hour")).Get("/x", text("x"))
			})
		}, []step{{method: "HEAD", path: "/api/x", code: 200}, {path: "/api/x", code: 200}, {method: "HEAD", path: "/api/x", code: 429}}},
		{"Handler defaults", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead)
				api.Get("/x", text("x"))
			})
		}, headThenGet},
		{"GetHead in the mount's With chain", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			r.With(middleware.GetHead).Route("/api", func(api chi.Router) { api.Get("/x", text("x")) })
		}, headThenGet},
		{"standalone, GetHead in the mount's With chain", "", func(r chi.Router, lim *chilimit.Limiter) {
			r.With(lim.Limit("1/hour"), middleware.GetHead).Route("/api", func(api chi.Router) { api.Get("/x", text("x")) })
		}, headThenGet},
		// chi's GetHead on a sub-router asks the root router about the
		// sub-router's own path ("/x"): a root catch-all matches it, so the
		// HEAD stays a HEAD and the sub-router answers 405, not counted.
		{"root catch-all", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			r.Handle("/*", text("spa"))
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead)
				api.Get("/x", text("x"))
			})
		}, []step{{method: "HEAD", path: "/api/x", code: 405}, {path: "/api/x", code: 200}, {path: "/api/x", code: 429}}},
		{"root catch-all, nested sub-router", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			apiV1(r, "/*", false, getHeadX)
		}, []step{{method: "HEAD", path: "/api/v1/x", code: 405}, {path: "/api/v1/x", code: 200}, {path: "/api/v1/x", code: 429}}},
		// An outer GetHead that keeps the HEAD a HEAD (the root's "/v1/*"
		// matches its path "/v1/x") does not stop an inner one from
		// serving it as a GET.
		{"outer GetHead keeps it, inner serves GET", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			apiV1(r, "/v1/*", true, getHeadX)
		}, []step{{method: "HEAD", path: "/api/v1/x", code: 200}, {path: "/api/v1/x", code: 429}}},
		{"outer GetHead keeps it, inner in a mount's With chain serves GET", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			apiV1(r, "/v1/*", true, func(v1 chi.Router) {
				v1.With(middleware.GetHead).Route("/w", func(w chi.Router) { w.Get("/x", text("x")) })
			})
		}, []step{{method: "HEAD", path: "/api/v1/w/x", code: 200}, {path: "/api/v1/w/x", code: 429}}},
		{"standalone, outer GetHead keeps it, inner serves GET", "", func(r chi.Router, lim *chilimit.Limiter) {
			apiV1(r, "/v1/*", true, func(v1 chi.Router) {
				v1.Use(middleware.GetHead, lim.Limit("1/hour"))
				v1.Get("/x", text("x"))
			})
		}, []step{{method: "HEAD", path: "/api/v1/x", code: 200}, {path: "/api/v1/x", code: 429}}},
		{"root route elsewhere", "1/hour", func(r chi.Router, _ *chilimit.Limiter) {
			apiV1(r, "/y", false, getHeadX)
		}, []step{{method: "HEAD", path: "/api/v1/x", code: 200}, {path: "/api/v1/x", code: 429}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []chilimit.Option
			if tc.defaults != "" {
				opts = append(opts, chilimit.WithDefaultLimits(tc.defaults))
			}
			lim, clock := newLimiter(t, opts...)
			r := chi.NewRouter()
			if tc.defaults != "" {
				r.Use(lim.Handler)
			}
			tc.route(r, lim)
			run(t, r, clock, tc.steps)
		})
	}
	for _, order := range []string{"GetHead first", "limit first"} {
		t.Run("standalone, "+order, func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			r.Route("/api", func(api chi.Router) {
				if order == "GetHead first" {
					api.Use(middleware.GetHead, lim.Limit("1/hour"))
				} else {
					api.Use(lim.Limit("1/hour"), middleware.GetHead)
				}
				api.Get("/x", text("x"))
			})
			run(t, r, clock, []step{{method: "HEAD", path: "/api/x", code: 200}, {path: "/api/x", code: 429}})
		})
	}
	t.Run("without GetHead a HEAD is a 405, not counted", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Route("/api", func(api chi.Router) {
			api.Use(lim.Limit("1/hour"))
			api.Get("/x", text("x"))
		})
		r.Route("/other", func(o chi.Router) {
			o.Use(middleware.GetHead)
			o.Get("/x", text("x"))
		})
		run(t, r, clock, []step{{method: "HEAD", path: "/api/x", code: 405}, {path: "/api/x", code: 200}})
	})
}

// A HEAD on a mount's own path ("/api", "/api/") is served by the mounted
// router's "/" route; a GetHead there serves it as the GET route, and the
// HEAD counts against it. chi's GetHead asks the root router about the path
// it routes: on the root that is the mount's path, which the root matches
// for every method, so a GetHead before the mounted router keeps the HEAD a
// HEAD (405, not counted); inside it the path is "/", which a root route
// for HEAD "/" matches.
func TestHeadOnMountPath(t *testing.T) {
	served := func(path string) []step {
		return []step{{method: "HEAD", path: path, code: 200}, {path: path, code: 429}}
	}
	notAllowed := func(path string) []step {
		return []step{{method: "HEAD", path: path, code: 405}, {method: "HEAD", path: path, code: 405}, {path: path, code: 200}, {path: path, code: 429}}
	}
	apiRoot := func(api chi.Router) { api.Get("/", text("api")) }
	for _, tc := range []struct {
		name  string
		route func(r chi.Router)
		steps func(path string) []step
	}{
		{"GetHead in the mounted router", func(r chi.Router) {
			r.Route("/api", func(api chi.Router) { api.Use(middleware.GetHead); apiRoot(api) })
		}, served},
		{"GetHead there, a root GET route for /", func(r chi.Router) {
			r.Get("/", text("home"))
			r.Route("/api", func(api chi.Router) { api.Use(middleware.GetHead); apiRoot(api) })
		}, served},
		{"GetHead there, a root route for every method at /", func(r chi.Router) {
			r.Handle("/", text("home"))
			r.Route("/api", func(api chi.Router) { api.Use(middleware.GetHead); apiRoot(api) })
		}, notAllowed},
		{"GetHead on the root only", func(r chi.Router) {
			r.Use(middleware.GetHead)
			r.Route("/api", apiRoot)
		}, notAllowed},
		{"GetHead in the mount's With chain only", func(r chi.Router) {
			r.With(middleware.GetHead).Route("/api", apiRoot)
		}, notAllowed},
		{"GetHead there, and a HEAD route for / it shadows", func(r chi.Router) {
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead)
				apiRoot(api)
				api.With(chilimit.Exempt).Head("/", text("head"))
			})
		}, served},
		{"a route limit on the mounted router's /", func(r chi.Router) {
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead)
				api.With(chilimit.Limit("1/hour")).Get("/", text("api"))
			})
		}, served},
	} {
		for _, path := range []string{"/api", "/api/"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				defaults := "1/hour"
				if strings.Contains(tc.name, "route limit") {
					defaults = "100/hour"
				}
				lim, clock := newLimiter(t, chilimit.WithDefaultLimits(defaults))
				r := chi.NewRouter()
				r.Use(lim.Handler)
				tc.route(r)
				run(t, r, clock, tc.steps(path))
			})
		}
	}
	// Nested: /api/v1 is the own path of v1, mounted in api. A GetHead in
	// api asks the root about "/v1"; one in v1, about "/".
	for _, where := range []string{"api", "v1"} {
		t.Run("nested, GetHead in "+where, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Route("/api", func(api chi.Router) {
				if where == "api" {
					api.Use(middleware.GetHead)
				}
				api.Route("/v1", func(v1 chi.Router) {
					if where == "v1" {
						v1.Use(middleware.GetHead)
					}
					v1.Get("/", text("v1"))
				})
			})
			run(t, r, clock, served("/api/v1"))
		})
	}
	t.Run("nested, GetHead in api, a root route for HEAD /v1", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Head("/v1", text("v1 at the root"))
		r.Route("/api", func(api chi.Router) {
			api.Use(middleware.GetHead)
			api.Route("/v1", func(v1 chi.Router) { v1.Get("/", text("v1")) })
		})
		run(t, r, clock, notAllowed("/api/v1"))
	})
}

// A GetHead on a sub-router asks the root router about the rest of the
// path, so chi serves a HEAD as the GET route even where the sub-router has
// its own HEAD route, unless the root has a HEAD route for that rest. The
// request counts against the route chi serves.
func TestHeadRouteShadowedByGetHead(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rootHead bool // a root HEAD route for "/x"
		getHead  bool // GetHead on the sub-router
		served   string
	}{
		{"GetHead on the sub-router serves the GET route", false, true, "get"},
		{"a root HEAD route for the rest keeps the HEAD route", true, true, "head"},
		{"without GetHead the HEAD route", false, false, "head"},
	} {
		for _, headLimit := range []string{"exempt", "own limit"} {
			t.Run(tc.name+", HEAD route "+headLimit, func(t *testing.T) {
				lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
				r := chi.NewRouter()
				r.Use(lim.Handler)
				if tc.rootHead {
					r.Head("/x", text("root"))
				}
				r.Route("/api", func(api chi.Router) {
					if tc.getHead {
						api.Use(middleware.GetHead)
					}
					api.Get("/x", text("get"))
					if headLimit == "exempt" {
						api.With(chilimit.Exempt).Head("/x", text("head"))
					} else {
						api.With(chilimit.Limit("5/hour")).Head("/x", text("head"))
					}
				})
				want := map[string]string{"X-Ratelimit-Limit": "1"} // the GET route's defaults
				then := 429
				if tc.served == "head" {
					then = 200 // the HEAD did not count against the GET route
					want["X-Ratelimit-Limit"] = "5"
					if headLimit == "exempt" {
						want["X-Ratelimit-Limit"] = ""
					}
				}
				run(t, r, clock, []step{
					{method: "HEAD", path: "/api/x", code: 200, body: tc.served, headers: want},
					{path: "/api/x", code: then},
				})
			})
		}
	}
}

// A mount's own path that its router does not serve (no "/" route: 404; no
// route for the method: 405) is not counted, in any bucket.
func TestMountOwnPath404And405NotCounted(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithApplicationLimits("3/hour"))
	r := chi.NewRouter()
	r.Use(middleware.GetHead)
	r.Use(lim.Handler)
	r.Get("/", text("home"))
	r.Route("/api", func(r chi.Router) { r.Get("/items", text("items")) })
	r.Route("/v2", func(r chi.Router) { r.Get("/", text("v2 root")) })
	steps := concat(
		repeat(3, step{path: "/api", code: 404}),
		repeat(3, step{path: "/api/", code: 404}),
		repeat(3, step{method: http.MethodPost, path: "/v2", code: 405}),
		repeat(3, step{method: http.MethodHead, path: "/v2", code: 405}),
		[]step{{path: "/", code: 200}, {path: "/api/items", code: 200}, {path: "/api/items", code: 429}},
	)
	run(t, r, clock, steps)
}

// A HEAD route in a sub-router whose GetHead serves HEAD as GET is never
// reached: with no GET route there, chi answers 405, not counted.
func TestHeadOnlyRouteShadowedByGetHeadNotCounted(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(middleware.GetHead)
		r.Head("/ping", text("head ping"))
	})
	run(t, r, clock, repeat(3, step{method: http.MethodHead, path: "/api/ping", code: 405}))
}

// A mounted inline mux (chi.NewRouter().With(...)) runs its middlewares
// once, in each route's chain: its route limit counts, once.
func TestMountedInlineMux(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
	admin := chi.NewRouter().With(chilimit.Limit("1/hour"))
	admin.Get("/", text("admin"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/admin", admin)
	run(t, r, clock, []step{
		{path: "/admin/", code: 200, body: "admin"},
		{path: "/admin/", code: 429, body: "1 per 1 hour"},
	})
}

func TestMountedInlineMuxAddedLimitKeepsDefaults(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	admin := chi.NewRouter().With(chilimit.Limit("100/hour", chilimit.OverrideDefaults(false)))
	admin.Get("/x", text("x"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/admin", admin)
	run(t, r, clock, []step{
		{path: "/admin/x", code: 200, body: "x"},
		{path: "/admin/x", code: 429, body: "1 per 1 hour"},
	})
}

// Two routes with one method and full pattern: a root route "/api/users"
// and a mounted router's "/users" under "/api". chi serves the root's
// (a static segment beats the mount's "/api/*"), so its limits count, not
// those of the route it shadows.
func TestPatternCollisionRootRouteWins(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithApplicationLimits("2/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/users", text("root users")) // what chi serves
	r.Route("/api", func(r chi.Router) {
		r.With(chilimit.Exempt).Get("/users", text("sub users")) // shadowed, never served
	})
	run(t, r, clock, []step{
		{path: "/api/users", code: 200, body: "root users"},
		{path: "/api/users", code: 429, body: "1 per 1 hour"},
	})
}

func TestPatternCollisionLenientShadowedLimit(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/users", text("root users"))
	r.Route("/api", func(r chi.Router) {
		r.With(chilimit.Limit("100/hour")).Get("/users", text("sub users"))
	})
	run(t, r, clock, []step{
		{path: "/api/users", code: 200, body: "root users"},
		{path: "/api/users", code: 429, body: "1 per 1 hour"},
	})
}

// Of two mounts, chi serves the route of the more specific one: "/a/b/c"
// goes to the "/c" of the router at "/a/b", not the "/b/c" of the one at
// "/a".
func TestPatternCollisionBetweenMounts(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/a", func(a chi.Router) { a.With(chilimit.Exempt).Get("/b/c", text("a")) })
	r.Route("/a/b", func(b chi.Router) { b.With(chilimit.Limit("1/hour")).Get("/c", text("b")) })
	r.Route("/x", func(x chi.Router) { x.With(chilimit.Limit("1/hour")).Get("/y/z", text("x")) })
	r.Route("/x/y", func(y chi.Router) { y.With(chilimit.Exempt).Get("/z", text("y")) })
	run(t, r, clock, concat(
		[]step{{path: "/a/b/c", code: 200, body: "b"}, {path: "/a/b/c", code: 429}},
		repeat(3, step{path: "/x/y/z", code: 200, body: "y"}),
	))
}

// A HEAD may take another way than the GET to the same path: the root's
// "/api/{id}" serves GET only, so the HEAD goes on into the router mounted
// at "/api", whose GetHead serves it as that router's GET "/x". It counts
// there, where the GET of the same path goes to the root's route.
func TestHeadTakesItsOwnWayToASubRouterGetHead(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/{id}", text("root item"))
	r.Route("/api", func(r chi.Router) {
		r.Use(middleware.GetHead)
		r.Use(chilimit.Limit("1/hour"))
		r.Get("/x", text("sub x"))
	})
	run(t, r, clock, []step{
		{path: "/api/x", code: 200, body: "root item"}, // GET goes to the root route
		{method: http.MethodHead, path: "/api/x", code: 200, body: "sub x"},
		{method: http.MethodHead, path: "/api/x", code: 429, body: "1 per 1 hour"},
	})
}

// Path-rewriting middleware on a sub-router changes the path after Handler
// looked it up, so Handler takes the request for a 404 (the package doc
// warns of it); the route's own limit, which chi runs all the same, counts
// it on its own.
func TestRouteLimitAfterSubRouterPathRewrite(t *testing.T) {
	for name, tc := range map[string]struct {
		mw   func(http.Handler) http.Handler
		path string
	}{
		"StripSlashes": {middleware.StripSlashes, "/api/items/"},
		"URLFormat":    {middleware.URLFormat, "/api/items.json"},
	} {
		t.Run(name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithApplicationLimits("1/hour"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Route("/api", func(r chi.Router) {
				r.Use(tc.mw)
				r.With(chilimit.Limit("1/hour", chilimit.OverrideDefaults(false))).Get("/items", text("items"))
			})
			run(t, r, clock, []step{
				{path: "/api/items", code: 200, body: "items"},
				{path: tc.path, code: 429},
				{path: tc.path, code: 429},
			})
		})
	}
}

// A 404 inside a mount runs the mounted router's stack, its limit
// included, and is not counted there either.
func TestSubRouterLimitOn404(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(api chi.Router) {
		api.Use(middleware.StripSlashes, chilimit.Limit("1/hour"))
		api.Get("/items", text("items"))
	})
	run(t, r, clock, concat(repeat(3, step{path: "/api/nope", code: 404}),
		[]step{{path: "/api/items/", code: 200}, {path: "/api/items", code: 429}}))
}

// A route of the root's on a path that is also a mount's own is the route
// chi serves there, and counts as such: the root's GET "/" beside a router
// mounted at "/"; a GET "/api" registered after r.Route("/api"); a root
// GET "/api/" registered after it, whose full pattern the mounted router's
// own GET "/" shares (its exemption does not free the root's route).
func TestRootRouteOnAMountsOwnPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route func(r chi.Router)
		steps []step
	}{
		{"beside a mount at /", func(r chi.Router) {
			r.Get("/", text("home"))
			web := chi.NewRouter()
			web.Get("/about", text("about"))
			r.Mount("/", web)
		}, []step{{path: "/", code: 200, body: "home"}, {path: "/", code: 429}, {path: "/about", code: 200, body: "about"}, {path: "/about", code: 429}}},
		{"registered after the mount", func(r chi.Router) {
			r.Route("/api", func(api chi.Router) { api.Get("/items", text("items")) })
			r.Get("/api", text("api index"))
		}, []step{{path: "/api", code: 200, body: "api index"}, {path: "/api", code: 429}}},
		{"sharing the mounted router's / pattern", func(r chi.Router) {
			r.Route("/api", func(api chi.Router) { api.With(chilimit.Exempt).Get("/", text("sub root")) })
			r.Get("/api/", text("root api"))
		}, []step{{path: "/api/", code: 200, body: "root api"}, {path: "/api/", code: 429}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			tc.route(r)
			run(t, r, clock, tc.steps)
		})
	}
}

// A plain handler mounted with a limit wrapped around it shares its full
// pattern with a route of a router mounted at "/"; its limit, not the
// defaults, counts what it serves.
func TestPatternCollisionWithWrappedMountedHandler(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/static", chilimit.Limit("3/hour")(text("files")))
	web := chi.NewRouter()
	web.Get("/static/*", text("web static"))
	r.Mount("/", web)
	run(t, r, clock, concat(
		repeat(3, step{path: "/static/a.css", code: 200, body: "files"}),
		[]step{{path: "/static/a.css", code: 429, body: "3 per 1 hour"}},
	))
}

// A plain http.Handler mounted under a pattern with a regexp parameter is
// a mount all the same: chi serves its own path (/u/5) through it, under
// the exemption or the limit of its With chain.
func TestMountWithParameterOwnPathExempt(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Exempt).Mount("/u/{id:[0-9]+}", text("files"))
	run(t, r, clock, concat(
		repeat(3, step{path: "/u/5/x", code: 200, body: "files"}),
		repeat(3, step{path: "/u/5", code: 200, body: "files"}),
	))
}

// The same mount with a route limit that replaces the defaults.
func TestMountWithParameterOwnPathLimit(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("3/hour")).Mount("/u/{id:[0-9]+}", text("files"))
	run(t, r, clock, concat(
		repeat(3, step{path: "/u/5", code: 200, body: "files"}),
		[]step{{path: "/u/5", code: 429}},
	))
}

// A 404 inside a mount, its path cleaned by CleanPath before Handler, is not
// counted by the mounted router's limit, nor does it drain a shared bucket.
func TestSubRouterLimitOn404AfterCleanPath(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(middleware.CleanPath, lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("1/hour"))
		r.Get("/items", text("items"))
	})
	run(t, r, clock, repeat(3, step{path: "//api/nope", code: 404}))
}

func TestSubRouterSharedLimitOn404AfterCleanPath(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(middleware.CleanPath, lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.SharedLimit("1/hour", "api"))
		r.Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "//api/nope", code: 404},
		{path: "/api/items", code: 200, body: "items"},
	})
}

// Without Handler, a path CleanPath cleaned on the root (//api/items)
// counts in the bucket of the route chi serves (/api/items).
func TestStandaloneLimitAfterCleanPath(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(middleware.CleanPath)
	r.Route("/api", func(r chi.Router) {
		r.Use(lim.Limit("1/hour"))
		r.Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: 200, body: "items"},
		{path: "//api/items", code: 429},
	})
}

// A HEAD a sub-router's GetHead turns into a GET where the sub-router has
// no GET route is a 405, not counted, with Handler or without, though the
// root serves GET for the same path with a route of its own.
func TestHeadTurnedGetWithoutGetRouteNotCounted(t *testing.T) {
	for _, withHandler := range []bool{true, false} {
		t.Run(map[bool]string{true: "Handler", false: "standalone"}[withHandler], func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			if withHandler {
				r.Use(lim.Handler)
			}
			r.Get("/api/{id}", text("root id"))
			r.Route("/api", func(api chi.Router) {
				api.Use(middleware.GetHead, lim.Limit("1/hour"))
				api.Get("/items", text("items"))
			})
			run(t, r, clock, concat(
				repeat(3, step{method: http.MethodHead, path: "/api/5", code: 405}),
				// The 404s must not drain the root route's bucket either.
				[]step{{path: "/api/5", code: 200, body: "root id"}},
			))
		})
	}
}

// A mount's own path its router does not serve (404, 405) runs the mounted
// router's stack, its limit included, and is not counted there.
func TestMountOwnPath404WithMountedRouterLimit(t *testing.T) {
	for _, withHandler := range []bool{true, false} {
		t.Run(map[bool]string{true: "Handler", false: "standalone"}[withHandler], func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			if withHandler {
				r.Use(lim.Handler)
			}
			r.Route("/api", func(api chi.Router) {
				api.Use(lim.Limit("1/hour"))
				api.Get("/items", text("items"))
			})
			r.Route("/v2", func(v2 chi.Router) {
				v2.Use(lim.Limit("1/hour"))
				v2.Get("/", text("v2 root"))
			})
			run(t, r, clock, concat(
				repeat(3, step{path: "/api", code: 404}),
				repeat(3, step{path: "/api/", code: 404}),
				repeat(3, step{method: http.MethodPost, path: "/v2", code: 405}),
				[]step{{path: "/v2", code: 200, body: "v2 root"}, {path: "/v2/", code: 429}},
			))
		})
	}
}

// A limit in a mount's With chain, or wrapped around the mounted router,
// runs on the way to the mounted router's 405 for the mount's own path,
// with Handler or without, and does not count it.
func TestMountOwnPath405NotCountedByMountLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler bool
		wrapped bool   // the limit wraps the router, else it is in the mount's With chain
		method  string // of the 405
		path    string
	}{
		{"With chain", true, false, http.MethodPost, "/api"},
		{"With chain, HEAD", true, false, http.MethodHead, "/api/"},
		{"With chain, no Handler", false, false, http.MethodPost, "/api/"},
		{"wrapped", true, true, http.MethodPost, "/api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			if tc.handler {
				r.Use(lim.Handler)
			}
			api := chi.NewRouter()
			api.Get("/", text("api"))
			if tc.wrapped {
				r.Mount("/api", lim.Limit("2/minute")(api))
			} else {
				r.With(lim.Limit("2/minute")).Mount("/api", api)
			}
			run(t, r, clock, concat(
				repeat(3, step{method: tc.method, path: tc.path, code: http.StatusMethodNotAllowed}),
				repeat(2, step{path: tc.path, code: http.StatusOK, body: "api"}),
				[]step{{path: tc.path, code: http.StatusTooManyRequests}},
			))
		})
	}
}

// A HEAD on a mount's own path that a GetHead in the mounted router
// serves as its GET "/" counts, with Handler or without, wherever the limit
// sits: in the mount's With chain, wrapped around the mounted router, in its
// stack.
func TestHeadOnMountOwnPathCountsWherever(t *testing.T) {
	for _, withHandler := range []bool{false, true} {
		for _, how := range []string{"with chain", "wrapped", "use"} {
			t.Run(fmt.Sprintf("%s, handler %v", how, withHandler), func(t *testing.T) {
				lim, clock := newLimiter(t)
				r := chi.NewRouter()
				if withHandler {
					r.Use(lim.Handler)
				}
				api := chi.NewRouter()
				api.Use(middleware.GetHead)
				switch how {
				case "with chain":
					r.With(lim.Limit("2/minute")).Mount("/api", api)
				case "wrapped":
					r.Mount("/api", lim.Limit("2/minute")(api))
				case "use":
					api.Use(lim.Limit("2/minute"))
					r.Mount("/api", api)
				}
				api.Get("/", text("api"))
				run(t, r, clock, []step{
					{method: http.MethodHead, path: "/api", code: 200},
					{method: http.MethodHead, path: "/api/", code: 200},
					{path: "/api", code: 429},
				})
			})
		}
	}
}

// Routers made, served (their mounts remembered) and dropped from many
// goroutines at once, with Handler and without: every answer is chi's, and
// the race detector finds nothing.
func TestMountsCacheUnderConcurrentRouters(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithDefaultLimits("1000000/hour"))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				r := chi.NewRouter()
				if g%2 == 0 {
					r.Use(lim.Handler)
				}
				api := chi.NewRouter()
				api.Get("/", text("api"))
				api.Get("/items", text("items"))
				r.With(lim.Limit("1000000/hour")).Mount("/api", chilimit.Limit("1000000/hour")(api))
				for p, want := range map[string]int{"/api": 200, "/api/": 200, "/api/items": 200, "/api/nope": 404} {
					if code := serve(r, http.MethodHead, p).Code; code != http.StatusMethodNotAllowed && code != http.StatusNotFound {
						t.Errorf("HEAD %s = %d, want 405 or 404", p, code)
					}
					if code := get(r, p).Code; code != want {
						t.Errorf("GET %s = %d, want %d", p, code, want)
					}
				}
				if i%10 == 0 {
					runtime.GC()
				}
			}
		}(g)
	}
	wg.Wait()
}

// A router the application drops (a reload) is collected, also after
// look-ups that remember its mounts (a HEAD's): with the same limiter
// serving the new router, and with a limiter of its own, bound to a limit
// in the mount's With chain, dropped with it (the remembered chain must
// not hold the router through the limiter).
func TestDiscardedRouterIsCollected(t *testing.T) {
	shared, _ := newLimiter(t, chilimit.WithDefaultLimits("100/minute"))
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprint("own limiter ", own), func(t *testing.T) {
			old := func() weak.Pointer[chi.Mux] {
				lim := shared
				if own {
					l, err := chilimit.New(chilimit.WithDefaultLimits("100/minute"), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
					if err != nil {
						t.Fatal(err)
					}
					defer l.Close()
					lim = l
				}
				r := chi.NewRouter()
				r.Use(lim.Handler)
				r.With(lim.Limit("10/minute")).Route("/api", func(r chi.Router) { r.Get("/items", text("items")) })
				if w := serve(r, http.MethodHead, "/api/items"); w.Code != http.StatusMethodNotAllowed {
					t.Fatalf("HEAD /api/items = %d, want 405", w.Code)
				}
				if w := get(r, "/api/items"); w.Code != http.StatusOK {
					t.Fatalf("GET /api/items = %d, want 200", w.Code)
				}
				return weak.Make(r)
			}()
			if !own { // the reload: a new router, served by the same limiter
				r := chi.NewRouter()
				r.Use(shared.Handler)
				r.Route("/api", func(r chi.Router) { r.Get("/items", text("items")) })
				if w := get(r, "/api/items"); w.Code != http.StatusOK {
					t.Fatalf("GET /api/items = %d, want 200", w.Code)
				}
			}
			for range 3 {
				runtime.GC()
			}
			if old.Value() != nil {
				t.Fatal("the discarded router is still reachable")
			}
		})
	}
}

// A limit wrapped around a mounted plain handler is a limit of the route
// that serves it, at the level of the router that mounts it, as the same
// limit in the mount's With chain is: an exemption of that router reaches
// it without ExemptDescendants, since a handler is no router.
func TestLimitAroundMountedHandlerIsARouteLimit(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/v1", func(v chi.Router) {
		v.Use(chilimit.ExemptFrom(chilimit.ExemptDefault | chilimit.ExemptApplication))
		add := chilimit.Limit("3/hour", chilimit.OverrideDefaults(false))
		v.Mount("/bare", text("bare"))
		v.With(add).Mount("/with", text("with"))
		v.Handle("/handle/*", add(text("handle")))
		v.Mount("/wrapped", add(text("wrapped")))
	})
	run(t, r, clock, concat(
		repeat(3, step{path: "/v1/bare/a", code: 200}),
		repeat(3, step{path: "/v1/with/a", code: 200}), []step{{path: "/v1/with/a", code: 429, body: "3 per 1 hour"}},
		repeat(3, step{path: "/v1/handle/a", code: 200}), []step{{path: "/v1/handle/a", code: 429, body: "3 per 1 hour"}},
		repeat(3, step{path: "/v1/wrapped/a", code: 200}), // 2nd request: 429 "1 per 1 hour", the defaults
		[]step{{path: "/v1/wrapped/a", code: 429, body: "3 per 1 hour"}},
	))
}

// A sub-router mounted behind a plain wrapper (middleware.BasicAuth(...)(admin),
// http.StripPrefix) hides its routes from Handler's look-ahead, which sees
// one route, the mount. Route limits inside still count per route, by the
// pattern chi routed the request to; the defaults count the mount as one
// route (documented).
func TestRouteLimitsInAWrappedMountCountPerRoute(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("3/hour"))
	admin := chi.NewRouter()
	admin.With(chilimit.Limit("1/hour")).Post("/users", text("users"))
	admin.With(chilimit.Limit("1/hour")).Post("/groups", text("groups"))
	admin.Get("/stats", text("stats"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/admin", middleware.NoCache(admin))
	run(t, r, clock, []step{
		{method: http.MethodPost, path: "/admin/users", code: 200},
		{method: http.MethodPost, path: "/admin/groups", code: 200}, // a bucket of its own
		{method: http.MethodPost, path: "/admin/users", code: 429, body: "1 per 1 hour"},
	})

	// Each route is named as Handler names routes, by chi's Find: the
	// sub-router's root is "/admin/", and "/x" and "/x/" are two routes.
	var scopes []string
	lim, clock = newLimiter(t, chilimit.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		var rle *chilimit.RateLimitError
		if errors.As(err, &rle) {
			scopes = append(scopes, rle.Scope)
		}
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	sub := chi.NewRouter()
	for _, p := range []string{"/", "/x", "/x/"} {
		sub.With(chilimit.Limit("1/hour")).Get(p, text("ok"))
	}
	r = chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/admin", middleware.NoCache(sub))
	for _, p := range []string{"/admin/", "/admin/x", "/admin/x/"} {
		run(t, r, clock, []step{{path: p, code: 200}, {path: p, code: 429}})
	}
	run(t, r, clock, []step{{path: "/admin", code: 429}}) // the sub-router's root too, as on a mount Handler sees into
	if want := []string{"/admin/", "/admin/x", "/admin/x/", "/admin/"}; !slices.Equal(scopes, want) {
		t.Errorf("breached scopes = %q, want %q", scopes, want)
	}
}
