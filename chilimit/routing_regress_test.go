package chilimit_test

// Regression tests for disagreements between the route look-up and chi that
// TestDifferential found (or that turned up while fixing them), each the
// smallest router and request that showed one.

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
)

// Found by TestDifferential. A HEAD to a mount's own path ("/z" of the
// router at "/{n}") goes on, still a HEAD, into the router that one
// mounts at "/", whose GetHead serves it as its GET "/". The route counts
// it as it counts its GETs.
func TestHeadOnMountPathServedByAGetHeadFurtherIn(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/{n}", func(n chi.Router) {
		n.Route("/", func(web chi.Router) {
			web.Use(middleware.GetHead)
			web.Get("/", text("home"))
		})
	})
	run(t, r, clock, []step{
		{method: http.MethodHead, path: "/z", code: 200, body: "home", headers: map[string]string{"X-RateLimit-Limit": "1"}},
		{path: "/z", code: 429, body: "1 per 1 hour"},
	})
}

// Found by TestDifferential. The HEAD reaches the router mounted at "/b"
// through a With chain holding GetHead, which asks the root router about
// "/b/a" (the path of the router it runs in), finds no route there and
// turns the HEAD into a GET; the router at "/b" has no GET route for "/a"
// and answers 405. The limit on the way ("/{n}"'s With chain) must not
// count it, though a HEAD route matches "/a".
func TestMountLimitOnHeadTurnedGetFurtherOn405(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/a", func(a chi.Router) {
		a.With(chilimit.Limit("1/hour")).Route("/{n}", func(n chi.Router) {
			n.With(middleware.GetHead).Route("/b", func(b chi.Router) { b.Head("/{m}", text("head")) })
		})
	})
	run(t, r, clock, repeat(3, step{method: http.MethodHead, path: "/a/z/b/a", code: 405, headers: map[string]string{"X-RateLimit-Limit": ""}}))
}

// Found by TestDifferential. The root's "/b/*" takes GETs only, so chi
// routes the HEAD into the mount at "/{id}", whose With chain's GetHead
// turns it into a GET; the mounted router has no route for it: 404. The
// mount's limit must not count it because the root would route a GET to
// "/b/*": chi has chosen the mount already.
func TestMountChainGetHeadThen404NotCounted(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/b/*", text("b"))
	r.With(middleware.GetHead, chilimit.Limit("1/hour")).Route("/{id}", func(chi.Router) {})
	run(t, r, clock, repeat(3, step{method: http.MethodHead, path: "/b/f", code: 404, headers: map[string]string{"X-RateLimit-Limit": ""}}))
}

// Found by TestDifferential. The GetHead after the limit in the With
// chain of the mount at "/a/api" asks the root about "/api/x" (the path of
// the router at "/a"), finds no HEAD route there and turns the HEAD into a
// GET, which the mounted router answers 405 (its route takes HEAD only):
// not counted.
func TestMountChainGetHeadAfterTheLimitThen405NotCounted(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/a", func(a chi.Router) {
		a.With(chilimit.Limit("1/hour"), middleware.GetHead).Route("/api", func(api chi.Router) {
			api.Head("/{n}", text("head"))
		})
	})
	run(t, r, clock, repeat(3, step{method: http.MethodHead, path: "/a/api/x", code: 405, headers: map[string]string{"X-RateLimit-Limit": ""}}))
}

// Found by TestDifferential. A router mounted at "/" inside a mount has
// no own path of its own (chi's Mount adds no stubs for "/"): "/a/" is the
// own path of the router at "/a", which serves it through the "/" mount's
// exempt GET "/". The inner mount must not take the outer one's place.
func TestMountAtSlashInsideAMountKeepsTheOuterStub(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/a", func(a chi.Router) {
		a.Route("/", func(b chi.Router) {
			b.With(chilimit.Exempt).Get("/", text("home"))
		})
	})
	run(t, r, clock, repeat(3, step{path: "/a/", code: 200, body: "home", headers: map[string]string{"X-RateLimit-Limit": ""}}))
}

// Found by TestDifferential. A plain handler mounted at "/api" serves
// "/api" (its own path); a router mounted at "/api" inside a router mounted
// at "/" shares the full prefix but is shadowed there. The defaults count
// what the plain handler serves.
func TestMountOwnPathNotTakenByAShadowedNestedMount(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/api", text("files"))
	r.Route("/", func(root chi.Router) {
		root.Route("/api", func(api chi.Router) { api.Get("/x", text("x")) })
	})
	run(t, r, clock, []step{
		{path: "/api", code: 200, body: "files", headers: map[string]string{"X-RateLimit-Limit": "1"}},
		{path: "/api", code: 429, body: "1 per 1 hour"},
	})
}

// Found while fixing what TestDifferential found. A router mounted at "/"
// has no own path (chi's Mount adds no stubs for "/"): the root's GET "/"
// beside it is a route like any other, and a limit wrapped around it,
// running without a Handler, counts it.
func TestStandaloneLimitOnRootRouteBesideAMountAtSlash(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Get("/", lim.Limit("1/hour")(text("home")).ServeHTTP)
	web := chi.NewRouter()
	web.Get("/about", text("about"))
	r.Mount("/", web)
	run(t, r, clock, []step{{path: "/", code: 200, body: "home"}, {path: "/", code: 429, body: "1 per 1 hour"}})
}

// Found by TestDifferential. Two plain handlers mounted at "/{id}", one on
// the root and one in a router mounted at "/", share the full pattern
// "/{id}/*"; chi serves "/v1" (the root one's own path) through the root
// one, which carries no limit: the defaults count it, not the other's
// limit (which never runs for it).
func TestPlainMountOwnPathBesideOneOfTheSamePattern(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Mount("/{id}", text("root files"))
	r.Route("/", func(web chi.Router) {
		web.Use(chilimit.Limit("5/hour"))
		web.Mount("/{id}", text("web files"))
	})
	run(t, r, clock, []step{
		{method: http.MethodDelete, path: "/v1", code: 200, body: "root files", headers: map[string]string{"X-RateLimit-Limit": "1"}},
		{method: http.MethodDelete, path: "/v1", code: 429, body: "1 per 1 hour"},
	})
}

// Found by TestDifferential. StripSlashes makes "/m/a/" "/m/a", which the
// router at "/m" routes to the own path of the router mounted at "/{n}":
// that router has no "/" route, so chi answers 404. A 404 is never counted,
// by the limit of the mount's With chain either, and the next request must
// not get 429 for a path chi does not serve.
func TestMountLimitOn404AtANestedMountsOwnPath(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(middleware.StripSlashes, lim.Handler)
	r.With(chilimit.Limit("1/hour")).Route("/m", func(m chi.Router) {
		m.Get("/a/", text("a/"))
		m.Route("/{n}", func(n chi.Router) { n.Get("/x", text("x")) })
	})
	run(t, r, clock, repeat(3, step{path: "/m/a/", code: 404, headers: map[string]string{"X-RateLimit-Limit": ""}}))
}
