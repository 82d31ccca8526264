package chilimit_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// Validate finds every malformed route limit the index can see, once
// each, wherever it is declared, and nothing on a router without one.
func TestValidate(t *testing.T) {
	lim, _ := newLimiter(t)
	good := chilimit.Limit("5/minute")
	typo := chilimit.Limit("5/min")
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(good).Get("/fine", text("ok"))
	r.With(typo).Get("/search", text("ok"))
	r.With(typo).Post("/search", text("ok")) // the same limit again: one error
	r.Method(http.MethodGet, "/wrapped", lim.Limit("ten per hour")(text("ok")))
	api := chi.NewRouter()
	api.Use(chilimit.SharedLimit("1/fortnight", "api"))
	api.Get("/items", text("ok"))
	r.Mount("/api", api)

	err := lim.Validate(r)
	if !errors.Is(err, chilimit.ErrInvalidConfig) || !errors.Is(err, limiter.ErrInvalidLimit) {
		t.Fatalf("Validate = %v, want an error wrapping ErrInvalidConfig and limiter.ErrInvalidLimit", err)
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`GET /api/items: route limit "1/fortnight"`,
		`GET /search: route limit "5/min"`,
		`GET /wrapped: route limit "ten per hour"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("Validate reported %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("error %d = %q, want it to name %s", i, lines[i], w)
		}
	}

	clean := chi.NewRouter()
	clean.Use(lim.Handler)
	clean.With(good).Get("/fine", text("ok"))
	clean.With(chilimit.LimitFunc(func(*http.Request) string { return "nonsense" })).Get("/dynamic", text("ok"))
	if err := lim.Validate(clean); err != nil {
		t.Errorf("Validate of a router whose static limits all parse = %v, want nil", err)
	}
	if err := lim.Validate(nil); !errors.Is(err, chilimit.ErrInvalidConfig) {
		t.Errorf("Validate(nil) = %v, want an error wrapping ErrInvalidConfig", err)
	}
}
