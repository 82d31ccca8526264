package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// newRouter builds an application with default limits of 10 per minute and
// sub-routers that change them:
//
//   - /auth (r.Route): every route in it gets 2 per minute instead of the
//     defaults, counted per route, from one Use(chilimit.Limit(...)).
//   - /docs (r.With(chilimit.Exempt).Mount): a mounted router exempt from
//     every limit.
//   - /admin (r.Group): 1 per second on top of the defaults
//     (chilimit.OverrideDefaults(false)).
//
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{chilimit.WithDefaultLimits("10/minute")}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	docs := chi.NewRouter()
	docs.Get("/", text("docs index"))
	docs.Get("/{page}", text("a docs page"))

	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("home"))
	r.Route("/auth", func(r chi.Router) {
		r.Use(chilimit.Limit("2/minute"))
		r.Post("/login", text("welcome"))
		r.Post("/reset", text("check your mail"))
	})
	r.With(chilimit.Exempt).Mount("/docs", docs)
	r.Group(func(r chi.Router) {
		r.Use(chilimit.Limit("1/second", chilimit.OverrideDefaults(false)))
		r.Get("/admin", text("admin"))
	})
	return r, lim, nil
}

func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(s + "\n")) }
}
