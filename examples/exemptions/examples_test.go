package main

import (
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExemptions(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	tests := []struct {
		name   string
		path   string
		header []string
		n      int
		want   []int
	}{
		{"defaults on /", "/", nil, 4, []int{200, 200, 200, 429}},
		{"/health is exempt", "/health", nil, 10, extest.Repeat(200, 10)},
		{"/reports has its own limit", "/reports", nil, 2, []int{200, 429}},
		{"admins skip the /reports limit", "/reports", []string{"X-Role", "admin"}, 5, extest.Repeat(200, 5)},
		{"the request filter skips every limit", "/", []string{"X-Internal-Token", internalToken}, 5, extest.Repeat(200, 5)},
		{"a wrong token does not", "/", []string{"X-Internal-Token", "guess"}, 1, []int{429}},
		{"/ is still limited", "/", nil, 1, []int{429}},
	}
	for _, tt := range tests {
		if got := srv.Codes(tt.n, "GET", tt.path, tt.header...); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %d × GET %s %q = %v, want %v", tt.name, tt.n, tt.path, tt.header, got, tt.want)
		}
	}
}
