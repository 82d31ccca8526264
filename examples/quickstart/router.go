package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// newRouter builds Flask-Limiter's quick-start application on chi: default
// limits of 200 per day and 50 per hour for every route, keyed by the
// client's address; /slow replaces them with 1 per day, /medium adds 1 per
// second to them, /fast has the defaults only and /ping is exempt. Headers
// are on so clients see their budget. opts are added after the example's
// own options (tests pass a clock). The caller closes the Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithKeyFunc(chilimit.RemoteAddr),
		chilimit.WithDefaultLimits("200 per day", "50 per hour"),
		chilimit.WithHeaders(true),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1 per day")).Get("/slow", text(":("))
	r.With(chilimit.Limit("1/second", chilimit.OverrideDefaults(false))).Get("/medium", text(":|"))
	r.Get("/fast", text(":)"))
	r.With(chilimit.Exempt).Get("/ping", text("PONG"))
	return r, lim, nil
}

// text is a handler that answers s.
func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(s))
	}
}
