package main

import (
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestByUser(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	ann, bob := []string{"Authorization", "Bearer ann"}, []string{"Authorization", "Bearer bob"}
	if got, want := srv.Codes(4, "GET", "/me", ann...), []int{200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("4 × GET /me as ann = %v, want %v", got, want)
	}
	// Same address, another user: another bucket.
	if got := srv.Get("/me", bob...); got.Code != 200 || got.Body != "hello bob" {
		t.Errorf("GET /me as bob = %d %q, want 200 \"hello bob\"", got.Code, got.Body)
	}
	if got := srv.Get("/me"); got.Code != 401 {
		t.Errorf("GET /me signed out = %d, want 401", got.Code)
	}
}

func TestByAPIKey(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	k1 := []string{"X-API-Key", "k1"}
	if got, want := srv.Codes(6, "GET", "/search", k1...), append(extest.Repeat(200, 5), 429); !slices.Equal(got, want) {
		t.Errorf("6 × GET /search with key k1 = %v, want %v", got, want)
	}
	if got := srv.Get("/search", "X-API-Key", "k2"); got.Code != 200 || got.Header.Get("X-RateLimit-Remaining") != "4" {
		t.Errorf("GET /search with key k2 = %d remaining %q, want 200 remaining 4", got.Code, got.Header.Get("X-RateLimit-Remaining"))
	}
	// Without a key the client address is the key, a bucket of its own.
	if got, want := srv.Codes(6, "GET", "/search"), append(extest.Repeat(200, 5), 429); !slices.Equal(got, want) {
		t.Errorf("6 × GET /search without a key = %v, want %v", got, want)
	}
}
