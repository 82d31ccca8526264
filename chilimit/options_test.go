package chilimit_test

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// Bad option values fail New with ErrInvalidConfig naming the input.
func TestOptionErrors(t *testing.T) {
	cases := []chilimit.Option{
		nil,
		chilimit.WithKeyFunc(nil),
		chilimit.WithTrustedProxies(0),
		chilimit.WithDefaultLimitFuncs(nil),
		chilimit.WithDefaultLimitsCost(0),
		chilimit.WithStorage(nil),
		chilimit.WithStorageTimeout(-time.Second),
		chilimit.WithHeaderNames(chilimit.HeaderNames{Limit: "X Bad"}),
		chilimit.WithHeaderNames(chilimit.HeaderNames{Reset: "X-Rate(Limit)"}), // net/http would drop it
		chilimit.WithHeaderNames(chilimit.HeaderNames{RetryAfter: "Wait-Seconds\u00e9"}),
		chilimit.WithRetryAfterFormat("minutes"),
		chilimit.WithHealthCheckBackoff(2*time.Second, time.Second),
		chilimit.WithLogger(nil),
		chilimit.WithLogInterval(-1),
		chilimit.WithClock(nil),
		chilimit.WithRequestFilter(nil),
		chilimit.WithConfigLookup(nil),
	}
	for i, o := range cases {
		_, err := chilimit.New(o)
		if !errors.Is(err, chilimit.ErrInvalidConfig) {
			t.Errorf("case %d: New = %v, want ErrInvalidConfig", i, err)
			continue
		}
		// One prefix, then what is wrong, as New's other errors read.
		if msg := err.Error(); !strings.HasPrefix(msg, "chilimit: invalid configuration: ") || strings.Count(msg, "chilimit:") != 1 {
			t.Errorf("case %d: New = %q, want \"chilimit: invalid configuration: \" and what is wrong", i, msg)
		}
	}
	if _, err := chilimit.New(chilimit.WithStrategy("moving-window"), chilimit.WithStorage(fixedOnly{})); !errors.Is(err, limiter.ErrUnsupported) {
		t.Errorf("moving-window over a fixed-window-only storage: %v, want ErrUnsupported", err)
	}
}

// fixedOnly is a storage with no optional capability.
type fixedOnly struct{ limiter.Storage }

// Default limits from functions, exempt-when and per method.
func TestDefaultLimitOptions(t *testing.T) {
	t.Run("funcs", func(t *testing.T) {
		spec := "1/minute"
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("3/hour"), chilimit.WithDefaultLimitFuncs(func(*http.Request) string { return spec }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200}, {path: "/", code: 429, body: "1 per 1 minute"},
			{path: "/", advance: time.Minute, code: 200},
			{path: "/", advance: time.Minute, code: 200},
			{path: "/", advance: time.Minute, code: 429, body: "3 per 1 hour"},
		})
	})
	t.Run("exempt when", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"),
			chilimit.WithDefaultLimitsExemptWhen(func(r *http.Request) bool { return r.Header.Get("X-Admin") != "" }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, concat(repeat(3, step{path: "/", opts: []reqOpt{header("X-Admin", "1")}, code: 200}),
			[]step{{path: "/", code: 200}, {path: "/", code: 429}}))
	})
	t.Run("per method", func(t *testing.T) {
		for _, perMethod := range []bool{false, true} {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithDefaultLimitsPerMethod(perMethod))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Get("/", text("ok"))
			r.Post("/", text("ok"))
			want := 429
			if perMethod {
				want = 200
			}
			run(t, r, clock, []step{{path: "/", code: 200}, {method: "POST", path: "/", code: want}})
		}
	})
	t.Run("cost func", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("5/hour"),
			chilimit.WithDefaultLimitsCostFunc(func(r *http.Request) int64 { return int64(len(r.URL.Query().Get("q"))) }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/?q=aaa", code: 200}, {path: "/?q=aaa", code: 429}, {path: "/?q=aa", code: 200}, {path: "/?q=a", code: 429}})
	})
}

// Storage options reach the backend opened by URI: the backend accepts
// good ones and refuses a bad one, which it could not do without seeing it.
func TestStorageOptions(t *testing.T) {
	l, err := chilimit.New(chilimit.WithStorageURI("memory://"), chilimit.WithStorageOptions(memory.WithShards(4), memory.WithSweepInterval(0)))
	if err != nil {
		t.Fatalf("New with memory options: %v", err)
	}
	_ = l.Close()
	_, err = chilimit.New(chilimit.WithStorageURI("memory://"), chilimit.WithStorageOptions(memory.WithShards(0)))
	if !errors.Is(err, limiter.ErrInvalidOption) || !strings.Contains(err.Error(), "WithShards(0)") {
		t.Fatalf("New with memory.WithShards(0) = %v, want the backend's ErrInvalidOption naming it", err)
	}
}

// A storage URI's password stays out of New's error.
func TestStorageURIErrorHidesPassword(t *testing.T) {
	for _, uri := range []string{"memory://user:hunter2@/?bogus=1", "nosuch://user:hunter2@host/"} {
		_, err := chilimit.New(chilimit.WithStorageURI(uri))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(WithStorageURI(%q)) = %v, want an error without the password", uri, err)
		}
	}
}

// N concurrent requests on a limit of L: exactly L succeed.
func TestConcurrentRequests(t *testing.T) {
	const n, limit = 64, 10
	lim, _ := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("10/hour", chilimit.OverrideDefaults(false))).Get("/", text("ok"))
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- get(r, "/").Code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200] != limit || count[429] != n-limit {
		t.Fatalf("codes = %v, want %d×200 and %d×429", count, limit, n-limit)
	}
}

// FromEnv reads the process environment.
func TestFromEnv(t *testing.T) {
	t.Setenv("RATELIMIT_DEFAULT", "1/hour")
	t.Setenv("RATELIMIT_STORAGE_URI", "memory://")
	t.Setenv("RATELIMIT_HEADERS_ENABLED", "on")
	lim, err := chilimit.New(chilimit.FromEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	if w := get(r, "/"); w.Code != 200 || w.Header().Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("first = %d, limit header %q; want 200, 1", w.Code, w.Header().Get("X-RateLimit-Limit"))
	}
	if w := get(r, "/"); w.Code != 429 {
		t.Fatalf("second = %d, want 429", w.Code)
	}
}

// RATELIMIT_GLOBAL, Flask-Limiter's name for the default limits before
// 0.9.4, is still read, wins over RATELIMIT_DEFAULT as in 1.x, and is
// warned about; an explicit WithDefaultLimits wins over both.
func TestConfigGlobalIsDeprecatedDefault(t *testing.T) {
	env := map[string]string{"RATELIMIT_GLOBAL": "1/hour", "RATELIMIT_DEFAULT": "5/hour"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var logs syncBuffer
	lim, clock := newLimiter(t, chilimit.WithConfigLookup(lookup), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429}})
	if !strings.Contains(logs.String(), "RATELIMIT_GLOBAL is deprecated") {
		t.Errorf("logs = %q, want a deprecation warning", logs.String())
	}

	lim, clock = newLimiter(t, chilimit.WithConfigLookup(lookup), chilimit.WithDefaultLimits("2/hour"))
	r = chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 200}, {path: "/x", code: 429}})
}

// Every configuration error New returns wraps ErrInvalidConfig, and the
// limiter package's sentinel for what was wrong, from an option or from
// the environment alike.
func TestNewConfigErrorsWrapErrInvalidConfig(t *testing.T) {
	env := func(k, v string) chilimit.Option {
		return chilimit.WithConfigLookup(func(key string) (string, bool) { return v, key == k })
	}
	for name, tc := range map[string]struct {
		opt  chilimit.Option
		also error
	}{
		"WithDefaultLimits":     {chilimit.WithDefaultLimits("5/weak"), limiter.ErrInvalidLimit},
		"WithApplicationLimits": {chilimit.WithApplicationLimits("5/"), limiter.ErrInvalidLimit},
		"WithStrategy":          {chilimit.WithStrategy("leaky-bucket"), limiter.ErrUnknownStrategy},
		"WithStorageURI":        {chilimit.WithStorageURI("memory://?bogus=1"), limiter.ErrInvalidURI},
		"RATELIMIT_DEFAULT":     {env("RATELIMIT_DEFAULT", "5/weak"), limiter.ErrInvalidLimit},
		"RATELIMIT_STRATEGY":    {env("RATELIMIT_STRATEGY", "leaky-bucket"), limiter.ErrUnknownStrategy},
		"RATELIMIT_STORAGE_URI": {env("RATELIMIT_STORAGE_URI", "memory://?bogus=1"), limiter.ErrInvalidURI},
	} {
		_, err := chilimit.New(tc.opt)
		if !errors.Is(err, chilimit.ErrInvalidConfig) || !errors.Is(err, tc.also) {
			t.Errorf("%s: New = %v, want an error wrapping ErrInvalidConfig and %v", name, err, tc.also)
		}
	}
}

// WithDefaultLimitFuncs sets the default limits as WithDefaultLimits does,
// so RATELIMIT_DEFAULT is not read: Flask-Limiter's constructor
// default_limits, strings or callables, win over its configuration.
func TestDefaultLimitFuncsWinOverEnv(t *testing.T) {
	lim, clock := newLimiter(t,
		chilimit.WithConfigLookup(func(k string) (string, bool) { return "1/minute", k == "RATELIMIT_DEFAULT" }),
		chilimit.WithDefaultLimitFuncs(func(*http.Request) string { return "2/minute" }))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 200}, {path: "/x", code: 429, body: "2 per 1 minute"}})
}

// Application limits from functions (Flask-Limiter's application_limits
// accepts callables): read per request, with the route's URL parameters,
// one set of buckets for every route, beside the static ones; a malformed
// string is logged and ignored; RATELIMIT_APPLICATION is not read.
func TestApplicationLimitFuncs(t *testing.T) {
	t.Run("read per request, shared by every route", func(t *testing.T) {
		var spec atomic.Value
		spec.Store("2/minute")
		lim, clock := newLimiter(t, chilimit.WithApplicationLimitFuncs(func(*http.Request) string { return spec.Load().(string) }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/a", text("a"))
		r.Get("/b", text("b"))
		run(t, r, clock, []step{{path: "/a", code: 200}, {path: "/b", code: 200}, {path: "/a", code: 429, body: "2 per 1 minute"}})
		spec.Store("3/minute")
		run(t, r, clock, []step{{path: "/b", code: 200}, {path: "/a", code: 200}, {path: "/b", code: 200}, {path: "/a", code: 429, body: "3 per 1 minute"}})
	})
	t.Run("sees the route, beside static limits", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithApplicationLimits("3/hour"),
			chilimit.WithApplicationLimitFuncs(func(r *http.Request) string {
				if chi.URLParam(r, "tier") == "free" {
					return "1/minute"
				}
				return "100/minute"
			}))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/p/{tier}", text("ok"))
		run(t, r, clock, []step{
			{path: "/p/free", code: 200}, {path: "/p/free", code: 429, body: "1 per 1 minute"},
			{path: "/p/gold", code: 200}, {path: "/p/gold", code: 200}, {path: "/p/gold", code: 429, body: "3 per 1 hour"},
		})
	})
	t.Run("malformed is ignored and logged", func(t *testing.T) {
		var logs syncBuffer
		lim, clock := newLimiter(t, chilimit.WithApplicationLimits("2/minute"), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
			chilimit.WithApplicationLimitFuncs(func(*http.Request) string { return "1/fortnight" }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429, body: "2 per 1 minute"}})
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "1/fortnight") {
			t.Fatalf("log = %q, want an ERROR naming the limit", logs.String())
		}
	})
	t.Run("wins over the environment", func(t *testing.T) {
		lim, clock := newLimiter(t,
			chilimit.WithConfigLookup(func(k string) (string, bool) { return "1/minute", k == "RATELIMIT_APPLICATION" }),
			chilimit.WithApplicationLimitFuncs(func(*http.Request) string { return "2/minute" }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/x", text("x"))
		run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 200}, {path: "/x", code: 429, body: "2 per 1 minute"}})
	})
	for _, opt := range []chilimit.Option{chilimit.WithApplicationLimitFuncs(nil), chilimit.WithInMemoryFallbackFuncs(func(*http.Request) string { return "" }, nil)} {
		if _, err := chilimit.New(opt); !errors.Is(err, chilimit.ErrInvalidConfig) || !strings.Contains(err.Error(), "Funcs: func") {
			t.Errorf("New with a nil func = %v, want ErrInvalidConfig naming the option and the func", err)
		}
	}
}
