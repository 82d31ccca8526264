package main

import (
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLimitsPerPlan(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	if got, want := srv.Codes(3, "GET", "/api", "X-Plan", "free"), []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("free plan: %v, want %v", got, want)
	}
	// The pro plan's limit is another limit, so other buckets.
	if got, want := srv.Codes(6, "GET", "/api", "X-Plan", "pro"), append(extest.Repeat(200, 5), 429); !slices.Equal(got, want) {
		t.Errorf("pro plan: %v, want %v", got, want)
	}
}

func TestChangeLimitAtRunTime(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	if got, want := srv.Codes(3, "GET", "/api"), []int{200, 200, 429}; !slices.Equal(got, want) {
		t.Fatalf("free plan: %v, want %v", got, want)
	}
	put := func(plan, body string) extest.Response {
		t.Helper()
		return srv.DoBody("PUT", "/admin/plans/"+plan, body)
	}
	if got := put("free", "4/minute"); got.Code != 200 {
		t.Fatalf("PUT free 4/minute = %d %q, want 200", got.Code, got.Body)
	}
	// The new limit counts in its own buckets: 4 more requests.
	if got, want := srv.Codes(5, "GET", "/api"), []int{200, 200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("free plan at 4/minute: %v, want %v", got, want)
	}
	if got := put("free", "4/fortnight"); got.Code != 400 || !strings.Contains(got.Body, `unknown unit "fortnight"`) {
		t.Errorf("PUT free 4/fortnight = %d %q, want 400 naming the unit", got.Code, got.Body)
	}
	if got := srv.Get("/admin/plans"); got.Body != "free: 4/minute\npro: 5/minute" {
		t.Errorf("GET /admin/plans = %q", got.Body)
	}
}
