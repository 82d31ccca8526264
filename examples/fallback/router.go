package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/storage/redis"
)

// newRedisClient returns a go-redis client for addr that fails fast when
// Redis is gone: one dial attempt of at most 100ms and no command retries,
// so a request finds out in milliseconds, and the limiter switches to its
// fallback, instead of waiting through go-redis's default retries.
func newRedisClient(addr string) *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		DialTimeout:           100 * time.Millisecond,
		DialerRetries:         1,
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
}

// newRouter builds an application limited to 5 requests a minute per
// client in the Redis at addr (host:port). When Redis fails, the limiter
// switches to an in-memory storage with the same limits
// (chilimit.WithInMemoryFallbackEnabled): each process then counts on its
// own, but nobody gets through unlimited and nobody gets a 500. Health
// checks, after 100ms, 200ms, 400ms ... up to 2s, switch back when Redis
// answers. The storage is built with redis.New over a client configured to
// fail fast; opts are added after the example's own options. The caller
// closes the Limiter, then the storage.
func newRouter(addr string, opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, *redis.Storage, error) {
	store, err := redis.New(newRedisClient(addr), redis.WithOwnedClient())
	if err != nil {
		return nil, nil, nil, err
	}
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithStorage(store),
		chilimit.WithDefaultLimits("5/minute"),
		chilimit.WithInMemoryFallbackEnabled(true),
		chilimit.WithHealthCheckBackoff(100*time.Millisecond, 2*time.Second),
		chilimit.WithHeaders(true),
	}, opts...)...)
	if err != nil {
		_ = store.Close()
		return nil, nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return r, lim, store, nil
}
