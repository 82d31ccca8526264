package chilimit_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
)

// The tests in this file pin down where a limit is counted and what it
// sees: route limits run where they are declared, after the middleware
// before them, as the package documentation says.

type userKey struct{}

// withUser is an authentication middleware: it puts X-User in the context.
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, r.Header.Get("X-User"))))
	})
}

func userOf(r *http.Request) string { u, _ := r.Context().Value(userKey{}).(string); return u }

// The limiter's key function runs again for a route limit behind
// middleware that changed the context, so it sees the user: application
// limits, counted in Handler before authentication, must not fix the key
// for the route's limits.
func TestRouteLimitKeySeesLaterContext(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithKeyFunc(userOf), chilimit.WithApplicationLimits("1000/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Use(withUser)
	r.With(chilimit.Limit("1/hour")).Get("/me", text("me"))
	run(t, r, clock, []step{
		{path: "/me", opts: []reqOpt{header("X-User", "alice")}, code: 200},
		{path: "/me", opts: []reqOpt{header("X-User", "bob")}, code: 200},
		{path: "/me", opts: []reqOpt{header("X-User", "alice")}, code: 429},
	})
}
