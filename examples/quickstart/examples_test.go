package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/examples/internal/extest"
	"github.com/limits-go/limits/limiter"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newServer(t *testing.T) (*extest.Server, *limiter.ManualClock) {
	t.Helper()
	clock := limiter.NewManualClock(start)
	h, lim, err := newRouter(chilimit.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	return extest.Start(t, h), clock
}

func TestQuickStartLimits(t *testing.T) {
	srv, clock := newServer(t)
	tests := []struct {
		path string
		n    int
		want []int
	}{
		{"/slow", 3, []int{200, 429, 429}},
		{"/medium", 2, []int{200, 429}},
		{"/fast", 50, extest.Repeat(200, 50)},
		{"/fast", 1, []int{429}},                // 50 per hour
		{"/ping", 100, extest.Repeat(200, 100)}, // exempt
		{"/medium", 1, []int{429}},              // 1/second still holds
	}
	for _, tt := range tests {
		if got := srv.Codes(tt.n, "GET", tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("%d × GET %s = %v, want %v", tt.n, tt.path, got, tt.want)
		}
	}
	clock.Advance(time.Second)
	if got := srv.Get("/medium").Code; got != 200 {
		t.Errorf("GET /medium a second later = %d, want 200", got)
	}
	if got := srv.Get("/slow"); got.Code != 429 || got.Body != "1 per 1 day" || got.Header.Get("Retry-After") != "86399" {
		t.Errorf("GET /slow a second later = %d %q Retry-After %q, want 429 \"1 per 1 day\" Retry-After 86399",
			got.Code, got.Body, got.Header.Get("Retry-After"))
	}
	// /medium counts against its own copy of the defaults: 2 hits so far,
	// plus this one.
	if got := srv.Get("/medium").Header.Get("X-RateLimit-Limit"); got != "1" {
		t.Errorf("X-RateLimit-Limit of /medium = %q, want 1 (the smallest window)", got)
	}
}

// The demo that `make example` shows, against a manual clock: the output is
// exactly this.
func TestDemo(t *testing.T) {
	srv, clock := newServer(t)
	var out strings.Builder
	err := demo(&out, &http.Client{Timeout: 5 * time.Second}, srv.URL, func(d time.Duration) { clock.Advance(d) })
	if err != nil {
		t.Fatal(err)
	}
	want := routes + `
A burst of requests:
  GET /slow    200 OK                 ":("             X-RateLimit-Limit: 1  X-RateLimit-Remaining: 0
  GET /slow    429 Too Many Requests  "1 per 1 day"    X-RateLimit-Limit: 1  X-RateLimit-Remaining: 0  Retry-After: 86400
  GET /medium  200 OK                 ":|"             X-RateLimit-Limit: 1  X-RateLimit-Remaining: 0
  GET /medium  429 Too Many Requests  "1 per 1 second" X-RateLimit-Limit: 1  X-RateLimit-Remaining: 0  Retry-After: 1
  ... waiting 1s for /medium's 1-second window to pass
  GET /medium  200 OK                 ":|"             X-RateLimit-Limit: 1  X-RateLimit-Remaining: 0
  GET /fast    200 OK                 ":)"             X-RateLimit-Limit: 50  X-RateLimit-Remaining: 49
  GET /fast    200 OK                 ":)"             X-RateLimit-Limit: 50  X-RateLimit-Remaining: 48
  GET /fast    200 OK                 ":)"             X-RateLimit-Limit: 50  X-RateLimit-Remaining: 47
  GET /ping    200 OK                 "PONG"           (no rate-limit headers: exempt)
  GET /ping    200 OK                 "PONG"           (no rate-limit headers: exempt)
`
	if got := out.String(); got != want {
		t.Errorf("demo output:\n%s\nwant:\n%s", got, want)
	}
}

// run is what `make example` executes: it must end by itself.
func TestRunEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a real second")
	}
	done := make(chan error, 1)
	go func() { done <- run(0, false) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run(0, false) = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run(0, false) did not return within 30s")
	}
}
