package chilimit_test

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
