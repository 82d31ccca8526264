// Package extest starts an example's handler on an httptest server and
// sends it requests, for the examples' tests.
package extest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A Server is an example's handler served by httptest on 127.0.0.1.
type Server struct {
	URL    string
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
	Code   int
	Body   string
	Header http.Header
}

// Do sends a request with the given method and path (relative to the
// server) and headers given as name, value pairs, failing the test if it
// cannot be sent.
func (s *Server) Do(method, path string, header ...string) Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
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
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Code: resp.StatusCode, Body: strings.TrimSpace(string(body)), Header: resp.Header}
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
