package chilimit_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
)

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
