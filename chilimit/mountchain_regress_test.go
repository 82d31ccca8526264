package chilimit_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
)

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
