package chilimit_test

import (
	"testing"

	"github.com/go-chi/chi/v5"
)

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
