package main

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSubRouters(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	tests := []struct {
		method, path string
		n            int
		want         []int
	}{
		{"POST", "/auth/login", 3, []int{200, 200, 429}},
		{"POST", "/auth/reset", 3, []int{200, 200, 429}}, // per route
		{"GET", "/docs/", 20, extest.Repeat(200, 20)},
		{"GET", "/docs/limits", 20, extest.Repeat(200, 20)},
		{"GET", "/admin", 2, []int{200, 429}}, // 1/second
		{"GET", "/", 11, append(extest.Repeat(200, 10), 429)},
	}
	for _, tt := range tests {
		if got := srv.Codes(tt.n, tt.method, tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("%d × %s %s = %v, want %v", tt.n, tt.method, tt.path, got, tt.want)
		}
	}
}

// /admin has the defaults too: one request a second passes its own limit,
// and the eleventh within the minute breaches the defaults.
func TestGroupKeepsDefaults(t *testing.T) {
	srv, clock := extest.StartRouter(t, newRouter)
	for i := range 10 {
		if got := srv.Get("/admin"); got.Code != 200 {
			t.Fatalf("GET /admin at second %d = %d %q, want 200", i, got.Code, got.Body)
		}
		if got := srv.Get("/admin"); got.Code != 429 || got.Body != "1 per 1 second" {
			t.Fatalf("second GET /admin at second %d = %d %q, want 429 \"1 per 1 second\"", i, got.Code, got.Body)
		}
		clock.Advance(time.Second)
	}
	if got := srv.Get("/admin"); got.Code != 429 || got.Body != "10 per 1 minute" {
		t.Errorf("GET /admin at second 10 = %d %q, want 429 \"10 per 1 minute\"", got.Code, got.Body)
	}
}

// The requests the program prints a curl line for reach a route.
func TestTryLines(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	extest.CheckTry(t, srv, try)
}
