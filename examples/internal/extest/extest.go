// Package extest starts an example's handler on an httptest server and
// sends it requests, for the examples' tests.
package extest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// A Server is an example's handler served by httptest on 127.0.0.1.
type Server struct {
	URL    string // the server's base URL, http://127.0.0.1:port
	t      testing.TB
	client *http.Client
}

// Start serves h until the test ends.
func Start(t testing.TB, h http.Handler) *Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL, t: t, client: srv.Client()}
}

// A Response is what a request got back.
type Response struct {
	Code   int         // the status code
	Body   string      // the whole body
	Header http.Header // the response headers
}

// Do sends a request with the given method and path (relative to the
// server) and headers given as name, value pairs, failing the test if it
// cannot be sent.
func (s *Server) Do(method, path string, header ...string) Response {
	s.t.Helper()
	return s.DoBody(method, path, "", header...)
}

// DoBody is Do with a request body.
func (s *Server) DoBody(method, path, body string, header ...string) Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if len(header)%2 != 0 {
		s.t.Fatalf("%s %s: headers must come in name, value pairs: %q", method, path, header)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Code: resp.StatusCode, Body: strings.TrimSpace(string(b)), Header: resp.Header}
}

// Get is Do with GET.
func (s *Server) Get(path string, header ...string) Response {
	s.t.Helper()
	return s.Do(http.MethodGet, path, header...)
}

// Codes sends n requests and returns their status codes in order.
func (s *Server) Codes(n int, method, path string, header ...string) []int {
	s.t.Helper()
	codes := make([]int, n)
	for i := range codes {
		codes[i] = s.Do(method, path, header...).Code
	}
	return codes
}

// Repeat returns n copies of code, to write expected Codes results.
func Repeat(code, n int) []int {
	codes := make([]int, n)
	for i := range codes {
		codes[i] = code
	}
	return codes
}

// Epoch is the instant the examples' manual clocks start at.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// A RouterFunc is an example's newRouter: it builds the example's handler
// with extra options and returns the Limiter to close.
type RouterFunc func(opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error)

// StartRouter builds an example's router on a manual clock starting at
// Epoch, serves it until the test ends and closes its Limiter then.
func StartRouter(t testing.TB, newRouter RouterFunc, opts ...chilimit.Option) (*Server, *limiter.ManualClock) {
	t.Helper()
	clock := limiter.NewManualClock(Epoch)
	h, lim, err := newRouter(append([]chilimit.Option{chilimit.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("newRouter: %v", err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	return Start(t, h), clock
}

// KeyPrefix returns a key prefix no other test run uses, for tests against
// a server that may be shared (LIMITS_REDIS_ADDR, LIMITS_MEMCACHED_ADDR).
func KeyPrefix(t testing.TB) string {
	return fmt.Sprintf("%s-%d:", t.Name(), time.Now().UnixNano())
}

// A StorageRouterFunc is the newRouter of an example that takes its
// storage URI.
type StorageRouterFunc func(uri string, opts ...chilimit.Option) (http.Handler, *chilimit.Limiter, error)

// CheckSharedStorage checks an example that limits "/" to 5 per 10 seconds
// on the storage at uri: 5 requests pass, the sixth gets 429, and a second
// limiter on the same storage, as a second instance of the application
// would be, sees the same counts. The limiters share a manual clock, so the
// outcome does not depend on where the test falls in a window.
func CheckSharedStorage(t *testing.T, uri string, newRouter StorageRouterFunc) {
	t.Helper()
	prefix := chilimit.WithKeyPrefix(KeyPrefix(t))
	clock := limiter.NewManualClock(Epoch)
	start := func() *Server {
		h, lim, err := newRouter(uri, prefix, chilimit.WithClock(clock))
		if err != nil {
			t.Fatalf("newRouter(%q): %v", uri, err)
		}
		t.Cleanup(func() { _ = lim.Close() })
		return Start(t, h)
	}
	one, two := start(), start()
	if got := one.Get("/"); got.Code != 200 || got.Header.Get("X-RateLimit-Remaining") != "4" {
		t.Fatalf("first GET / = %d remaining %q, want 200 remaining 4", got.Code, got.Header.Get("X-RateLimit-Remaining"))
	}
	if got, want := two.Codes(5, "GET", "/"), []int{200, 200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("5 × GET / on the second instance = %v, want %v", got, want)
	}
	got := one.Get("/")
	if got.Code != 429 || got.Body != "5 per 10 second" || got.Header.Get("Retry-After") == "" {
		t.Errorf("GET / on the first instance = %d %q Retry-After %q, want 429 \"5 per 10 second\" with Retry-After",
			got.Code, got.Body, got.Header.Get("Retry-After"))
	}
	clock.Advance(20 * time.Second)
	if got := two.Get("/"); got.Code != 200 {
		t.Errorf("GET / 20 seconds later = %d %q, want 200", got.Code, got.Body)
	}
}

// CheckTry sends each request an example's main program suggests trying
// (a path for GET, or "METHOD /path", as serve.Announce takes them) and
// fails the test when the router has no such route (404) or the route
// does not take the method (405): the curl line printed would not work.
func CheckTry(t testing.TB, s *Server, try []string) {
	t.Helper()
	for _, line := range try {
		method, path, ok := strings.Cut(line, " ")
		if !ok {
			method, path = http.MethodGet, line
		}
		if got := s.Do(method, path); got.Code == http.StatusNotFound || got.Code == http.StatusMethodNotAllowed {
			t.Errorf("the suggested %q got %d %q: the route does not take it", line, got.Code, got.Body)
		}
	}
}
