package main

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOnlyFailuresCount(t *testing.T) {
	srv, clock := extest.StartRouter(t, newRouter)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	try := func(pw string) int {
		t.Helper()
		return srv.DoBody("POST", "/login", "password="+pw, form...).Code
	}
	steps := []struct {
		password string
		code     int
	}{
		{password, 200}, {password, 200}, {password, 200}, {password, 200}, // successes are free
		{"a", 401}, {"b", 401}, {password, 200},
		{"c", 401},      // the third failure is counted
		{password, 429}, // and now everything waits
		{"d", 429},
	}
	for i, s := range steps {
		if got := try(s.password); got != s.code {
			t.Errorf("attempt %d with password %q = %d, want %d", i, s.password, got, s.code)
		}
	}
	clock.Advance(time.Minute)
	if got := try(password); got != 200 {
		t.Errorf("right password a minute later = %d, want 200", got)
	}
	// Nine more successes fill the cap of 10 attempts a minute.
	for i := range 9 {
		if got := try(password); got != 200 {
			t.Fatalf("success %d of the new minute = %d, want 200", i+2, got)
		}
	}
	if got := try(password); got != 429 {
		t.Errorf("eleventh attempt in a minute = %d, want 429 (the cap)", got)
	}
}

// The requests the program prints a curl line for reach a route.
func TestTryLines(t *testing.T) {
	srv, _ := extest.StartRouter(t, newRouter)
	extest.CheckTry(t, srv, try)
}
