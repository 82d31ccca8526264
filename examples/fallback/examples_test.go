package main

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Redis dies: requests keep being limited, by the in-memory fallback, then
// Redis comes back and counts again.
func TestFallbackWhenRedisDies(t *testing.T) {
	redis := servers.StartRedis(t)
	h, lim, store, err := newRouter(redis.Addr(),
		chilimit.WithKeyPrefix(extest.KeyPrefix(t)),
		chilimit.WithHealthCheckBackoff(20*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close(); _ = store.Close() })
	srv := extest.Start(t, h)

	// Redis up: 5 per minute.
	if got, want := srv.Codes(6, "GET", "/"), []int{200, 200, 200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Fatalf("Redis up: %v, want %v", got, want)
	}

	// Redis down: no 500s; the fallback starts counting from zero, with
	// the same limits.
	redis.Stop()
	if got, want := srv.Codes(7, "GET", "/"), []int{200, 200, 200, 200, 200, 429, 429}; !slices.Equal(got, want) {
		t.Fatalf("Redis down: %v, want %v", got, want)
	}

	// Redis back, empty (it has no persistence here). Until a health check
	// sees it the fallback keeps answering 429; then Redis's own 5 per
	// minute applies again.
	redis.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Get("/").Code == 429 {
		if time.Now().After(deadline) {
			t.Fatal("still rejected by the fallback 5s after Redis came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := srv.Codes(5, "GET", "/"), []int{200, 200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("Redis back, after its first request: %v, want %v", got, want)
	}
}
