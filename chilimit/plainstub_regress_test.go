package chilimit_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
)

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
