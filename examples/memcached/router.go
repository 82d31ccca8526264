package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	_ "github.com/limits-go/limits/storage/memcached" // registers memcached://
)

// newRouter builds an application limited to 5 requests per 10 seconds per
// client with the token-bucket strategy (a burst of 5, refilled one every
// 2 seconds), its state in the memcached servers uri lists
// (memcached://h1:p1[,h2:p2...]). opts are added after the example's own
// options. The caller closes the Limiter, which closes the connections.
func newRouter(uri string, opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithStorageURI(uri),
		chilimit.WithStrategy("token-bucket"),
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
