package chilimit_test

// One test per section of the reference documentation
// (/work/shared/reference/flask-limiter-docs.txt), named after it:
//
//	Quick start                                   TestQuickStart, Example
//	The Flask-Limiter extension                   TestTheFlaskLimiterExtension
//	Rate Limit Domain                             TestRateLimitDomain
//	Decorators (single, multiple, custom key,
//	  dynamic limit strings, exemption conditions) TestDecorators
//	Shared limits (named, dynamic)                TestSharedLimits
//	Exempt                                        TestExempt, TestNestedExemptions, TestStaticFilesExempt
//	Request filter                                TestRequestFilter
//	Configuration (RATELIMIT_*)                   TestConfiguration
//	Rate limit string notation                    TestRateLimitStringNotation
//	Rate limiting strategies                      TestRateLimitingStrategies
//	Rate-limiting Headers                         TestRateLimitingHeaders, TestIETFHeaders
//	Rate Limit Key Functions                      TestRateLimitKeyFunctions
//	Custom Rate limit exceeded responses          TestCustomRateLimitExceededResponses
//	Customizing rate limits based on response     TestCustomizingRateLimitsBasedOnResponse, TestDeductWhenSeesEveryStatus
//	Using Flask Pluggable Views                   TestPluggableViews
//	Rate limiting all routes in a Blueprint       TestBlueprints, TestSubRouterChains
//	Logging                                       TestLogging
//	Custom error messages                         TestCustomErrorMessages
//	Deploying an application behind a proxy       TestDeployingBehindAProxy
//	API (Limiter parameters, reset)               TestAPI, TestDefaultLimitOptions, TestStorageErrors, TestInMemoryFallback
//	RateLimitExceeded                             TestRateLimitExceeded
//
// Later Flask-Limiter features have their tests in features_test.go (cost,
// on_breach, meta limits, dry run), and the chi specifics in
// routing_test.go (404/405, look-ahead pitfalls).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// Quick start: defaults 200/day and 50/hour; /slow replaces them with
// 1/day; /medium adds 1/second; /fast has the defaults; /ping is exempt.
func TestQuickStart(t *testing.T) {
	lim, clock := newLimiter(t,
		chilimit.WithKeyFunc(chilimit.RemoteAddr),
		chilimit.WithDefaultLimits("200 per day", "50 per hour"),
		chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1 per day")).Get("/slow", text(":("))
	r.With(chilimit.Limit("1/second", chilimit.OverrideDefaults(false))).Get("/medium", text(":|"))
	r.Get("/fast", text(":)"))
	r.With(chilimit.Exempt).Get("/ping", text("PONG"))

	t.Run("slow", func(t *testing.T) {
		run(t, r, clock, []step{
			{path: "/slow", code: 200, body: ":(", headers: map[string]string{"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}},
			{path: "/slow", advance: time.Hour, code: 429, body: "1 per 1 day", headers: map[string]string{"X-RateLimit-Limit": "1", "Retry-After": "82800"}},
		})
	})
	t.Run("medium", func(t *testing.T) {
		steps := []step{
			{path: "/medium", code: 200, body: ":|", headers: map[string]string{"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}},
			{path: "/medium", code: 429, body: "1 per 1 second", headers: map[string]string{"Retry-After": "1"}},
		}
		// 49 more within the hour, one a second: the 50/hour default is
		// counted (the rejected request above was not).
		steps = append(steps, repeat(49, step{path: "/medium", advance: time.Second, code: 200})...)
		steps = append(steps, step{path: "/medium", advance: time.Second, code: 429, body: "50 per 1 hour"})
		run(t, r, clock, steps)
	})
	t.Run("fast", func(t *testing.T) {
		clock.Advance(2 * time.Hour)
		steps := []step{{path: "/fast", code: 200, body: ":)", headers: map[string]string{"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49"}}}
		steps = append(steps, repeat(49, step{path: "/fast", code: 200})...)
		steps = append(steps, step{path: "/fast", code: 429, body: "50 per 1 hour", headers: map[string]string{"X-RateLimit-Remaining": "0"}})
		run(t, r, clock, steps)
	})
	t.Run("ping", func(t *testing.T) {
		run(t, r, clock, repeat(300, step{path: "/ping", code: 200, body: "PONG", headers: map[string]string{"X-RateLimit-Limit": ""}}))
	})
}

// The Flask-Limiter extension: New builds the limiter, Handler installs it.
// A disabled limiter (kill switch) limits nothing.
func TestTheFlaskLimiterExtension(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"), chilimit.WithEnabled(enabled))
		if lim.Enabled() != enabled {
			t.Fatalf("Enabled() = %v, want %v", lim.Enabled(), enabled)
		}
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour")).Get("/limited", text("ok"))
		r.Get("/", text("ok"))
		want := 429
		if !enabled {
			want = 200
		}
		run(t, r, clock, []step{
			{path: "/", code: 200}, {path: "/", code: want},
			{path: "/limited", code: 200}, {path: "/limited", code: want},
		})
	}
}

// Rate Limit Domain: the key function decides the bucket; the default is
// the TCP peer address, never a forwarded header.
func TestRateLimitDomain(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{
		{path: "/", opts: []reqOpt{from("10.0.0.1:1000")}, code: 200},
		{path: "/", opts: []reqOpt{from("10.0.0.1:2000")}, code: 429}, // same host, other port
		{path: "/", opts: []reqOpt{from("10.0.0.2:1000")}, code: 200},
		{path: "/", opts: []reqOpt{from("[2001:db8::1]:1000")}, code: 200},
		{path: "/", opts: []reqOpt{from("[2001:db8::1]:1001")}, code: 429},
		// A forged X-Forwarded-For does not change the key.
		{path: "/", opts: []reqOpt{from("10.0.0.1:1000"), header("X-Forwarded-For", "203.0.113.9")}, code: 429},
	})
}

// Decorators: a single limit string with several limits, stacked markers,
// a custom key function, dynamically loaded limits and exemption
// conditions.
func TestDecorators(t *testing.T) {
	t.Run("single decorator with several limits", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithHeaders(true))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("3/minute;2 per second")).Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200, headers: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}},
			{path: "/", code: 200},
			{path: "/", code: 429, body: "2 per 1 second"},
			{path: "/", advance: time.Second, code: 200, headers: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}},
			{path: "/", code: 429, body: "3 per 1 minute", headers: map[string]string{"X-RateLimit-Limit": "3", "Retry-After": "59"}},
		})
	})
	t.Run("multiple decorators", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("3/minute"), chilimit.Limit("2/second")).Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200}, {path: "/", code: 200},
			{path: "/", code: 429, body: "2 per 1 second"},
			{path: "/", advance: time.Second, code: 200},
			{path: "/", code: 429, body: "3 per 1 minute"},
		})
	})
	t.Run("custom keying function sees URL params", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		byUser := chilimit.KeyFunc(func(r *http.Request) string { return chi.URLParam(r, "user") })
		r.With(chilimit.Limit("1/day", byUser)).Get("/users/{user}", text("ok"))
		run(t, r, clock, []step{
			{path: "/users/ann", code: 200},
			{path: "/users/ann", opts: []reqOpt{from("10.9.9.9:1")}, code: 429}, // other address, same user
			{path: "/users/bob", code: 200},
		})
	})
	t.Run("dynamically loaded limit string", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/second"))
		cfg := "1/second"
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.LimitFunc(func(*http.Request) string { return cfg })).Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 429, body: "1 per 1 second"}})
		cfg = "2/second"
		run(t, r, clock, []step{{path: "/", advance: time.Second, code: 200}, {path: "/", code: 200}, {path: "/", code: 429, body: "2 per 1 second"}})
		// A malformed string falls back to the defaults for the request.
		cfg = "2/fortnight"
		run(t, r, clock, repeat(3, step{path: "/", code: 200}))
	})
	t.Run("exemption conditions", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		admin := func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }
		r.With(chilimit.Limit("1/day", chilimit.ExemptWhen(admin))).Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200},
			{path: "/", opts: []reqOpt{header("X-Admin", "yes")}, code: 200},
			{path: "/", opts: []reqOpt{header("X-Admin", "yes")}, code: 200},
			{path: "/", code: 429},
		})
	})
}

// Shared limits: a named scope shared by several routes, and a scope
// computed from the request.
func TestSharedLimits(t *testing.T) {
	t.Run("named shared limit", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("100/second"))
		mysql := lim.SharedLimit("2/hour", "mysql")
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(mysql).Get("/r1", text("r1"))
		r.With(mysql).Get("/r2", text("r2"))
		r.Get("/r3", text("r3"))
		run(t, r, clock, []step{
			{path: "/r1", code: 200}, {path: "/r2", code: 200},
			{path: "/r1", code: 429, body: "2 per 1 hour"}, {path: "/r2", code: 429},
			{path: "/r3", code: 200},
		})
	})
	t.Run("dynamic shared limit", func(t *testing.T) {
		lim, clock := newLimiter(t)
		host := chilimit.SharedLimit("1/hour", "", chilimit.ScopeFunc(func(r *http.Request, pattern string) string { return r.Host }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(host).Get("/r1", text("r1"))
		r.With(host).Get("/r2", text("r2"))
		run(t, r, clock, []step{
			{path: "http://a.example/r1", code: 200},
			{path: "http://a.example/r2", code: 429},
			{path: "http://b.example/r2", code: 200},
		})
	})
	t.Run("a nil scope function shares nothing", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour", chilimit.ScopeFunc(nil))).Get("/a", text("a"))
		r.With(chilimit.Limit("1/hour", chilimit.ScopeFunc(nil))).Get("/b", text("b"))
		run(t, r, clock, []step{{path: "/a", code: 200}, {path: "/b", code: 200}, {path: "/a", code: 429}})
	})
	t.Run("shared and individual limits chained", func(t *testing.T) {
		lim, clock := newLimiter(t)
		shared := chilimit.SharedLimit("3/hour", "umbrella")
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(shared, chilimit.Limit("1/minute")).Get("/a", text("a"))
		r.With(shared).Get("/b", text("b"))
		run(t, r, clock, []step{
			// The rejected /a was stopped by 1/minute (smallest window
			// first) and not counted against the shared limit.
			{path: "/a", code: 200}, {path: "/a", code: 429, body: "1 per 1 minute"},
			{path: "/b", code: 200}, {path: "/b", code: 200}, {path: "/b", code: 429, body: "3 per 1 hour"},
		})
	})
}

// Exempt: a route, or a whole sub-router, with no limits.
func TestExempt(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/day"), chilimit.WithApplicationLimits("1000/day"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Exempt).Get("/ping", text("PONG"))
	r.Route("/doc", func(r chi.Router) {
		r.Use(chilimit.Exempt)
		r.Get("/", text("doc"))
		r.Get("/{page}", text("page"))
	})
	r.Get("/", text("index"))
	steps := concat(
		repeat(3, step{path: "/ping", code: 200}),
		repeat(3, step{path: "/doc/", code: 200}),
		repeat(3, step{path: "/doc/intro", code: 200}),
		[]step{{path: "/", code: 200}, {path: "/", code: 429}},
	)
	run(t, r, clock, steps)
}

// Request filters: whitelists by header or address skip every limit.
func TestRequestFilter(t *testing.T) {
	lim, clock := newLimiter(t,
		chilimit.WithDefaultLimits("1/day"),
		chilimit.WithRequestFilter(
			func(r *http.Request) bool { return r.Header.Get("X-Internal") == "true" },
			func(r *http.Request) bool { return chilimit.RemoteAddr(r) == "127.0.0.1" },
		))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	r.With(chilimit.Limit("1/day")).Get("/limited", text("ok"))
	run(t, r, clock, concat(
		repeat(3, step{path: "/", opts: []reqOpt{header("X-Internal", "true")}, code: 200}),
		repeat(3, step{path: "/limited", opts: []reqOpt{from("127.0.0.1:5000")}, code: 200}),
		[]step{{path: "/", code: 200}, {path: "/", code: 429}, {path: "/limited", code: 200}, {path: "/limited", code: 429}},
	))
}

// Configuration: the RATELIMIT_* keys, with explicit options winning.
func TestConfiguration(t *testing.T) {
	env := map[string]string{
		"RATELIMIT_DEFAULT":                  "2/minute",
		"RATELIMIT_APPLICATION":              "3/hour",
		"RATELIMIT_HEADERS_ENABLED":          "true",
		"RATELIMIT_HEADER_LIMIT":             "X-My-Limit",
		"RATELIMIT_HEADER_REMAINING":         "X-My-Remaining",
		"RATELIMIT_HEADER_RESET":             "X-My-Reset",
		"RATELIMIT_HEADER_RETRY_AFTER":       "X-My-Retry",
		"RATELIMIT_HEADER_RETRY_AFTER_VALUE": "http-date",
		"RATELIMIT_STRATEGY":                 "moving-window",
		"RATELIMIT_KEY_PREFIX":               "app1",
		"RATELIMIT_DEFAULTS_PER_METHOD":      "yes",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	lim, clock := newLimiter(t, chilimit.WithConfigLookup(lookup))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	r.Post("/", text("ok"))
	r.Get("/other", text("ok"))
	retry := t0.Add(time.Minute).Format(http.TimeFormat)
	run(t, r, clock, []step{
		{path: "/", code: 200, headers: map[string]string{"X-My-Limit": "2", "X-My-Remaining": "1", "X-RateLimit-Limit": ""}},
		{path: "/", code: 200},
		{path: "/", code: 429, body: "2 per 1 minute", headers: map[string]string{"X-My-Retry": retry}},
		// Defaults are per method; the application limit is shared (the
		// rejected GET was stopped by the default limit, smallest window
		// first, so it did not count).
		{method: "POST", path: "/", code: 200},
		{method: "POST", path: "/", code: 429, body: "3 per 1 hour"},
	})

	t.Run("application limits count before the route's middleware", func(t *testing.T) {
		// As Flask-Limiter's before_request: middleware that answers before
		// the route's limit (an auth check) cannot take a request around
		// the application limits.
		lim, clock := newLimiter(t, chilimit.WithApplicationLimits("2/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(requireAuthorization, chilimit.Limit("100/second")).Get("/x", text("ok"))
		run(t, r, clock, []step{
			{path: "/x", code: 401}, {path: "/x", code: 401},
			{path: "/x", code: 429, body: "2 per 1 hour"},
		})
	})
	t.Run("explicit options win regardless of order", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"), chilimit.WithConfigLookup(lookup), chilimit.WithHeaders(false))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200, headers: map[string]string{"X-My-Limit": ""}}, {path: "/", code: 429, body: "1 per 1 minute"}})
	})
	t.Run("enabled and swallow and fallback keys", func(t *testing.T) {
		env := map[string]string{"RATELIMIT_ENABLED": "false", "RATELIMIT_DEFAULT": "1/minute"}
		lim, clock := newLimiter(t, chilimit.WithConfigLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, repeat(3, step{path: "/", code: 200}))
	})
	t.Run("bad values fail New naming their key", func(t *testing.T) {
		for _, kv := range [][2]string{
			{"RATELIMIT_HEADERS_ENABLED", "maybe"},
			{"RATELIMIT_DEFAULT", "1/fortnight"},
			{"RATELIMIT_APPLICATION", "x"},
			{"RATELIMIT_META", "10/"},
			{"RATELIMIT_STRATEGY", "leaky"},
			{"RATELIMIT_STORAGE_URI", "nosuch://"},
			{"RATELIMIT_STORAGE_URL", "nosuch://"},
			{"RATELIMIT_HEADER_RETRY_AFTER_VALUE", "minutes"},
			{"RATELIMIT_IN_MEMORY_FALLBACK", "5/sec"},
			{"RATELIMIT_HEADER_LIMIT", "X Limit"},
			{"RATELIMIT_HEADER_RETRY_AFTER", "Retry(After)"},
			{"RATELIMIT_STORAGE_OPTIONS", "nosuch=1"},
			{"RATELIMIT_STORAGE_OPTIONS", "shards=-1"},
			{"RATELIMIT_STORAGE_OPTIONS", "shards=%zz"},
		} {
			_, err := chilimit.New(chilimit.WithConfigLookup(func(k string) (string, bool) {
				if k == kv[0] {
					return kv[1], true
				}
				return "", false
			}))
			if err == nil {
				t.Errorf("New with %s=%q: nil error", kv[0], kv[1])
			} else if !strings.Contains(err.Error(), kv[0]) {
				t.Errorf("New with %s=%q: error %q does not name the key", kv[0], kv[1], err)
			}
		}
	})
	t.Run("storage options are the storage URI's query parameters", func(t *testing.T) {
		for _, env := range []map[string]string{
			{"RATELIMIT_STORAGE_OPTIONS": "shards=4&sweep_interval=0"},
			{"RATELIMIT_STORAGE_URI": "memory://?shards=4", "RATELIMIT_STORAGE_OPTIONS": "sweep_interval=0"},
		} {
			lim, err := chilimit.New(chilimit.WithConfigLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
			if err != nil {
				t.Fatalf("New with %v: %v", env, err)
			}
			_ = lim.Close()
		}
		// A parameter the URI gives already is a parameter given twice;
		// the error names where the URI and the options came from.
		env := map[string]string{"RATELIMIT_STORAGE_URI": "memory://?shards=4", "RATELIMIT_STORAGE_OPTIONS": "shards=8"}
		lookup := chilimit.WithConfigLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if _, err := chilimit.New(lookup); err == nil || !strings.Contains(err.Error(), "RATELIMIT_STORAGE_URI and RATELIMIT_STORAGE_OPTIONS") {
			t.Errorf("New with %v: error %v, want one naming both keys", env, err)
		}
		delete(env, "RATELIMIT_STORAGE_URI")
		if _, err := chilimit.New(lookup, chilimit.WithStorageURI("memory://?shards=4")); err == nil || !strings.Contains(err.Error(), "WithStorageURI and RATELIMIT_STORAGE_OPTIONS") {
			t.Errorf("New with WithStorageURI and %v: error %v, want one naming both", env, err)
		}
		// Explicit storage options win over the environment's.
		lim, err := chilimit.New(lookup, chilimit.WithStorageURI("memory://?shards=4"), chilimit.WithStorageOptions())
		if err != nil {
			t.Errorf("New with WithStorageOptions and %v: %v", env, err)
		} else {
			_ = lim.Close()
		}
		// No error shows the storage's password, not even the options'
		// own check of the URI.
		env = map[string]string{"RATELIMIT_STORAGE_URI": "redis://:s3cret@localhost:6379/0#x", "RATELIMIT_STORAGE_OPTIONS": "db=1"}
		if _, err := chilimit.New(lookup); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New with %v: error %v, want one without the password", env, err)
		}
		// Nor the options' own, when they do not parse: the error names
		// the parameter.
		for _, opts := range []string{"sentinel_password=s3cret%zz&db=1", "db=1&password=s3cret;x", "db=1&pass%zzword=s3cret"} {
			env = map[string]string{"RATELIMIT_STORAGE_URI": "redis+sentinel://localhost:26379/svc", "RATELIMIT_STORAGE_OPTIONS": opts}
			_, err := chilimit.New(lookup)
			if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "RATELIMIT_STORAGE_OPTIONS: parameter ") {
				t.Errorf("New with %v: error %v, want one naming the parameter without its value", env, err)
			}
		}
	})
}

// Rate limit string notation: the grammar, and what happens to malformed
// strings: route limits log at ERROR and fall back to the defaults; default
// and application limits make New fail.
func TestRateLimitStringNotation(t *testing.T) {
	for _, spec := range []string{"10 per hour", "10/hour", "10/hour;100/day;2000 per year", "100/day, 500/7days"} {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit(spec)).Get("/", text("ok"))
		steps := repeat(10, step{path: "/", code: 200})
		steps = append(steps, step{path: "/", code: 429, body: "10 per 1 hour"})
		if strings.HasPrefix(spec, "100/day") {
			steps = append(repeat(100, step{path: "/", code: 200}), step{path: "/", code: 429, body: "100 per 1 day"})
		}
		run(t, r, clock, steps)
	}

	t.Run("malformed route limit falls back to defaults", func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/minute"), chilimit.WithLogger(logger))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(lim.Limit("1/fortnight")).Get("/", text("ok"))
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "1/fortnight") {
			t.Fatalf("log = %q, want an ERROR naming the limit", logs.String())
		}
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429, body: "2 per 1 minute"}})
	})
	t.Run("malformed dynamic limit falls back, logged once per interval", func(t *testing.T) {
		var logs syncBuffer
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/minute"), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.LimitFunc(func(*http.Request) string { return "1/fortnight" })).Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429, body: "2 per 1 minute"}})
		if n := strings.Count(logs.String(), "malformed dynamic limit"); n != 1 {
			t.Fatalf("%d ERROR lines for 3 requests, want 1 per log interval:\n%s", n, logs.String())
		}
	})
	t.Run("malformed default limit fails New", func(t *testing.T) {
		for _, opt := range []chilimit.Option{
			chilimit.WithDefaultLimits("1/minute", "10/weak"),
			chilimit.WithApplicationLimits("ten/minute"),
			chilimit.WithMetaLimits("1/minute;"),
			chilimit.WithInMemoryFallback("0/0 seconds"),
		} {
			_, err := chilimit.New(opt)
			if !errors.Is(err, limiter.ErrInvalidLimit) {
				t.Errorf("New = %v, want an error wrapping limiter.ErrInvalidLimit", err)
			}
		}
	})
}

// Rate limiting strategies: fixed window, fixed window with elastic
// expiry, moving window (and the later sliding-window-counter and
// token-bucket), chosen by name.
func TestRateLimitingStrategies(t *testing.T) {
	type at struct {
		offset time.Duration
		code   int
	}
	cases := []struct {
		strategy string
		steps    []at
	}{
		// 2 per minute. Fixed: window from the first hit at 0s to 60s.
		{"fixed-window", []at{{0, 200}, {59 * time.Second, 200}, {59 * time.Second, 429}, {60 * time.Second, 200}, {61 * time.Second, 200}, {62 * time.Second, 429}}},
		// Elastic: each hit, even rejected, pushes the end to now+60s.
		{"fixed-window-elastic-expiry", []at{{0, 200}, {30 * time.Second, 200}, {80 * time.Second, 429}, {139 * time.Second, 429}, {199 * time.Second, 200}}},
		// Moving: at most 2 in any 60s.
		{"moving-window", []at{{0, 200}, {59 * time.Second, 200}, {60 * time.Second, 200}, {61 * time.Second, 429}, {119 * time.Second, 200}}},
		{"sliding-window-counter", []at{{0, 200}, {1 * time.Second, 200}, {2 * time.Second, 429}}},
		{"token-bucket", []at{{0, 200}, {0, 200}, {0, 429}, {30 * time.Second, 200}, {30 * time.Second, 429}}},
	}
	for _, c := range cases {
		t.Run(c.strategy, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithStrategy(c.strategy), chilimit.WithDefaultLimits("2/minute"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Get("/", text("ok"))
			for i, s := range c.steps {
				clock.Set(t0.Add(s.offset))
				if w := get(r, "/"); w.Code != s.code {
					t.Fatalf("request %d at +%v = %d, want %d", i, s.offset, w.Code, s.code)
				}
			}
		})
	}
	if _, err := chilimit.New(chilimit.WithStrategy("leaky-bucket")); !errors.Is(err, limiter.ErrUnknownStrategy) {
		t.Fatalf("New(WithStrategy(leaky-bucket)) = %v, want ErrUnknownStrategy", err)
	}
}

// Rate-limiting headers: the limit with the smallest window, or the
// breached one; Retry-After as seconds until capacity returns or as an
// HTTP date; names configurable.
func TestRateLimitingHeaders(t *testing.T) {
	t.Run("values", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("10/minute", "2/second"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		reset := func(d time.Duration) string { return itoa(t0.Add(d).Unix()) }
		run(t, r, clock, []step{
			{path: "/", code: 200, headers: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset(time.Second), "Retry-After": ""}},
			{path: "/", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "0"}},
			{path: "/", advance: 500 * time.Millisecond, code: 429, headers: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "Retry-After": "1"}},
		})
		// The 10/minute limit is breached while 2/second has room: it is reported.
		steps := []step{}
		for i := 0; i < 4; i++ {
			steps = append(steps, step{path: "/", advance: time.Second, code: 200}, step{path: "/", code: 200})
		}
		steps = append(steps, step{path: "/", advance: time.Second, code: 429, body: "10 per 1 minute",
			headers: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "Retry-After": "55", "X-RateLimit-Reset": reset(time.Minute)}})
		run(t, r, clock, steps)
	})
	t.Run("http-date and custom names", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1/hour"),
			chilimit.WithRetryAfterFormat("http-date"),
			chilimit.WithHeaderNames(chilimit.HeaderNames{Limit: "X-My-Limit", Reset: "X-My-Reset"}))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200, headers: map[string]string{"X-My-Limit": "1", "X-RateLimit-Remaining": "0", "X-My-Reset": itoa(t0.Add(time.Hour).Unix())}},
			{path: "/", advance: 10 * time.Minute, code: 429, headers: map[string]string{"Retry-After": t0.Add(time.Hour).Format(http.TimeFormat)}},
		})
	})
	t.Run("http-date is never early", func(t *testing.T) {
		// The hit at 1.2 s leaves the moving window at 2.2 s: a rejection at
		// 1.7 s must name second 3, not second 2, when the client would
		// still be rejected.
		lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1/second"),
			chilimit.WithStrategy(limiter.StrategyMovingWindow), chilimit.WithRetryAfterFormat("http-date"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", advance: 1200 * time.Millisecond, code: 200},
			{path: "/", advance: 500 * time.Millisecond, code: 429, headers: map[string]string{"Retry-After": t0.Add(3 * time.Second).Format(http.TimeFormat)}},
		})
	})
	t.Run("off by default", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/", code: 200, headers: map[string]string{"X-RateLimit-Limit": ""}},
			{path: "/", code: 429, headers: map[string]string{"X-RateLimit-Limit": "", "Retry-After": ""}},
		})
	})
}

// Rate Limit Key Functions: by user, by country; on the limiter or per
// limit.
func TestRateLimitKeyFunctions(t *testing.T) {
	country := func(r *http.Request) string { return r.Header.Get("X-Country") }
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithKeyFunc(country))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{
		{path: "/", opts: []reqOpt{header("X-Country", "FR"), from("10.0.0.1:1")}, code: 200},
		{path: "/", opts: []reqOpt{header("X-Country", "FR"), from("10.0.0.2:1")}, code: 429},
		{path: "/", opts: []reqOpt{header("X-Country", "DE"), from("10.0.0.1:1")}, code: 200},
	})
}

// Custom rate limit exceeded responses: an error handler replaces the 429
// response (JSON here) and reaches the breached limit with errors.As.
func TestCustomRateLimitExceededResponses(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/day"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			var rle *chilimit.RateLimitError
			if !errors.As(err, &rle) {
				http.Error(w, "unexpected", 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "ratelimit exceeded " + rle.Message})
		}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{
		{path: "/", code: 200},
		{path: "/", code: 429, body: `{"error":"ratelimit exceeded 1 per 1 day"}`, headers: map[string]string{"Content-Type": "application/json"}},
	})

	t.Run("default body", func(t *testing.T) {
		lim, _ := newLimiter(t, chilimit.WithDefaultLimits("0/day"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		w := get(r, "/")
		if w.Code != 429 || w.Body.String() != "0 per 1 day" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("GET / = %d %q %q, want 429 %q text/plain", w.Code, w.Body.String(), w.Header().Get("Content-Type"), "0 per 1 day")
		}
	})
}

// Customizing rate limits based on response: deduct_when decides after the
// handler; the request is always tested first.
func TestCustomizingRateLimitsBasedOnResponse(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"),
		chilimit.WithDefaultLimitsDeductWhen(func(r *http.Request, status int) bool { return status >= 400 }))
	fail := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "bad", 400)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("2/minute", chilimit.DeductWhen(func(r *http.Request, status int) bool { return status != 200 }))).Get("/route", fail)
	r.Get("/default", fail)
	for _, path := range []string{"/route", "/default"} {
		t.Run(path, func(t *testing.T) {
			run(t, r, clock, concat(
				repeat(5, step{path: path, code: 200}),
				[]step{
					{path: path + "?fail=1", code: 400},
					{path: path + "?fail=1", code: 400},
					{path: path + "?fail=1", code: 429},
					{path: path, code: 429},
				}))
		})
	}
}

// Deduct-when sees every response status: a rejection by another limit
// (429), and 500 for a handler that panicked under a recoverer.
func TestDeductWhenSeesEveryStatus(t *testing.T) {
	t.Run("429 from another limit", func(t *testing.T) {
		var mu sync.Mutex
		var seen []int
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("10/second"), chilimit.WithApplicationLimits("1/hour"),
			chilimit.WithDefaultLimitsDeductWhen(func(_ *http.Request, status int) bool {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, status)
				return true
			}))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 429, body: "1 per 1 hour"}})
		if want := []int{200, 429}; !slices.Equal(seen, want) {
			t.Fatalf("deduct-when saw %v, want %v", seen, want)
		}
	})
	t.Run("500 from a panic", func(t *testing.T) {
		countErrors := func(_ *http.Request, status int) bool { return status >= 500 }
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"), chilimit.WithDefaultLimitsDeductWhen(countErrors))
		r := chi.NewRouter()
		r.Use(middleware.Recoverer, lim.Handler)
		r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
		r.With(lim.Limit("2/hour", chilimit.DeductWhen(countErrors))).Get("/route", func(http.ResponseWriter, *http.Request) { panic("boom") })
		// And a bound route limit with no Handler upstream.
		alone := chi.NewRouter()
		alone.Use(middleware.Recoverer)
		alone.With(lim.Limit("2/hour", chilimit.DeductWhen(countErrors))).Get("/alone", func(http.ResponseWriter, *http.Request) { panic("boom") })
		for path, h := range map[string]http.Handler{"/boom": r, "/route": r, "/alone": alone} {
			run(t, h, clock, []step{{path: path, code: 500}, {path: path, code: 500}, {path: path, code: 429}})
		}
	})
}

// Using Flask pluggable views: per_method and methods.
func TestPluggableViews(t *testing.T) {
	t.Run("shared by methods", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour")).Route("/view", func(r chi.Router) {
			r.Get("/", text("get"))
			r.Put("/", text("put"))
		})
		run(t, r, clock, []step{{path: "/view/", code: 200}, {method: "PUT", path: "/view/", code: 429}})
	})
	t.Run("per method", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour", chilimit.PerMethod(true))).Route("/view", func(r chi.Router) {
			r.Get("/", text("get"))
			r.Put("/", text("put"))
		})
		run(t, r, clock, []step{{path: "/view/", code: 200}, {method: "PUT", path: "/view/", code: 200}, {method: "PUT", path: "/view/", code: 429}, {path: "/view/", code: 429}})
	})
	t.Run("methods", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("3/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		lim1 := chilimit.Limit("1/hour", chilimit.Methods("post"))
		r.With(lim1).Get("/", text("get"))
		r.With(lim1).Post("/", text("post"))
		run(t, r, clock, concat(
			[]step{{method: "POST", path: "/", code: 200}, {method: "POST", path: "/", code: 429, body: "1 per 1 hour"}},
			// GET is not limited by it, so it gets the defaults.
			repeat(3, step{path: "/", code: 200}),
			[]step{{path: "/", code: 429, body: "3 per 1 hour"}},
		))
	})
}

// Rate limiting all routes in a Blueprint: sub-routers (Route, Group,
// Mount) carry limits and exemptions for all their routes.
func TestBlueprints(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/second"))
	login := chi.NewRouter()
	login.Get("/", text("login"))
	login.Get("/again", text("login again"))
	regular := chi.NewRouter()
	regular.Get("/", text("regular"))
	doc := chi.NewRouter()
	doc.Get("/", text("doc"))

	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("2/hour")).Mount("/login", login)
	r.Mount("/regular", regular)
	r.With(chilimit.Exempt).Mount("/doc", doc)
	r.Group(func(r chi.Router) {
		r.Use(chilimit.Limit("1/hour"))
		r.Get("/grouped", text("g"))
	})
	run(t, r, clock, []step{
		// The blueprint's limit replaces the defaults and is counted per route.
		{path: "/login/", code: 200}, {path: "/login/", code: 200},
		{path: "/login/", code: 429, body: "2 per 1 hour"},
		{path: "/login/again", code: 200},
		{path: "/regular/", code: 200}, {path: "/regular/", code: 429, body: "1 per 1 second"},
		{path: "/doc/", code: 200}, {path: "/doc/", code: 200}, {path: "/doc", code: 200},
		{path: "/grouped", code: 200}, {path: "/grouped", advance: 2 * time.Second, code: 429, body: "1 per 1 hour"},
	})
}

// Logging: problems go to the slog logger; repeated ones once per
// interval.
func TestLogging(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("10/second"), chilimit.WithLogger(logger),
		chilimit.WithKeyFunc(func(*http.Request) string { return "" }), chilimit.WithLogInterval(time.Minute))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, repeat(3, step{path: "/", code: 200}))
	if n := strings.Count(logs.String(), "empty key"); n != 1 {
		t.Fatalf("empty-key warnings = %d, want 1; log:\n%s", n, logs.String())
	}
	clock.Advance(time.Minute)
	run(t, r, clock, repeat(3, step{path: "/", code: 200}))
	if n := strings.Count(logs.String(), "empty key"); n != 2 {
		t.Fatalf("empty-key warnings after an interval = %d, want 2", n)
	}
	// Empty keys share one bucket.
	run(t, r, clock, concat(repeat(7, step{path: "/", code: 200}), []step{{path: "/", code: 429}}))
}

// Custom error messages: a string or a function per limit.
func TestCustomErrorMessages(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1/second", chilimit.ErrorMessage("chill!"))).Get("/", text("ok"))
	r.With(chilimit.Limit("1/second", chilimit.ErrorMessageFunc(func(r *http.Request) string { return "slow down " + r.URL.Path }))).Get("/ping", text("ok"))
	run(t, r, clock, []step{
		{path: "/", code: 200}, {path: "/", code: 429, body: "chill!"},
		{path: "/ping", code: 200}, {path: "/ping", code: 429, body: "slow down /ping"},
	})
}

// Deploying an application behind a proxy: forwarded addresses are used
// only through an explicit number of trusted proxies.
func TestDeployingBehindAProxy(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithTrustedProxies(1))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	proxy := from("10.0.0.1:4000")
	run(t, r, clock, []step{
		{path: "/", opts: []reqOpt{proxy, header("X-Forwarded-For", "203.0.113.1")}, code: 200},
		// The client forges a left-most entry; the proxy appended the real one.
		{path: "/", opts: []reqOpt{proxy, header("X-Forwarded-For", "198.51.100.7, 203.0.113.1")}, code: 429},
		{path: "/", opts: []reqOpt{proxy, header("X-Forwarded-For", "203.0.113.1, 203.0.113.2")}, code: 200},
	})
	if got := chilimit.ForwardedFor(2)(httptestRequest("10.0.0.1:1", "a, b", "c")); got != "b" {
		t.Fatalf("ForwardedFor(2) = %q, want b", got)
	}
	if got := chilimit.ForwardedFor(3)(httptestRequest("10.0.0.1:1", "b")); got != "10.0.0.1" {
		t.Fatalf("ForwardedFor(3) with one address = %q, want the peer 10.0.0.1", got)
	}
}

// requestWith returns a request from the peer remote carrying header name
// once per value.
func requestWith(remote, name string, values ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for _, v := range values {
		r.Header.Add(name, v)
	}
	return r
}

// Forwarded reads RFC 7239's header as ForwardedFor reads X-Forwarded-For:
// the hops-th element from the right, its for= address in canonical form,
// and the peer when the proxies did not say.
func TestForwarded(t *testing.T) {
	for _, tc := range []struct {
		hops   int
		values []string
		want   string
	}{
		{1, []string{"for=192.0.2.7"}, "192.0.2.7"},
		{1, []string{"for=192.0.2.7;proto=https;by=203.0.113.43"}, "192.0.2.7"},
		{1, []string{"proto=https; For=192.0.2.7"}, "192.0.2.7"}, // any order, any case
		{1, []string{`for="[2001:DB8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{1, []string{`for="192.0.2.7:50001"`}, "192.0.2.7"},
		{1, []string{`for="\[2001:db8::7\]"`}, "2001:db8::7"},         // quoted-pair escapes
		{1, []string{"for=198.51.100.4, for=192.0.2.7"}, "192.0.2.7"}, // the client forged the left one
		{2, []string{"for=198.51.100.4, for=192.0.2.7", "for=10.0.0.2"}, "192.0.2.7"},
		{2, []string{"for=192.0.2.7,for=10.0.0.2"}, "192.0.2.7"},
		{1, []string{"for=unknown"}, "unknown"},
		{1, []string{"for=_hidden"}, "_hidden"},
		{1, nil, "10.0.0.1"},                                    // not through the proxy
		{2, []string{"for=192.0.2.7"}, "10.0.0.1"},              // through one proxy of two
		{1, []string{"proto=https"}, "10.0.0.1"},                // no for=
		{1, []string{`for=""`}, "10.0.0.1"},                     // an empty one
		{1, []string{"for=192.0.2.7, by=10.0.0.2"}, "10.0.0.1"}, // the proxy's element has none
		// Quoted strings hold commas and semicolons: a host= value the
		// client wrote moves no boundary.
		{1, []string{`for=192.0.2.7;host="x,for=6.6.6.6"`}, "192.0.2.7"},
		{1, []string{`for=192.0.2.7;host="x;for=6.6.6.6"`}, "192.0.2.7"},
		{2, []string{`for=192.0.2.7;host="a,b\",c", for=10.0.0.2`}, "192.0.2.7"},
		{1, []string{`for="x`, "for=192.0.2.7"}, "192.0.2.7"}, // a client's line, then the proxy's
		// What is no node is no client.
		{1, []string{`for=6.6.6.6"`}, "10.0.0.1"},
		{1, []string{`for="6.6.6.6`}, "10.0.0.1"},
		{1, []string{"for=not-a-node"}, "10.0.0.1"},
		{1, []string{`for="_hidden:4711"`}, "_hidden:4711"},
		{1, []string{"for=_x.y-z_"}, "_x.y-z_"},
		{0, []string{"for=6.6.6.6"}, "10.0.0.1"}, // no proxy: the client wrote it
		{-1, []string{"for=6.6.6.6"}, "10.0.0.1"},
	} {
		if got := chilimit.Forwarded(tc.hops)(requestWith("10.0.0.1:1", "Forwarded", tc.values...)); got != tc.want {
			t.Errorf("Forwarded(%d) with %q = %q, want %q", tc.hops, tc.values, got, tc.want)
		}
	}
	if !raceEnabled {
		fn := chilimit.Forwarded(1)
		req := requestWith("10.0.0.1:1", "Forwarded", "for=192.0.2.7;proto=https")
		if n := testing.AllocsPerRun(100, func() { fn(req) }); n != 0 {
			t.Errorf("Forwarded(1) of a canonical address: %v allocations, want 0", n)
		}
	}
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithKeyFunc(chilimit.Forwarded(1)))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	via := func(v string) []reqOpt { return []reqOpt{from("10.0.0.1:443"), header("Forwarded", v)} }
	run(t, r, clock, []step{
		{path: "/", opts: via("for=192.0.2.7"), code: 200},
		{path: "/", opts: via(`for=198.51.100.4, for="192.0.2.7:50002"`), code: 429},
		{path: "/", opts: via("for=192.0.2.8"), code: 200},
	})
}

// ClientIPHeader keys by the address a proxy put in one header, the last
// value when there are several, and by the peer without it.
func TestClientIPHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   string
	}{
		{"X-Real-IP", []string{"192.0.2.7"}, "192.0.2.7"},
		{"x-real-ip", []string{"192.0.2.7"}, "192.0.2.7"}, // any spelling of the name
		{"X-Real-IP", []string{" [2001:DB8::7]:443 "}, "2001:db8::7"},
		{"X-Real-IP", []string{"6.6.6.6", "192.0.2.7"}, "192.0.2.7"}, // a proxy that appends a line
		{"X-Real-IP", []string{"6.6.6.6, 192.0.2.7"}, "192.0.2.7"},   // or a value
		{"X-Real-IP", nil, "10.0.0.1"},
		{"X-Real-IP", []string{""}, "10.0.0.1"},
		{"CF-Connecting-IP", []string{"::ffff:192.0.2.7"}, "192.0.2.7"},
	} {
		req := requestWith("10.0.0.1:1", tc.name, tc.values...)
		if got := chilimit.ClientIPHeader(tc.name)(req); got != tc.want {
			t.Errorf("ClientIPHeader(%q) with %q = %q, want %q", tc.name, tc.values, got, tc.want)
		}
	}
	if !raceEnabled {
		fn := chilimit.ClientIPHeader("X-Real-IP")
		req := requestWith("10.0.0.1:1", "X-Real-IP", "192.0.2.7")
		if n := testing.AllocsPerRun(100, func() { fn(req) }); n != 0 {
			t.Errorf("ClientIPHeader of a canonical address: %v allocations, want 0", n)
		}
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "header name") {
			t.Errorf("ClientIPHeader(\"\") panicked with %v, want a panic naming the missing header name", p)
		}
	}()
	chilimit.ClientIPHeader(" ")
}

// With no trusted proxy the key is the peer: a forwarded header, which
// the client writes itself when no proxy stands between, is not read.
func TestForwardedForNoProxies(t *testing.T) {
	for _, hops := range []int{0, -1} {
		if got := chilimit.ForwardedFor(hops)(httptestRequest("10.0.0.1:1", "6.6.6.6")); got != "10.0.0.1" {
			t.Errorf("ForwardedFor(%d) with a forged X-Forwarded-For = %q, want the peer 10.0.0.1", hops, got)
		}
	}
}

// One client is one key, however a proxy spells its address: with a port
// (a new one per connection), in brackets, IPv4-mapped, in upper case.
// What is no address is kept as it is.
func TestForwardedForCanonicalAddress(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":             "192.0.2.7",
		"192.0.2.7:50001":       "192.0.2.7",
		"::ffff:192.0.2.7":      "192.0.2.7",
		"[::ffff:192.0.2.7]:80": "192.0.2.7",
		"2001:db8::7":           "2001:db8::7",
		"[2001:db8::7]":         "2001:db8::7",
		"[2001:DB8:0::7]:443":   "2001:db8::7",
		"2001:0db8:0:0:0:0:0:7": "2001:db8::7",
		"unknown":               "unknown",
		"_hidden":               "_hidden",
	} {
		if got := chilimit.ForwardedFor(1)(httptestRequest("10.0.0.1:1", in)); got != want {
			t.Errorf("ForwardedFor(1) with X-Forwarded-For %q = %q, want %q", in, got, want)
		}
	}
	if !raceEnabled {
		// An address already canonical costs no allocation.
		fn := chilimit.ForwardedFor(1)
		for _, in := range []string{"192.0.2.7", "2001:db8::7"} {
			req := httptestRequest("10.0.0.1:1", in)
			if n := testing.AllocsPerRun(100, func() { fn(req) }); n != 0 {
				t.Errorf("ForwardedFor(1) with X-Forwarded-For %q: %v allocations, want 0", in, n)
			}
		}
	}
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithTrustedProxies(1))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	via := func(xff string) []reqOpt { return []reqOpt{from("10.0.0.1:443"), header("X-Forwarded-For", xff)} }
	run(t, r, clock, []step{
		{path: "/", opts: via("192.0.2.7:50001"), code: 200},
		{path: "/", opts: via("192.0.2.7:50002"), code: 429},
		{path: "/", opts: via("::ffff:192.0.2.7"), code: 429},
		{path: "/", opts: via("[2001:db8::7]:50001"), code: 200},
		{path: "/", opts: via("2001:DB8::7"), code: 429},
	})
}

// API: the Limiter constructor's parameters not covered above: storage by
// URI and options, key prefix, swallow errors, reset.
func TestAPI(t *testing.T) {
	t.Run("storage URI", func(t *testing.T) {
		l, err := chilimit.New(chilimit.WithStorageURI("memory://"), chilimit.WithDefaultLimits("1/hour"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		r := chi.NewRouter()
		r.Use(l.Handler)
		r.Get("/", text("ok"))
		if a, b := get(r, "/").Code, get(r, "/").Code; a != 200 || b != 429 {
			t.Fatalf("codes = %d, %d; want 200, 429", a, b)
		}
		if err := l.Reset(context.Background()); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		if c := get(r, "/").Code; c != 200 {
			t.Fatalf("after Reset = %d, want 200", c)
		}
	})
	t.Run("bad storage", func(t *testing.T) {
		if _, err := chilimit.New(chilimit.WithStorageURI("nosuch://x")); !errors.Is(err, limiter.ErrUnknownScheme) {
			t.Fatalf("New(nosuch://) = %v, want ErrUnknownScheme", err)
		}
		if _, err := chilimit.New(chilimit.WithStorageURI("memory://?bogus=1")); !errors.Is(err, limiter.ErrInvalidURI) {
			t.Fatalf("New(memory://?bogus=1) = %v, want ErrInvalidURI", err)
		}
		if _, err := chilimit.New(chilimit.WithStorageOptions(func(any) error { return limiter.ErrInvalidOption })); !errors.Is(err, limiter.ErrInvalidOption) {
			t.Fatalf("New(bad storage option) = %v, want ErrInvalidOption", err)
		}
	})
	t.Run("key prefix separates applications", func(t *testing.T) {
		clock := limiter.NewManualClock(t0)
		shared := newSharedMemory(t, clock)
		mk := func(prefix string) http.Handler {
			l, err := chilimit.New(chilimit.WithStorage(shared), chilimit.WithClock(clock), chilimit.WithKeyPrefix(prefix), chilimit.WithDefaultLimits("1/hour"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() })
			r := chi.NewRouter()
			r.Use(l.Handler)
			r.Get("/", text("ok"))
			return r
		}
		a, a2, b := mk("a"), mk("a"), mk("b")
		if c := get(a, "/").Code; c != 200 {
			t.Fatal(c)
		}
		if c := get(a2, "/").Code; c != 429 {
			t.Fatalf("same prefix = %d, want 429", c)
		}
		if c := get(b, "/").Code; c != 200 {
			t.Fatalf("other prefix = %d, want 200", c)
		}
	})
}

// RateLimitExceeded: the typed error the 429 comes from.
func TestRateLimitExceeded(t *testing.T) {
	var got error
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			chilimit.DefaultErrorHandler(w, r, err)
		}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/users/{id}", text("ok"))
	run(t, r, clock, []step{{path: "/users/1", code: 200}, {path: "/users/2", advance: 20 * time.Second, code: 429, body: "1 per 1 minute"}})
	var rle *chilimit.RateLimitError
	if !errors.As(got, &rle) || !errors.Is(got, chilimit.ErrRateLimited) {
		t.Fatalf("error = %v, want a *RateLimitError wrapping ErrRateLimited", got)
	}
	want := limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Minute}
	if rle.Limit != want || rle.Scope != "/users/{id}" || rle.Kind != "default" || rle.Key != "192.0.2.1" || rle.RetryAfter() != 40*time.Second {
		t.Fatalf("RateLimitError = %+v", rle)
	}
	if rle.Error() != "chilimit: rate limit exceeded: 1 per 1 minute" {
		t.Fatalf("Error() = %q", rle.Error())
	}
}

// The memory storage a Limiter opens from its URI (memory:// by default)
// sweeps expired keys by the Limiter's clock: on the system clock, a
// manual clock's live keys would be swept as long expired.
func TestOpenedMemoryStorageUsesTheClock(t *testing.T) {
	clock := limiter.NewManualClock(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) // long before the system clock
	lim, err := chilimit.New(chilimit.WithClock(clock), chilimit.WithStorageURI("memory://?sweep_interval=1ms"),
		chilimit.WithDefaultLimits("1/hour"), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 429}})
	time.Sleep(50 * time.Millisecond) // some fifty sweeps
	run(t, r, clock, []step{{path: "/", code: 429}})
}

// AddressPrefix keys by network: the clients of one IPv6 /64 (or one IPv4
// /24, if asked) share a bucket, whatever addresses they pick in it.
func TestAddressPrefix(t *testing.T) {
	key := chilimit.AddressPrefix(chilimit.RemoteAddr, 24, 64)
	for remote, want := range map[string]string{
		"192.0.2.7:1":              "192.0.2.0/24",
		"[2001:db8:1:2:aaaa::1]:1": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:1":      "2001:db8:1:3::/64",
		"[::ffff:192.0.2.9]:1":     "192.0.2.0/24",
		"not-an-address":           "not-an-address",
		"[fe80::1%eth0]:1":         "fe80::/64", // the zone goes
	} {
		if got := key(requestWith(remote, "X")); got != want {
			t.Errorf("AddressPrefix(RemoteAddr, 24, 64) of %s = %q, want %q", remote, got, want)
		}
	}
	full := chilimit.AddressPrefix(chilimit.RemoteAddr, 32, 128)
	for remote, want := range map[string]string{"192.0.2.7:1": "192.0.2.7", "[::ffff:192.0.2.7]:1": "192.0.2.7", "[2001:db8::7]:1": "2001:db8::7"} {
		if got := full(requestWith(remote, "X")); got != want {
			t.Errorf("AddressPrefix with whole addresses of %s = %q, want %q", remote, got, want)
		}
	}
	for _, bits := range [][2]int{{-1, 64}, {33, 64}, {24, -1}, {24, 129}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddressPrefix(RemoteAddr, %d, %d) did not panic", bits[0], bits[1])
				}
			}()
			chilimit.AddressPrefix(chilimit.RemoteAddr, bits[0], bits[1])
		}()
	}

	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"), chilimit.WithKeyFunc(key))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{
		{path: "/", opts: []reqOpt{from("[2001:db8::1]:1")}, code: 200},
		{path: "/", opts: []reqOpt{from("[2001:db8::2]:1")}, code: 200},
		{path: "/", opts: []reqOpt{from("[2001:db8::ffff:3]:1")}, code: 429}, // the same /64
		{path: "/", opts: []reqOpt{from("[2001:db8:0:1::1]:1")}, code: 200},  // the next one
	})
}
