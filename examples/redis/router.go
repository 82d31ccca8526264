package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	_ "github.com/limits-go/limits/storage/redis" // registers redis:// and the other Redis schemes
)

// newRouter builds an application limited to 5 requests per 10 seconds per
// client with the sliding-window-counter strategy, its counters in the
// Redis at uri (redis://host:port/db, rediss:// for TLS,
// redis+unix:///path/to/socket). Every hit is one Lua script: one round
// trip, exact under concurrency. opts are added after the example's own
// options. The caller closes the Limiter, which closes the connection.
func newRouter(uri string, opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithStorageURI(uri),
		chilimit.WithStrategy("sliding-window-counter"),
		chilimit.WithDefaultLimits("5 per 10 seconds"),
		chilimit.WithHeaders(true),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return r, lim, nil
}
