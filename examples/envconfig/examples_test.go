package main

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/examples/internal/extest"
	"github.com/limits-go/limits/limiter"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaultsWithoutEnvironment(t *testing.T) {
	for _, key := range []string{"RATELIMIT_DEFAULT", "RATELIMIT_HEADERS_ENABLED", "RATELIMIT_ENABLED", "RATELIMIT_STRATEGY", "RATELIMIT_STORAGE_URI"} {
		t.Setenv(key, "")
	}
	srv, _ := extest.StartRouter(t, newRouter)
	got := srv.Codes(11, "GET", "/")
	if want := append(extest.Repeat(200, 10), 429); !slices.Equal(got, want) {
		t.Errorf("11 × GET / = %v, want %v", got, want)
	}
	if got := srv.Get("/").Header.Get("X-RateLimit-Limit"); got != "10" {
		t.Errorf("X-RateLimit-Limit = %q, want 10", got)
	}
}

func TestFromEnvironment(t *testing.T) {
	t.Setenv("RATELIMIT_DEFAULT", "2 per 10 seconds")
	t.Setenv("RATELIMIT_STRATEGY", "moving-window")
	t.Setenv("RATELIMIT_HEADERS_ENABLED", "false")
	t.Setenv("RATELIMIT_STORAGE_URI", "memory://?shards=4")
	srv, clock := extest.StartRouter(t, newRouter)
	// Hits at 0 s and 9 s fill the limit. At 10.5 s the first has left the
	// moving window and one more fits; at 11 s the window holds the hits of
	// 9 s and 10.5 s, where a fixed window, begun afresh at 10.5 s, would
	// still have room.
	for _, s := range []struct {
		at   time.Duration
		n    int
		want []int
	}{{0, 1, []int{200}}, {9 * time.Second, 2, []int{200, 429}}, {1500 * time.Millisecond, 1, []int{200}}} {
		clock.Advance(s.at)
		if got := srv.Codes(s.n, "GET", "/"); !slices.Equal(got, s.want) {
			t.Errorf("%d × GET / after %v more = %v, want %v", s.n, s.at, got, s.want)
		}
	}
	clock.Advance(500 * time.Millisecond)
	if got := srv.Get("/"); got.Header.Get("X-RateLimit-Limit") != "" || got.Body != "2 per 10 second" {
		t.Errorf("GET / = %q X-RateLimit-Limit %q, want body \"2 per 10 second\" and no headers", got.Body, got.Header.Get("X-RateLimit-Limit"))
	}
	if got := srv.Codes(5, "GET", "/exempt"); !slices.Equal(got, extest.Repeat(200, 5)) {
		t.Errorf("5 × GET /exempt = %v, want all 200", got)
	}
}

func TestKillSwitch(t *testing.T) {
	t.Setenv("RATELIMIT_DEFAULT", "1/hour")
	t.Setenv("RATELIMIT_ENABLED", "false")
	srv, _ := extest.StartRouter(t, newRouter)
	if got := srv.Codes(5, "GET", "/"); !slices.Equal(got, extest.Repeat(200, 5)) {
		t.Errorf("5 × GET / with RATELIMIT_ENABLED=false = %v, want all 200", got)
	}
}

func TestBadEnvironmentFailsAtStart(t *testing.T) {
	tests := []struct {
		key, value string
		want       error
	}{
		{"RATELIMIT_DEFAULT", "10/fortnight", limiter.ErrInvalidLimit},
		{"RATELIMIT_HEADERS_ENABLED", "maybe", chilimit.ErrInvalidConfig},
		{"RATELIMIT_STRATEGY", "leaky-bucket", limiter.ErrUnknownStrategy},
		{"RATELIMIT_STORAGE_URI", "postgres://db", limiter.ErrUnknownScheme},
		{"RATELIMIT_STORAGE_URI", "memory://?shards=0", limiter.ErrInvalidURI}, // reaches the storage
	}
	for _, tt := range tests {
		lookup := func(key string) (string, bool) {
			if key == tt.key {
				return tt.value, true
			}
			return "", false
		}
		_, lim, err := newRouterLookup(lookup)
		if lim != nil {
			_ = lim.Close()
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s=%q: newRouter error %v, want one wrapping %v", tt.key, tt.value, err, tt.want)
		}
	}
}
