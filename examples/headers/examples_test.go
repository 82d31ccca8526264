package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var names = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "RateLimit", "RateLimit-Policy"}

func check(t *testing.T, step string, got extest.Response, code int, want map[string]string) {
	t.Helper()
	if got.Code != code {
		t.Errorf("%s: status %d, want %d", step, got.Code, code)
	}
	for _, name := range names {
		if g, w := got.Header.Get(name), want[name]; g != w {
			t.Errorf("%s: %s = %q, want %q", step, name, g, w)
		}
	}
}

func TestHeaders(t *testing.T) {
	srv, clock := extest.StartRouter(t, newRouter)
	epoch := extest.Epoch.Unix()
	reset := func(seconds int64) string { return formatInt(epoch + seconds) }
	policy := `"2 per 1 second";q=2;w=1, "10 per 1 minute";q=10;w=60`

	check(t, "first", srv.Get("/"), 200, map[string]string{
		"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset(1),
		"RateLimit": `"2 per 1 second";r=1;t=1`, "RateLimit-Policy": policy,
	})
	check(t, "second", srv.Get("/"), 200, map[string]string{
		"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(1),
		"RateLimit": `"2 per 1 second";r=0;t=1`, "RateLimit-Policy": policy,
	})
	// Rejected by the first limit checked; the policy still lists both.
	check(t, "third, rejected", srv.Get("/"), 429, map[string]string{
		"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(1), "Retry-After": "1",
		"RateLimit": `"2 per 1 second";r=0;t=1`, "RateLimit-Policy": policy,
	})
	// Eight more, two a second: the minute's limit is breached next.
	for range 4 {
		clock.Advance(time.Second)
		srv.Get("/")
		srv.Get("/")
	}
	clock.Advance(time.Second)
	check(t, "eleventh in the minute", srv.Get("/"), 429, map[string]string{
		"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(60), "Retry-After": "55",
		"RateLimit": `"10 per 1 minute";r=0;t=55`, "RateLimit-Policy": policy,
	})
}

// Retry-After as an HTTP date, and renamed headers, are options too: those
// of the -http-date and -rename flags.
func TestHTTPDateAndNames(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter, options(true, true)...)
	srv.Get("/")
	srv.Get("/")
	got := srv.Get("/")
	want := extest.Epoch.Add(time.Second).Format(http.TimeFormat)
	if got.Code != 429 || got.Header.Get("Retry-After") != want || got.Header.Get("RateLimit-Limit") != "2" || got.Header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("rejected: %d Retry-After %q RateLimit-Limit %q X-RateLimit-Limit %q, want 429 %q \"2\" \"\"",
			got.Code, got.Header.Get("Retry-After"), got.Header.Get("RateLimit-Limit"), got.Header.Get("X-RateLimit-Limit"), want)
	}
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// The requests the program prints a curl line for reach a route.
func TestTryLines(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	extest.CheckTry(t, srv, try)
}
