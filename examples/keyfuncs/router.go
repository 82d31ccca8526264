package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// newRouter builds an application with two key functions besides the
// default client address:
//
//   - GET /me allows 3 requests a minute per user. The authenticate
//     middleware puts the user in the request's context; the limit's key
//     function reads it from there, because route limits run after the
//     middleware declared before them.
//   - GET /search allows 5 requests a minute per API key (X-API-Key); a
//     request without one is counted by its client address instead.
//
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(append([]chilimit.Option{chilimit.WithHeaders(true)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(authenticate, chilimit.Limit("3/minute", chilimit.KeyFunc(byUser))).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + user(r.Context()) + "\n"))
	})
	r.With(chilimit.Limit("5/minute", chilimit.KeyFunc(byAPIKey))).Get("/search", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("results\n"))
	})
	return r, lim, nil
}

type userKey struct{}

// authenticate is a stand-in for real authentication: it takes the user
// name from "Authorization: Bearer <name>" and rejects requests without one.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || name == "" {
			http.Error(w, "sign in with Authorization: Bearer <name>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, name)))
	})
}

func user(ctx context.Context) string {
	name, _ := ctx.Value(userKey{}).(string)
	return name
}

// byUser keys a request by its signed-in user.
func byUser(r *http.Request) string { return "user:" + user(r.Context()) }

// byAPIKey keys a request by its API key, or by its client address when it
// has none. The prefixes keep the two kinds of key apart.
func byAPIKey(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return "apikey:" + k
	}
	return "addr:" + chilimit.RemoteAddr(r)
}
