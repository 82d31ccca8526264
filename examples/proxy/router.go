package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// trustedProxies is how many reverse proxies you run in front of the
// application, each appending the address it received the request from to
// X-Forwarded-For. Set it to exactly that number: with one too many,
// clients choose their own key by sending the header themselves.
const trustedProxies = 1

// newRouter builds an application that sits behind trustedProxies reverse
// proxies and allows each client 2 requests a minute. The key is the
// trustedProxies-th address from the right of X-Forwarded-For. A request
// that did not come through the proxy (fewer addresses than that) is keyed
// by its TCP peer address. opts are added after the example's own options.
// The caller closes the Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{
		chilimit.WithTrustedProxies(trustedProxies),
		chilimit.WithDefaultLimits("2/minute"),
	}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello\n"))
	})
	return r, lim, nil
}
