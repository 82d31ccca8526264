package main

import (
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTrustedProxy(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	// Two clients behind the proxy, both arriving from the proxy's address.
	a := []string{"X-Forwarded-For", "203.0.113.7"}
	b := []string{"X-Forwarded-For", "198.51.100.2"}
	if got, want := srv.Codes(3, "GET", "/", a...), []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("client a: %v, want %v", got, want)
	}
	if got, want := srv.Codes(3, "GET", "/", b...), []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("client b: %v, want %v", got, want)
	}
	// Client a forging addresses to the left of what the proxy appended is
	// still client a.
	for _, forged := range []string{"10.0.0.1, 203.0.113.7", "1.2.3.4, 5.6.7.8, 203.0.113.7"} {
		if got := srv.Get("/", "X-Forwarded-For", forged).Code; got != 429 {
			t.Errorf("client a with X-Forwarded-For %q = %d, want 429", forged, got)
		}
	}
	// Without the header the request did not pass the proxy: keyed by its
	// peer address, a bucket of its own.
	if got, want := srv.Codes(3, "GET", "/"), []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("no X-Forwarded-For: %v, want %v", got, want)
	}
}
