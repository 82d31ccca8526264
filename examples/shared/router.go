package main

import (
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
)

// newRouter builds an application with two shared limits:
//
//   - GET /report and GET /export share the "reporting-db" limit of 2 per
//     minute: a request to either counts for both (chilimit.SharedLimit).
//   - GET /a and GET /b share 3 per minute per Host header, a scope
//     computed per request (chilimit.ScopeFunc), in canonical form.
//
// opts are added after the example's own options. The caller closes the
// Limiter.
func newRouter(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error) {
	lim, err := chilimit.New(opts...)
	if err != nil {
		return nil, nil, err
	}
	reportingDB := chilimit.SharedLimit("2/minute", "reporting-db")
	perHost := chilimit.Limit("3/minute", chilimit.ScopeFunc(func(r *http.Request, _ string) string {
		return "host:" + canonicalHost(r.Host)
	}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(reportingDB).Get("/report", text("report"))
	r.With(reportingDB).Get("/export", text("export"))
	r.With(perHost).Get("/a", text("a"))
	r.With(perHost).Get("/b", text("b"))
	return r, lim, nil
}

// servedHosts are the host names the application serves.
var servedHosts = map[string]bool{"one.example": true, "two.example": true}

// canonicalHost is host as a scope. The client writes the Host header, so
// each spelling of one host ("ONE.example", "one.example.", "one.example:80")
// would be a bucket of its own, and so would every name it makes up: those
// share one scope.
func canonicalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !servedHosts[host] {
		return "other"
	}
	return host
}

func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(s + "\n")) }
}
