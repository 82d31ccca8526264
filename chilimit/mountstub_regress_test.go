package chilimit_test

import (
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
)

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
