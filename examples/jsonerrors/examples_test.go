package main

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestJSON429(t *testing.T) {
	srv, clock := extest.StartRouter(t, newRouter)
	steps := []struct {
		method, path string
		advance      time.Duration
		code         int
		body         string
	}{
		{"GET", "/api/items", 0, 200, `["a","b"]`},
		{"GET", "/api/items", 0, 200, `["a","b"]`},
		{"GET", "/api/items", 20 * time.Second, 429, `{"error":"2 per 1 minute","limit":"2 per 1 minute","retry_after_seconds":40}`},
		{"POST", "/api/upload", 0, 201, ""},
		{"POST", "/api/upload", 0, 429, `{"error":"one upload an hour","limit":"1 per 1 hour","retry_after_seconds":3600}`},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		got := srv.Do(s.method, s.path)
		if got.Code != s.code || got.Body != s.body {
			t.Errorf("step %d: %s %s = %d %s, want %d %s", i, s.method, s.path, got.Code, got.Body, s.code, s.body)
		}
		if s.code == 429 && got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("step %d: Content-Type %q, want application/json", i, got.Header.Get("Content-Type"))
		}
	}
}

// The requests the program prints a curl line for reach a route.
func TestTryLines(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	extest.CheckTry(t, srv, try)
}
