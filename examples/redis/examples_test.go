package main

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/examples/internal/extest"
	"github.com/limits-go/limits/limiter"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Against a real server (skipped without one, failed without one under
// LIMITS_REQUIRE_SERVERS=1): 5 requests pass, the sixth gets 429, and a
// second limiter on the same storage, as a second instance of the
// application would be, sees the same counts. The limiters share a manual
// clock, so the outcome does not depend on where the test falls in a
// window.
func TestLimitsInServer(t *testing.T) {
	addr := servers.Redis(t)
	uri := "redis://" + addr + "/0?clock=client" // decide on the limiter's (manual) clock
	prefix := chilimit.WithKeyPrefix(extest.KeyPrefix(t))
	clock := limiter.NewManualClock(extest.Epoch)
	start := func() *extest.Server {
		h, lim, err := newRouter(uri, prefix, chilimit.WithClock(clock))
		if err != nil {
			t.Fatalf("newRouter(%q): %v", uri, err)
		}
		t.Cleanup(func() { _ = lim.Close() })
		return extest.Start(t, h)
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
