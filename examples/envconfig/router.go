package main

import (
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	// Imported so RATELIMIT_STORAGE_URI may name a Redis or memcached
	// server; memory:// is always available.
	_ "github.com/limits-go/limits/storage/memcached"
	_ "github.com/limits-go/limits/storage/redis"
)

// defaults are the settings used for keys the environment does not set.
// They are read through the same lookup as the environment, so the
// environment wins; options passed to chilimit.New explicitly would win over
// the environment instead.
var defaults = map[string]string{
	"RATELIMIT_DEFAULT":         "10/minute",
	"RATELIMIT_HEADERS_ENABLED": "true",
}

// newRouter builds an application configured by chilimit's RATELIMIT_*
// keys read from the environment, falling back to defaults for the keys
// that are not set. It is newRouterLookup over os.LookupEnv.
// /exempt is exempt from everything. opts are added after the example's own
// options. The caller closes the Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	return newRouterLookup(os.LookupEnv, opts...)
}

// newRouterLookup is newRouter with the configuration read through lookup.
func newRouterLookup(lookup func(string) (string, bool), opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithConfigLookup(func(key string) (string, bool) {
			if v, ok := lookup(key); ok && v != "" {
				return v, true
			}
			v, ok := defaults[key]
			return v, ok
		}),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.With(chilimit.Exempt).Get("/exempt", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return r, lim, nil
}
