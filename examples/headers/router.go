package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// newRouter builds an application whose responses carry the rate-limit
// headers (chilimit.WithHeaders), including the IETF draft's RateLimit and
// RateLimit-Policy (chilimit.WithIETFHeaders), for default limits of 2 per
// second and 10 per minute: the headers describe the 2 per second, the
// smallest window, until a limit is breached, then the breached one.
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithDefaultLimits("2/second;10/minute"),
		chilimit.WithHeaders(true),
		chilimit.WithIETFHeaders(true),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return r, lim, nil
}
