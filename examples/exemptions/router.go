package main

import (
	"crypto/subtle"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// internalToken lets the application's own services through every limit.
// A real deployment reads it from a secret store.
const internalToken = "let-me-in"

// newRouter builds an application with default limits of 3 per minute and
// three ways around limits:
//
//   - GET /health is exempt (chilimit.Exempt): load balancers poll it.
//   - GET /reports has its own limit of 1 per minute, skipped for requests
//     of admins (chilimit.ExemptWhen), here anyone sending X-Role: admin.
//   - A request filter (chilimit.WithRequestFilter) lets requests carrying
//     the internal token through every limit, on every route.
//
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithDefaultLimits("3/minute"),
		chilimit.WithRequestFilter(internal),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("home"))
	r.With(chilimit.Exempt).Get("/health", text("ok"))
	r.With(chilimit.Limit("1/minute", chilimit.ExemptWhen(admin))).Get("/reports", text("report"))
	return r, lim, nil
}

// internal reports whether the request carries the internal token.
func internal(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Internal-Token")), []byte(internalToken)) == 1
}

// admin stands in for a real authorization check.
func admin(r *http.Request) bool { return r.Header.Get("X-Role") == "admin" }

func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(s + "\n")) }
}
