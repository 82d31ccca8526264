package chilimit_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// Cost: a constant or a function of the request; above the amount always
// rejected; below 1 only tests.
func TestCost(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("10/hour"), chilimit.WithDefaultLimitsCost(4))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/default", text("ok"))
	r.With(chilimit.Limit("10/hour", chilimit.Cost(11))).Get("/huge", text("ok"))
	r.With(chilimit.Limit("10/hour", chilimit.CostFunc(func(r *http.Request) int64 {
		var n int64
		_, _ = fmt.Sscan(r.URL.Query().Get("n"), &n)
		return n
	}))).Get("/func", text("ok"))
	run(t, r, clock, []step{
		{path: "/default", code: 200}, {path: "/default", code: 200}, {path: "/default", code: 429},
		{path: "/huge", code: 429, body: "10 per 1 hour"},
		{path: "/func?n=7", code: 200}, {path: "/func?n=0", code: 200}, {path: "/func?n=3", code: 200},
		{path: "/func?n=0", code: 429}, // tests without deducting: nothing left
	})

	// A hit that costs more than is left is rejected, and the headers say
	// what is left, as Flask-Limiter's do: a cheaper request still fits.
	t.Run("rejection reports what is left", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithIETFHeaders(true), chilimit.WithOverLimitCache(true))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("10/hour", chilimit.CostFunc(func(r *http.Request) int64 {
			var n int64
			_, _ = fmt.Sscan(r.URL.Query().Get("n"), &n)
			return n
		}))).Get("/func", text("ok"))
		left := func(n string) map[string]string {
			return map[string]string{"X-RateLimit-Remaining": n, "RateLimit": `"10 per 1 hour";r=` + n + ";t=3600"}
		}
		run(t, r, clock, []step{
			{path: "/func?n=8", code: 200, headers: left("2")},
			{path: "/func?n=4", code: 429, headers: left("2")},
			{path: "/func?n=4", code: 429, headers: left("2")}, // from the over-limit cache
			{path: "/func?n=2", code: 200, headers: left("0")},
			{path: "/func?n=1", code: 429, headers: left("0")},
		})
	})

	t.Run("below 1 with deduct-when still only tests", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithHeaders(true))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("2/hour", chilimit.CostFunc(func(*http.Request) int64 { return 0 }),
			chilimit.DeductWhen(func(*http.Request, int) bool { return true }))).Get("/peek", text("ok"))
		run(t, r, clock, repeat(3, step{path: "/peek", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "2"}}))
	})
}

// On-breach callbacks: the limiter's and the route's, with the breach.
func TestOnBreach(t *testing.T) {
	var global, route []string
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"),
		chilimit.WithOnBreach(func(r *http.Request, e *chilimit.RateLimitError) {
			global = append(global, e.Kind+" "+e.Limit.String())
		}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	r.With(chilimit.Limit("1/minute", chilimit.OnBreach(func(r *http.Request, e *chilimit.RateLimitError) { route = append(route, e.Scope) }))).Get("/r", text("ok"))
	run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 429}, {path: "/r", code: 200}, {path: "/r", code: 429}})
	if want := []string{"default 1 per 1 hour", "route 1 per 1 minute"}; fmt.Sprint(global) != fmt.Sprint(want) {
		t.Fatalf("limiter callback saw %q, want %q", global, want)
	}
	if fmt.Sprint(route) != "[/r]" {
		t.Fatalf("route callback saw %q, want [/r]", route)
	}
}

// Meta limits: clients that breach too often are rejected everywhere until
// the meta window resets.
func TestMetaLimits(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"), chilimit.WithMetaLimits("2/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/a", text("a"))
	r.Get("/b", text("b"))
	r.With(chilimit.Exempt).Get("/free", text("free"))
	run(t, r, clock, []step{
		{path: "/a", code: 200}, {path: "/a", code: 429, body: "1 per 1 minute"}, // breach 1
		{path: "/b", code: 200}, {path: "/b", code: 429, body: "1 per 1 minute"}, // breach 2
		{path: "/a", advance: 2 * time.Minute, code: 429, body: "2 per 1 hour"}, // meta exhausted
		{path: "/free", code: 200},
		{path: "/a", opts: []reqOpt{from("10.0.0.9:1")}, code: 200}, // other client
		{path: "/a", advance: time.Hour, code: 200},
	})

	t.Run("bound route limits without Handler", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithMetaLimits("1/hour"))
		r := chi.NewRouter()
		r.With(lim.Limit("1/minute")).Get("/a", text("a"))
		r.With(lim.Limit("1/minute")).Get("/b", text("b"))
		run(t, r, clock, []step{
			{path: "/a", code: 200}, {path: "/a", code: 429, body: "1 per 1 minute"}, // the one breach allowed
			{path: "/b", code: 429, body: "1 per 1 hour"},
		})
	})
}

// Dry run: would-be rejections are logged, counted and passed to on-breach,
// but the request goes through.
func TestDryRun(t *testing.T) {
	var logs bytes.Buffer
	var breaches atomic.Int32
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithDryRun(true), chilimit.WithHeaders(true),
		chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		chilimit.WithOnBreach(func(r *http.Request, e *chilimit.RateLimitError) {
			if e.DryRun {
				breaches.Add(1)
			}
		}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, concat([]step{{path: "/", code: 200}},
		repeat(3, step{path: "/", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "0", "Retry-After": ""}})))
	if n := lim.DryRunRejections(); n != 3 {
		t.Fatalf("DryRunRejections = %d, want 3", n)
	}
	if breaches.Load() != 3 || strings.Count(logs.String(), "dry run") != 3 {
		t.Fatalf("on-breach calls = %d, dry-run log lines = %d; want 3 and 3", breaches.Load(), strings.Count(logs.String(), "dry run"))
	}

	t.Run("a request over several limits counts once, and for the meta limits", func(t *testing.T) {
		var metaBreaches atomic.Int32
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute", "1/hour"), chilimit.WithMetaLimits("1/day"),
			chilimit.WithDryRun(true), chilimit.WithOnBreach(func(_ *http.Request, e *chilimit.RateLimitError) {
				if e.Kind == "meta" {
					metaBreaches.Add(1)
				}
			}))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		// Enforcing, the second request would breach and the third would
		// meet the exhausted meta limit.
		run(t, r, clock, repeat(3, step{path: "/", code: 200}))
		if n := lim.DryRunRejections(); n != 2 {
			t.Fatalf("DryRunRejections = %d, want 2 (requests, not breached limits)", n)
		}
		if n := metaBreaches.Load(); n != 1 {
			t.Fatalf("meta breaches = %d, want 1", n)
		}
	})
}

// IETF RateLimit-Policy and RateLimit headers.
func TestIETFHeaders(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithIETFHeaders(true), chilimit.WithDefaultLimits("10/minute", "2/second"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{
		{path: "/", code: 200, headers: map[string]string{
			"RateLimit-Policy": `"2 per 1 second";q=2;w=1, "10 per 1 minute";q=10;w=60`,
			"RateLimit":        `"2 per 1 second";r=1;t=1`,
		}},
		{path: "/", code: 200},
		// The 10/minute limit, never checked once 2/second breaches, is
		// still in the policy: the draft wants it the same on every response.
		{path: "/", advance: 300 * time.Millisecond, code: 429, headers: map[string]string{
			"RateLimit-Policy": `"2 per 1 second";q=2;w=1, "10 per 1 minute";q=10;w=60`,
			"RateLimit":        `"2 per 1 second";r=0;t=1`,
		}},
	})
}

// Structured-field integers have at most 15 digits (a field with a
// longer one is invalid, and clients drop it whole): the largest amount a
// limit may have is written in full.
func TestIETFHeadersLargestAmount(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithIETFHeaders(true), chilimit.WithDefaultLimits("8796093022208/second"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{{path: "/", code: 200, headers: map[string]string{
		"RateLimit-Policy":  `"8796093022208 per 1 second";q=8796093022208;w=1`,
		"RateLimit":         `"8796093022208 per 1 second";r=8796093022207;t=1`,
		"X-RateLimit-Limit": "8796093022208",
	}}})
}

// flakyStorage wraps a memory storage and fails while down is set (or
// hangs until the context ends while hang is set).
type flakyStorage struct {
	*memory.Storage
	down, hang atomic.Bool
	checks     atomic.Int32
	stall      atomic.Pointer[stall]
}

// stall holds the next storage call: entered is closed once it is held,
// and it fails with errDown once release is closed.
type stall struct{ entered, release chan struct{} }

var errDown = errors.New("flaky: connection refused")

func (f *flakyStorage) fail(ctx context.Context) error {
	if s := f.stall.Swap(nil); s != nil {
		close(s.entered)
		<-s.release
		return errDown
	}
	if f.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.down.Load() {
		return errDown
	}
	return nil
}

func (f *flakyStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	if err := f.fail(ctx); err != nil {
		return limiter.State{}, err
	}
	return f.Storage.AcquireFixedWindow(ctx, r, elastic)
}

func (f *flakyStorage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if err := f.fail(ctx); err != nil {
		return limiter.State{}, err
	}
	return f.Storage.PeekFixedWindow(ctx, r)
}

func (f *flakyStorage) Check(ctx context.Context) error {
	f.checks.Add(1)
	return f.fail(ctx)
}

func newFlaky(t *testing.T, clock limiter.Clock) *flakyStorage {
	return &flakyStorage{Storage: newSharedMemory(t, clock)}
}

func flakyLimiter(t *testing.T, opts ...chilimit.Option) (*chilimit.Limiter, *flakyStorage, *limiter.ManualClock, *syncBuffer) {
	clock := limiter.NewManualClock(t0)
	fs := newFlaky(t, clock)
	logs := new(syncBuffer)
	base := []chilimit.Option{chilimit.WithStorage(fs), chilimit.WithClock(clock), chilimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}
	l, err := chilimit.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, fs, clock, logs
}

// Storage failures: 500 through the error handler, or let through with
// swallow errors; logged once per interval.
func TestStorageErrors(t *testing.T) {
	t.Run("500", func(t *testing.T) {
		var got error
		lim, fs, clock, logs := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		fs.down.Store(true)
		run(t, r, clock, repeat(3, step{path: "/", code: 500, body: "Internal Server Error"}))
		if n := strings.Count(logs.String(), "storage failed"); n != 1 {
			t.Fatalf("storage error logged %d times, want once per interval:\n%s", n, logs)
		}
		lim2, fs2, clock2, _ := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"),
			chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(503) }))
		r = chi.NewRouter()
		r.Use(lim2.Handler)
		r.Get("/", text("ok"))
		fs2.down.Store(true)
		run(t, r, clock2, []step{{path: "/", code: 503}})
		if !errors.Is(got, chilimit.ErrStorage) || !errors.Is(got, errDown) {
			t.Fatalf("error handler got %v, want ErrStorage wrapping the storage error", got)
		}
	})
	t.Run("swallow", func(t *testing.T) {
		lim, fs, clock, logs := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithSwallowErrors(true))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("1/hour")).Get("/r", text("ok"))
		r.Get("/", text("ok"))
		fs.down.Store(true)
		run(t, r, clock, concat(repeat(3, step{path: "/", code: 200}), repeat(3, step{path: "/r", code: 200})))
		if !strings.Contains(logs.String(), "connection refused") {
			t.Fatalf("log = %q, want the storage error", logs)
		}
	})
	t.Run("timeout bounds a hung storage", func(t *testing.T) {
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithSwallowErrors(true),
			chilimit.WithStorageTimeout(50*time.Millisecond))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		fs.hang.Store(true)
		start := time.Now()
		run(t, r, clock, []step{{path: "/", code: 200}})
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("request took %v with a hung storage and a 50ms timeout", d)
		}
	})
}

// In-memory fallback: with its own limits or inheriting the originals,
// health checks with back-off, and recovery.
func TestInMemoryFallback(t *testing.T) {
	waitFor := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	t.Run("inherit", func(t *testing.T) {
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("2/hour"), chilimit.WithInMemoryFallbackEnabled(true),
			chilimit.WithHealthCheckBackoff(time.Millisecond, 4*time.Millisecond))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{{path: "/", code: 200}})
		fs.down.Store(true)
		// The fallback starts empty and applies the same 2/hour.
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429}})
		waitFor(t, "several health checks", func() bool { return fs.checks.Load() >= 3 })
		fs.down.Store(false)
		// The fallback is exhausted (429) until the storage is back; the
		// storage holds 1 hit, so the first request after recovery is
		// allowed and the next is over the limit.
		waitFor(t, "recovery", func() bool { return get(r, "/").Code == 200 })
		run(t, r, clock, []step{{path: "/", code: 429}})
	})
	t.Run("own limits", func(t *testing.T) {
		lim, fs, clock, logs := flakyLimiter(t, chilimit.WithDefaultLimits("100/hour"), chilimit.WithInMemoryFallback("1/minute"),
			chilimit.WithHealthCheckBackoff(time.Millisecond, 2*time.Millisecond), chilimit.WithHeaders(true))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(chilimit.Limit("50/hour")).Get("/r", text("ok"))
		r.Get("/", text("ok"))
		r.With(chilimit.Exempt).Get("/free", text("ok"))
		fs.down.Store(true)
		// The first request meets the failure and is served from the
		// fallback under its original limits; from then on the fallback
		// limits replace them all.
		run(t, r, clock, []step{
			{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429, body: "1 per 1 minute"},
			{path: "/r", code: 200, headers: map[string]string{"X-RateLimit-Limit": "1"}}, {path: "/r", code: 429, body: "1 per 1 minute"},
			{path: "/free", code: 200}, {path: "/free", code: 200},
		})
		if !strings.Contains(logs.String(), "in-memory fallback") {
			t.Fatalf("log = %q, want the switch to the fallback", logs)
		}
		fs.down.Store(false)
		waitFor(t, "recovery", func() bool { return get(r, "/r").Code == 200 && strings.Contains(logs.String(), "recovered") })
	})
	t.Run("own limits from funcs", func(t *testing.T) {
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("100/hour"),
			chilimit.WithInMemoryFallbackFuncs(func(r *http.Request) string { return chi.URLParam(r, "n") + "/minute" }),
			chilimit.WithHealthCheckBackoff(time.Millisecond, 2*time.Millisecond))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/n/{n}", text("ok"))
		fs.down.Store(true)
		// The first request meets the failure under the original limits;
		// then each request's own fallback limit, read with its route.
		run(t, r, clock, []step{
			{path: "/n/1", code: 200}, {path: "/n/1", code: 200}, {path: "/n/1", code: 429, body: "1 per 1 minute"},
			{path: "/n/2", code: 200}, {path: "/n/2", code: 200}, {path: "/n/2", code: 429, body: "2 per 1 minute"},
		})
		fs.down.Store(false)
		waitFor(t, "recovery", func() bool { return get(r, "/n/1").Code == 200 })
	})
	t.Run("a request that ends is no storage failure", func(t *testing.T) {
		lim, fs, clock, logs := flakyLimiter(t, chilimit.WithDefaultLimits("100/hour"), chilimit.WithInMemoryFallback("1/hour"),
			chilimit.WithHealthCheckBackoff(time.Hour, time.Hour))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		// The client hangs up: the memory storage under flakyStorage
		// answers its context's error, as go-redis would.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
		if fs.checks.Load() != 0 || strings.Contains(logs.String(), "fallback") {
			t.Fatalf("a cancelled request switched to the fallback: %d health checks, log %q", fs.checks.Load(), logs)
		}
		// Still the storage's 100/hour, not the fallback's 1/hour.
		run(t, r, clock, repeat(3, step{path: "/", code: 200}))
	})
	t.Run("a call failing after the recovery it began before switches no more", func(t *testing.T) {
		// A call caught in the outage can fail only once the health check
		// found the storage back (seen with Redis killed under load): that
		// error must not switch to the fallback again.
		lim, fs, clock, logs := flakyLimiter(t, chilimit.WithDefaultLimits("100/hour"), chilimit.WithInMemoryFallbackEnabled(true),
			chilimit.WithHealthCheckBackoff(time.Millisecond, 4*time.Millisecond))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		held := &stall{entered: make(chan struct{}), release: make(chan struct{})}
		fs.stall.Store(held)
		code := make(chan int, 1)
		go func() {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			code <- w.Code
		}()
		<-held.entered
		fs.down.Store(true)
		run(t, r, clock, []step{{path: "/", code: 200}})
		fs.down.Store(false)
		waitFor(t, "the recovery", func() bool { return strings.Contains(logs.String(), "storage recovered") })
		close(held.release)
		if c := <-code; c != http.StatusOK {
			t.Fatalf("the held request got %d, want 200 from the fallback", c)
		}
		checks := fs.checks.Load()
		run(t, r, clock, []step{{path: "/", code: 200}})
		if n := strings.Count(logs.String(), "using the in-memory fallback"); n != 1 {
			t.Fatalf("switched to the fallback %d times, want once:\n%s", n, logs)
		}
		time.Sleep(10 * time.Millisecond)
		if n := fs.checks.Load(); n != checks {
			t.Fatalf("%d health checks after the recovery, want none", n-checks)
		}
	})
	t.Run("Close stops the health checker", func(t *testing.T) {
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithInMemoryFallbackEnabled(true),
			chilimit.WithHealthCheckBackoff(time.Hour, time.Hour))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		fs.down.Store(true)
		run(t, r, clock, []step{{path: "/", code: 200}})
		if err := lim.Close(); err != nil {
			t.Fatal(err)
		}
		// goleak in TestMain fails the run if the checker outlived Close.
	})
	t.Run("after Close the configured storage answers", func(t *testing.T) {
		// The caller owns the storage and keeps using the limiter: Close
		// while in fallback must not leave requests on the closed
		// fallback, answered with 500 for good.
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("2/hour"), chilimit.WithInMemoryFallbackEnabled(true),
			chilimit.WithHealthCheckBackoff(time.Hour, time.Hour))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		fs.down.Store(true)
		run(t, r, clock, []step{{path: "/", code: 200}})
		if err := lim.Close(); err != nil {
			t.Fatal(err)
		}
		fs.down.Store(false)
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429}})
	})
}

// The wrapped ResponseWriter keeps Flusher, Hijacker, ReaderFrom and
// Pusher working through a limited route.
func TestResponseWriterInterfaces(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"),
		chilimit.WithDefaultLimitsDeductWhen(func(*http.Request, int) bool { return true }))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	limited := chilimit.Limit("100/hour", chilimit.DeductWhen(func(_ *http.Request, status int) bool { return status < 400 }))
	r.With(limited).Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no flusher", 500)
			return
		}
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "chunk %d\n", i)
			f.Flush()
		}
	})
	r.With(limited).Get("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo: " + line)
		_ = brw.Flush()
	})
	r.With(limited).Get("/file", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			http.Error(w, "no ReaderFrom", 500)
			return
		}
		http.ServeFile(w, r, "testdata/hello.txt")
	})
	r.With(limited).Get("/push", func(w http.ResponseWriter, r *http.Request) {
		p, ok := w.(http.Pusher)
		if !ok {
			http.Error(w, "no Pusher", 500)
			return
		}
		// httptest servers speak HTTP/1.1: push is not supported.
		if err := p.Push("/x", nil); !errors.Is(err, http.ErrNotSupported) {
			http.Error(w, fmt.Sprint(err), 500)
			return
		}
		_, _ = w.Write([]byte("no push"))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	t.Run("streaming", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if fmt.Sprint(lines) != "[chunk 0 chunk 1 chunk 2]" || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
			t.Fatalf("stream = %q, transfer encoding %v; want three flushed chunks", lines, resp.TransferEncoding)
		}
	})
	t.Run("hijack", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade response = %v, %v; want 101", resp, err)
		}
		fmt.Fprintf(conn, "hi\n")
		line, err := br.ReadString('\n')
		if err != nil || line != "echo: hi\n" {
			t.Fatalf("echo = %q, %v", line, err)
		}
	})
	for _, path := range []string{"/file", "/push"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %q", path, resp.StatusCode, body)
		}
	}
}

// countingStorage counts the fixed-window operations that reach it.
type countingStorage struct {
	*memory.Storage
	ops atomic.Int32
}

func (c *countingStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	c.ops.Add(1)
	return c.Storage.AcquireFixedWindow(ctx, r, elastic)
}

// The over-limit cache answers rejected keys in process until they may be
// allowed again.
func TestOverLimitCache(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	cs := &countingStorage{Storage: newSharedMemory(t, clock)}
	lim, err := chilimit.New(chilimit.WithStorage(cs), chilimit.WithClock(clock), chilimit.WithDefaultLimits("2/minute"),
		chilimit.WithOverLimitCache(true), chilimit.WithHeaders(true))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 200}, {path: "/", code: 429}})
	if n := cs.ops.Load(); n != 3 {
		t.Fatalf("storage operations = %d, want 3", n)
	}
	run(t, r, clock, concat(
		repeat(5, step{path: "/", advance: 10 * time.Second, code: 429, body: "2 per 1 minute"}),
		[]step{{path: "/", advance: 9 * time.Second, code: 429, headers: map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0"}}},
	))
	if n := cs.ops.Load(); n != 3 {
		t.Fatalf("storage operations while over the limit = %d, want still 3", n)
	}
	run(t, r, clock, []step{{path: "/", advance: time.Second, code: 200}})
	if n := cs.ops.Load(); n != 4 {
		t.Fatalf("storage operations after the window = %d, want 4", n)
	}

	t.Run("a larger cost is not answered from a smaller one's rejection", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithStrategy(limiter.StrategyTokenBucket), chilimit.WithOverLimitCache(true),
			chilimit.WithHeaders(true), chilimit.WithDefaultLimits("10/10 minutes"),
			chilimit.WithDefaultLimitsCostFunc(func(r *http.Request) int64 { return int64(len(r.URL.Query().Get("n"))) }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		run(t, r, clock, []step{
			{path: "/?n=xxxxxxxxxx", code: 200},
			// A token comes back each minute; five take five minutes.
			{path: "/?n=x", code: 429, headers: map[string]string{"Retry-After": "60"}},
			{path: "/?n=xxxxx", code: 429, headers: map[string]string{"Retry-After": "300"}},
		})
	})
	t.Run("the fallback's rejections are not kept", func(t *testing.T) {
		lim, fs, clock, _ := flakyLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithInMemoryFallbackEnabled(true),
			chilimit.WithOverLimitCache(true), chilimit.WithHealthCheckBackoff(time.Millisecond, time.Millisecond))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/", text("ok"))
		fs.down.Store(true)
		run(t, r, clock, []step{{path: "/", code: 200}, {path: "/", code: 429}}) // counted by the fallback
		fs.down.Store(false)
		deadline := time.Now().Add(5 * time.Second)
		for fs.checks.Load() == 0 || !strings.Contains(get(r, "/").Body.String(), "ok") {
			if time.Now().After(deadline) {
				t.Fatal("the storage, which never counted this client, still rejects it after recovering")
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
}

// An empty scope, from ScopeFunc or Scope(""), means the route pattern, as
// Flask-Limiter's "scope or endpoint": it does not share one bucket across
// every route carrying the limit.
func TestEmptyScopeIsTheRoute(t *testing.T) {
	for name, opt := range map[string]chilimit.LimitOption{
		"ScopeFunc": chilimit.ScopeFunc(func(r *http.Request, _ string) string { return r.Header.Get("X-Tenant") }),
		"Scope":     chilimit.Scope(""),
	} {
		t.Run(name, func(t *testing.T) {
			lim, clock := newLimiter(t)
			tenant := chilimit.Limit("1/hour", opt)
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(tenant).Get("/a", text("a"))
			r.With(tenant).Get("/b", text("b"))
			run(t, r, clock, []step{{path: "/a", code: 200}, {path: "/b", code: 200}, {path: "/a", code: 429}})
			if name == "ScopeFunc" { // a tenant named shares across the routes
				run(t, r, clock, []step{
					{path: "/a", opts: []reqOpt{header("X-Tenant", "t1")}, code: 200},
					{path: "/b", opts: []reqOpt{header("X-Tenant", "t1")}, code: 429},
				})
			}
		})
	}
}

// A 500 for a storage failure carries no rate-limit headers, whichever step
// of the request failed: Handler's headers of the application limits it
// counted went out with a failure at the route's marker.
func TestStorageFailureResponseHasNoRateLimitHeaders(t *testing.T) {
	lim, fs, clock, _ := flakyLimiter(t, chilimit.WithHeaders(true), chilimit.WithIETFHeaders(true), chilimit.WithApplicationLimits("5/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	down := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fs.down.Store(true)
			defer fs.down.Store(false)
			next.ServeHTTP(w, r)
		})
	}
	r.With(down, chilimit.Limit("1/minute")).Get("/marker", text("x"))
	r.Get("/handler", text("y"))
	none := map[string]string{"X-RateLimit-Limit": "", "X-RateLimit-Remaining": "", "X-RateLimit-Reset": "", "RateLimit": "", "RateLimit-Policy": ""}
	run(t, r, clock, []step{{path: "/marker", code: 500, headers: none}})
	fs.down.Store(true)
	run(t, r, clock, []step{{path: "/handler", code: 500, headers: none}})
}

// flushErrWriter is a writer whose client is gone: its flush fails.
type flushErrWriter struct{ *httptest.ResponseRecorder }

func (flushErrWriter) FlushError() error { return errClientGone }

var errClientGone = errors.New("write: broken pipe")

// plainWriter is a writer that cannot flush.
type plainWriter struct{ http.ResponseWriter }

// http.ResponseController's Flush reports through the limiter what it
// reports without: the wrapped writer's error, or http.ErrNotSupported.
func TestResponseControllerFlushErrors(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"))
	var got error
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/sse", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("data: 1\n\n"))
		got = http.NewResponseController(w).Flush()
	})
	// Without the limiter, for reference.
	bare := chi.NewRouter()
	bare.Get("/sse", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("data: 1\n\n"))
		got = http.NewResponseController(w).Flush()
	})
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"limited", r}} {
		got = nil
		h.h.ServeHTTP(flushErrWriter{httptest.NewRecorder()}, httptest.NewRequest("GET", "/sse", nil))
		if !errors.Is(got, errClientGone) {
			t.Errorf("%s: Flush on a writer whose client is gone = %v, want %v", h.name, got, errClientGone)
		}
		got = nil
		h.h.ServeHTTP(plainWriter{httptest.NewRecorder()}, httptest.NewRequest("GET", "/sse", nil))
		if !errors.Is(got, http.ErrNotSupported) {
			t.Errorf("%s: Flush on a writer that cannot flush = %v, want http.ErrNotSupported", h.name, got)
		}
	}
}

// A flush that cannot happen sends nothing: the status is the handler's
// to write, and deduct-when judges that one.
func TestFailedFlushIsNoStatus(t *testing.T) {
	lim, _ := newLimiter(t)
	var judged []int
	limit := lim.Limit("10/minute", chilimit.DeductWhen(func(_ *http.Request, status int) bool {
		judged = append(judged, status)
		return true
	}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(limit).Get("/events", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("data: 1\n\n"))
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(plainWriter{rec}, httptest.NewRequest(http.MethodGet, "/events", nil))
	if rec.Code != http.StatusInternalServerError || len(judged) != 1 || judged[0] != rec.Code {
		t.Fatalf("response %d %q; deduct-when judged %v, want [%d]", rec.Code, rec.Body, judged, http.StatusInternalServerError)
	}
}

// The error handler and the on-breach callback see the route (its pattern
// and URL parameters) on a rejection by a default limit, which Handler
// makes before chi routes, as on one by a route limit.
func TestErrorHandlerAndOnBreachSeeTheRoute(t *testing.T) {
	type seen struct{ pattern, id string }
	var inHandler, inBreach seen
	look := func(r *http.Request) seen {
		s := seen{id: chi.URLParam(r, "id")}
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			s.pattern = rctx.RoutePattern()
		}
		return s
	}
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			inHandler = look(r)
			w.WriteHeader(http.StatusTooManyRequests)
		}),
		chilimit.WithOnBreach(func(r *http.Request, _ *chilimit.RateLimitError) { inBreach = look(r) }))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/users/{id}", text("ok"))                                  // default limits
	r.With(chilimit.Limit("1/minute")).Get("/items/{id}", text("ok")) // a route limit
	run(t, r, clock, []step{{path: "/items/7", code: 200}, {path: "/items/7", code: 429}})
	want := seen{"/items/{id}", "7"}
	if inHandler != want || inBreach != want {
		t.Fatalf("route limit: error handler saw %+v, on-breach %+v, want %+v", inHandler, inBreach, want)
	}
	run(t, r, clock, []step{{path: "/users/7", code: 200}, {path: "/users/7", code: 429}})
	want = seen{"/users/{id}", "7"}
	if inHandler != want || inBreach != want {
		t.Fatalf("default limit: error handler saw %+v, on-breach %+v, want %+v", inHandler, inBreach, want)
	}
}

// The error handler and on-breach callbacks see the whole route on a
// rejection, as with Handler at the root, also with Handler in a mounted
// router's stack, and for a limit in a mounted router's stack.
func TestCallbacksSeeTheRouteBelowTheRoot(t *testing.T) {
	for _, handlerInSub := range []bool{true, false} {
		t.Run(fmt.Sprint("Handler in the mounted router ", handlerInSub), func(t *testing.T) {
			type seen struct{ route, id string }
			var byHandler, byBreach seen
			look := func(r *http.Request) seen {
				return seen{chi.RouteContext(r.Context()).RoutePattern(), chi.URLParam(r, "id")}
			}
			eh := func(w http.ResponseWriter, r *http.Request, _ error) {
				byHandler = look(r)
				http.Error(w, "slow down", http.StatusTooManyRequests)
			}
			ob := func(r *http.Request, _ *chilimit.RateLimitError) { byBreach = look(r) }
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/minute"),
				chilimit.WithErrorHandler(eh), chilimit.WithOnBreach(ob))
			r, users := chi.NewRouter(), chi.NewRouter()
			if handlerInSub {
				users.Use(lim.Handler)
			} else {
				r.Use(lim.Handler)
				users.Use(chilimit.Limit("1/minute"))
			}
			users.Get("/{id}", text("ok"))
			r.Mount("/users", users)
			run(t, r, clock, []step{
				{path: "/users/42", code: http.StatusOK},
				{path: "/users/42", code: http.StatusTooManyRequests},
			})
			want := seen{"/users/{id}", "42"}
			if byHandler != want || byBreach != want {
				t.Errorf("error handler saw %+v, on-breach %+v, want %+v", byHandler, byBreach, want)
			}
		})
	}
}

// A HEAD that a sub-router's GetHead serves as the sub-router's GET
// "/{name}", though the root's GET route "/api/{id}" matches the path too:
// the key function, which Handler runs before routing, and the error handler
// see the route chi serves.
func TestHeadCallbacksSeeTheServedRoute(t *testing.T) {
	var seenPattern, seenParam string
	key := func(r *http.Request) string {
		seenPattern = chi.RouteContext(r.Context()).RoutePattern()
		seenParam = chi.URLParam(r, "name")
		return chilimit.RemoteAddr(r)
	}
	lim, _ := newLimiter(t, chilimit.WithKeyFunc(key), chilimit.WithDefaultLimits("5/minute"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/{id}", text("root"))
	r.Route("/api", func(api chi.Router) {
		api.Use(middleware.GetHead)
		api.Get("/{name}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Served", chi.RouteContext(r.Context()).RoutePattern()+" "+chi.URLParam(r, "name"))
		})
	})
	w := serve(r, http.MethodHead, "/api/bob")
	if w.Code != 200 || w.Header().Get("X-Served") != "/api/{name} bob" {
		t.Fatalf("chi served %d %q", w.Code, w.Header().Get("X-Served"))
	}
	if seenPattern != "/api/{name}" || seenParam != "bob" {
		t.Fatalf("key function saw pattern %q, name %q; chi serves /api/{name} with name bob", seenPattern, seenParam)
	}
}

func TestHeadErrorHandlerSeesTheServedRoute(t *testing.T) {
	var seen string
	lim, _ := newLimiter(t, chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		seen = chi.RouteContext(r.Context()).RoutePattern()
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/api/{id}", text("root"))
	r.Route("/api", func(api chi.Router) {
		api.Use(middleware.GetHead, chilimit.Limit("1/minute"))
		api.Get("/{name}", text("named"))
	})
	run(t, r, nil, []step{
		{method: http.MethodHead, path: "/api/bob", code: 200},
		{method: http.MethodHead, path: "/api/bob", code: 429},
	})
	if seen != "/api/{name}" {
		t.Fatalf("error handler saw pattern %q; chi serves /api/{name}", seen)
	}
}

// A route limit declared after slow middleware (authentication asking a
// remote service, a body read) judges the request when it runs, not when
// lim.Handler first saw it: judged at the earlier instant, a request was
// rejected by a window that had already ended, with a Retry-After date in
// the past, and its hit was logged too early, so the next request could
// come within the window of it.
func TestRouteLimitJudgedWhenItRuns(t *testing.T) {
	for _, strategy := range []string{limiter.StrategyFixedWindow, limiter.StrategyMovingWindow} {
		t.Run(strategy, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithStrategy(strategy), chilimit.WithHeaders(true), chilimit.WithRetryAfterHTTPDate(true))
			slow := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Slow") != "" {
						clock.Advance(time.Second) // the middleware's own work
					}
					next.ServeHTTP(w, r)
				})
			}
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(slow, chilimit.Limit("1/second")).Get("/", text("ok"))
			run(t, r, clock, []step{
				{path: "/", code: 200},
				// Reaches the limit at t0+1.5s, after the first hit's second.
				{path: "/", advance: 500 * time.Millisecond, opts: []reqOpt{header("Slow", "1")}, code: 200},
				// t0+1.7s: within a second of the hit at t0+1.5s.
				{path: "/", advance: 200 * time.Millisecond, code: 429, headers: map[string]string{
					"Retry-After": t0.Add(3 * time.Second).Format(http.TimeFormat)}},
			})
		})
	}
}

// resetDuringHit runs a function once, after the next rejected
// fixed-window hit has been counted and before its answer is returned.
type resetDuringHit struct {
	*memory.Storage
	during atomic.Pointer[func()]
}

func (s *resetDuringHit) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	st, err := s.Storage.AcquireFixedWindow(ctx, r, elastic)
	if err == nil && !st.Allowed {
		if f := s.during.Swap(nil); f != nil {
			(*f)()
		}
	}
	return st, err
}

// A rejection the storage gave before Limiter.Reset, whose request reaches
// the over-limit cache only after Reset emptied it, is not kept: it would
// reject the client, whom the storage no longer counts, until the window's
// end.
func TestOverLimitCacheKeepsNoRejectionFromBeforeReset(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	s := &resetDuringHit{Storage: newSharedMemory(t, clock)}
	lim, err := chilimit.New(chilimit.WithStorage(s), chilimit.WithClock(clock), chilimit.WithDefaultLimits("1/hour"),
		chilimit.WithOverLimitCache(true))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	reset := func() {
		if err := lim.Reset(context.Background()); err != nil {
			t.Error(err)
		}
	}
	s.during.Store(&reset)
	run(t, r, clock, []step{
		{path: "/", code: 200},
		{path: "/", code: 429}, // Reset runs while this rejection is on its way
		{path: "/", code: 200}, // the storage was reset
	})
}

// A HEAD that middleware.GetHead serves with a GET route's handler counts
// as that GET: a Methods("GET") limit counts it, and a per-method limit
// (a route's, or the defaults') in the GET's bucket, with Handler or
// without it, whichever side of Handler GetHead sits. Without GetHead a
// HEAD reaches no GET route (405) and counts nothing.
func TestHeadServedAsGetCountsAsGet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler int // 0 none, 1 before GetHead, 2 after it; 3 none, and the route limits in the stack before GetHead
		getHead bool
	}{
		{"Handler, then GetHead", 1, true},
		{"GetHead, then Handler", 2, true},
		{"route limits only", 0, true},
		{"route limits only, in the stack before GetHead", 3, true},
		{"no GetHead", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithDefaultLimitsPerMethod(true))
			r := chi.NewRouter()
			if tc.handler == 1 {
				r.Use(lim.Handler)
			}
			onlyGet, perMethod := lim.Limit("1/hour", chilimit.Methods("GET")), lim.Limit("1/hour", chilimit.PerMethod(true))
			if tc.handler == 3 {
				// Before GetHead, where chi has not routed yet; the two
				// limits then count on every route, as one bucket each.
				r.Use(onlyGet, perMethod)
				onlyGet, perMethod = nil, nil
			}
			if tc.getHead {
				r.Use(middleware.GetHead)
			}
			if tc.handler == 2 {
				r.Use(lim.Handler)
			}
			if onlyGet != nil {
				r.With(onlyGet).Get("/only-get", text("ok"))
				r.With(perMethod).Get("/per-method", text("ok"))
			} else {
				r.Get("/only-get", text("ok"))
				r.Get("/per-method", text("ok"))
			}
			r.Get("/defaults", text("ok"))
			paths := []string{"/only-get", "/per-method", "/defaults"}
			switch tc.handler {
			case 0:
				paths = paths[:2] // no Handler, no defaults
			case 3:
				paths = paths[:1] // one route: both limits are on each
			}
			for _, path := range paths {
				steps := []step{
					{method: http.MethodHead, path: path, code: 200}, // served by the GET handler
					{path: path, code: 429},                          // and counted in its bucket
					{method: http.MethodHead, path: path, code: 429},
				}
				if !tc.getHead {
					steps = []step{
						{method: http.MethodHead, path: path, code: 405},
						{path: path, code: 200}, // the 405 counted nothing
						{method: http.MethodHead, path: path, code: 405},
					}
				}
				run(t, r, clock, steps)
			}
		})
	}
}

// A handler that writes the header twice gets net/http's warning naming
// the handler's own line, not chilimit's writer, on the server's ErrorLog,
// also when http.Error made the second call; the first status stands.
// Informational headers before it are no mistake, and neither is an error
// status after a copy that sent nothing.
func TestSuperfluousWriteHeaderNamesTheHandler(t *testing.T) {
	handlers := []struct {
		name   string
		h      http.HandlerFunc
		status int
		warned bool
	}{
		{"WriteHeader thrice", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusTeapot) // the mistake
		}, http.StatusAccepted, true},
		{"http.Error after Write", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("partial"))
			http.Error(w, "failed", http.StatusInternalServerError) // the mistake
		}, http.StatusOK, true},
		{"http.Error after an empty copy", func(w http.ResponseWriter, _ *http.Request) {
			if _, err := io.Copy(w, failingReader{}); err != nil {
				http.Error(w, "bad gateway", http.StatusBadGateway)
			}
		}, http.StatusBadGateway, false},
	}
	for _, enabled := range []bool{true, false} {
		for _, tt := range handlers {
			t.Run(fmt.Sprintf("%s/enabled=%v", tt.name, enabled), func(t *testing.T) {
				lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"), chilimit.WithEnabled(enabled))
				r := chi.NewRouter()
				r.Use(lim.Handler)
				r.Get("/x", tt.h)
				var logged syncBuffer
				srv := httptest.NewUnstartedServer(r)
				srv.Config.ErrorLog = log.New(&logged, "", 0)
				srv.Start()
				defer srv.Close()
				resp, err := http.Get(srv.URL + "/x")
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
				}
				srv.Close() // the handler has returned: the log is complete
				got := logged.String()
				warned := strings.Count(got, "superfluous response.WriteHeader") == 1 &&
					strings.Contains(got, "TestSuperfluousWriteHeaderNamesTheHandler") && strings.Contains(got, "(features_test.go:")
				if tt.warned && !warned || !tt.warned && got != "" {
					t.Errorf("server log = %q, want a warning naming the test's handler: %v", got, tt.warned)
				}
				// Without a server (a test's recorder) the calls reach the
				// recorder as they would without the limiter.
				bare := chi.NewRouter()
				bare.Get("/x", tt.h)
				if w, want := get(r, "/x"), get(bare, "/x"); w.Code != want.Code {
					t.Errorf("recorder: status = %d, want bare chi's %d", w.Code, want.Code)
				}
			})
		}
	}
}

// failingReader fails its first Read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("upstream gone") }
