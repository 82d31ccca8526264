package chilimit_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
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

// smallStorage is a memory storage that holds moving windows of at most
// 100 units, and says so through limiter.LimitChecker, as memcached's
// storage does for its item size.
type smallStorage struct{ *memory.Storage }

func (smallStorage) CheckLimit(strategy string, l limiter.Limit) error {
	if strategy == limiter.StrategyMovingWindow && l.Amount > 100 {
		return fmt.Errorf("small storage: %s: at most 100: %w", l, limiter.ErrUnsupported)
	}
	return nil
}

// Limits the storage cannot hold are refused where the limiter starts:
// New refuses such default, application and meta limits, and Validate
// such route limits.
func TestLimitsTheStorageCannotHold(t *testing.T) {
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	small := chilimit.WithStorage(smallStorage{mem})
	moving := chilimit.WithStrategy(limiter.StrategyMovingWindow)
	for _, opt := range []chilimit.Option{
		chilimit.WithDefaultLimits("10/second", "1000/hour"),
		chilimit.WithApplicationLimits("101/minute"),
		chilimit.WithMetaLimits("5000/day"),
	} {
		_, err := chilimit.New(small, moving, opt)
		if !errors.Is(err, chilimit.ErrInvalidConfig) || !errors.Is(err, limiter.ErrUnsupported) {
			t.Errorf("New with a limit the storage cannot hold = %v, want an error wrapping ErrInvalidConfig and limiter.ErrUnsupported", err)
		}
	}
	lim, err := chilimit.New(small, moving, chilimit.WithDefaultLimits("100/hour"))
	if err != nil {
		t.Fatalf("New with limits the storage holds: %v", err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("50/minute")).Get("/fits", text("ok"))
	r.With(chilimit.Limit("10/second;500/hour")).Get("/too-big", text("ok"))
	err = lim.Validate(r)
	if !errors.Is(err, limiter.ErrUnsupported) || !strings.Contains(err.Error(), `GET /too-big: route limit "10/second;500/hour"`) || strings.Contains(err.Error(), "/fits") {
		t.Errorf("Validate = %v, want one error, for /too-big, wrapping limiter.ErrUnsupported", err)
	}

	// A limit read per request that the storage cannot hold is logged and
	// ignored, as a malformed one is, instead of failing the request.
	var logs syncBuffer
	lim, err = chilimit.New(small, moving, chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r = chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.LimitFunc(func(*http.Request) string { return "1000/hour" })).Get("/dynamic", text("ok"))
	for range 3 {
		if code := get(r, "/dynamic").Code; code != 200 {
			t.Fatalf("GET /dynamic with a limit the storage cannot hold = %d, want 200 (the limit ignored)", code)
		}
	}
	if !strings.Contains(logs.String(), "storage cannot hold") || !strings.Contains(logs.String(), "at most 100") {
		t.Errorf("log = %q, want an ERROR naming why the limit was ignored", logs.String())
	}
}
