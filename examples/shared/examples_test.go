package main

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSharedLimit(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	for i, step := range []struct {
		path string
		code int
	}{
		{"/report", 200}, {"/export", 200}, {"/report", 429}, {"/export", 429},
	} {
		if got := srv.Get(step.path); got.Code != step.code {
			t.Errorf("request %d: GET %s = %d %q, want %d", i, step.path, got.Code, got.Body, step.code)
		}
	}
	if got := srv.Get("/export"); got.Body != "2 per 1 minute" {
		t.Errorf("429 body = %q, want %q", got.Body, "2 per 1 minute")
	}
}

func TestScopePerHost(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	get := func(path, host string) int {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, step := range []struct {
		path, host string
		code       int
	}{
		{"/a", "one.example", 200}, {"/b", "one.example", 200}, {"/a", "one.example", 200},
		{"/b", "one.example", 429},
		// Other spellings of one host: the same bucket.
		{"/a", "ONE.example", 429}, {"/a", "one.example.", 429}, {"/b", "one.example:80", 429},
		{"/b", "two.example", 200}, // another host, another bucket
		// Names the application does not serve share one bucket.
		{"/a", "made-up-1.example", 200}, {"/a", "made-up-2.example", 200}, {"/a", "made-up-3.example", 200},
		{"/a", "made-up-4.example", 429},
	} {
		if got := get(step.path, step.host); got != step.code {
			t.Errorf("request %d: GET %s Host %s = %d, want %d", i, step.path, step.host, got, step.code)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
