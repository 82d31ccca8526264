package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	_ "github.com/limits-go/limits/storage/redis" // registers redis+cluster:// and the other Redis schemes
)

// newRouter builds an application limited to 5 requests per 10 seconds per
// client with the moving-window strategy, its logs in the Redis Cluster
// whose seed nodes uri lists (redis+cluster://h1:p1,h2:p2). Each key's
// state lives in one hash slot, so a hit is still one script on one node.
// opts are added after the example's own options. The caller closes the
// Limiter, which closes the connections.
func newRouter(uri string, opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithStorageURI(uri),
		chilimit.WithStrategy("moving-window"),
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
