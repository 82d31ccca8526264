package chilimit_test

import (
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
)

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
