package serve

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestListenLoopbackOnly(t *testing.T) {
	ln, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if addr := ln.Addr().String(); !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("Listen(0) on %s, want 127.0.0.1 and a chosen port", addr)
	}
	for _, port := range []int{-1, 65536} {
		if _, err := Listen(port); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Listen(%d) = %v, want an out-of-range error", port, err)
		}
	}
}

func TestAnnounceAndServe(t *testing.T) {
	ln, err := Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	Announce(&out, ln, "/a", "POST /b", "GET /c")
	base := "http://" + ln.Addr().String()
	if want := "listening on " + base + "\ntry: curl -i " + base + "/a\ntry: curl -i -X POST " + base + "/b\ntry: curl -i " + base + "/c\n"; out.String() != want {
		t.Errorf("Announce wrote %q, want %q", out.String(), want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") }))
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if string(body) != "hi" {
		t.Errorf("GET /a = %q, want hi", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("SERVE_TEST_SET", "x")
	t.Setenv("SERVE_TEST_EMPTY", "")
	if got := Env("SERVE_TEST_SET", "d"); got != "x" {
		t.Errorf("Env(set) = %q, want x", got)
	}
	if got := Env("SERVE_TEST_EMPTY", "d"); got != "d" {
		t.Errorf("Env(empty) = %q, want d", got)
	}
}
