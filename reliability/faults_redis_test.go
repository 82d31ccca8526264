package reliability

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstorage "github.com/limits-go/limits/storage/redis"
)

// openRedis opens the redis storage at addr by URI, closed when the test
// ends.
func openRedis(t testing.TB, uri string, opts ...limiter.StorageOption) limiter.Storage {
	t.Helper()
	s, err := limiter.Open(context.Background(), uri, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustRedisStorage wraps a go-redis client in the redis storage; the caller
// keeps the client.
func mustRedisStorage(t testing.TB, c goredis.UniversalClient) limiter.Storage {
	t.Helper()
	s, err := redisstorage.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRedisKilledUnderLoadSwallowErrors kills Redis while eight clients
// send requests, then restarts it: with swallow-errors no request fails,
// the storage error is logged once per log interval (the limiter's clock is
// frozen, then stepped by exactly one interval), and limits hold again
// after the restart.
func TestRedisKilledUnderLoadSwallowErrors(t *testing.T) {
	p := servers.StartRedis(t)
	clock := limiter.NewManualClock(time.Now())
	const interval = time.Minute
	lim, rec := newLimiter(t,
		chilimit.WithStorageURI("redis://"+p.Addr()),
		chilimit.WithDefaultLimits("20 per minute"),
		chilimit.WithSwallowErrors(true),
		chilimit.WithClock(clock),
		chilimit.WithLogInterval(interval),
		chilimit.WithStorageTimeout(300*time.Millisecond),
	)
	h := router(lim)
	ld := startLoad(h, 8)
	ld.waitMore(t, 400, 20*time.Second)
	if n := rec.count(slog.LevelError, msgStorageFailed); n != 0 {
		t.Fatalf("%d storage errors logged before the kill, want 0", n)
	}
	p.Kill()
	eventually(t, 10*time.Second, "a storage error logged after the kill", func() bool {
		return rec.count(slog.LevelError, msgStorageFailed) > 0
	})
	ld.waitMore(t, 100, 20*time.Second)
	if n := rec.count(slog.LevelError, msgStorageFailed); n != 1 {
		t.Errorf("storage errors logged in one log interval of outage = %d, want 1", n)
	}
	clock.Advance(interval)
	ld.waitMore(t, 100, 20*time.Second)
	if n := rec.count(slog.LevelError, msgStorageFailed); n != 2 {
		t.Errorf("storage errors logged over two log intervals of outage = %d, want 2", n)
	}
	if v, ok := rec.attr(slog.LevelError, msgStorageFailed, "swallowed"); !ok || !v.Bool() {
		t.Errorf("storage error log: swallowed = %v (present %v), want true", v, ok)
	}
	p.Restart()
	ld.waitMore(t, 200, 20*time.Second)
	codes := ld.stop()
	// Pooled connections to the killed server fail once each (a script
	// whose reply is lost is never re-sent), and those errors are
	// swallowed: wait until a probe client is counted again.
	eventually(t, 10*time.Second, "Redis counting again after the restart", func() bool {
		for range 30 {
			if get(h, "10.9.9.8:1", "/r").Code == http.StatusTooManyRequests {
				return true
			}
		}
		return false
	})
	t.Logf("responses by status: %v", codes)
	for code, n := range codes {
		if code != http.StatusOK && code != http.StatusTooManyRequests {
			t.Errorf("%d responses with status %d, want only 200 and 429", n, code)
		}
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("no 429 at all: the limits were never enforced")
	}
	// Redis lost every count; a new client gets exactly its limit.
	if got, want := statuses(h, "10.9.9.9:1", "/r", 22), repeat(200, 20, 429, 2); !slices.Equal(got, want) {
		t.Errorf("after the restart a new client got %v, want %v", got, want)
	}
}

func sumCodes(codes map[int]int) int {
	n := 0
	for _, c := range codes {
		n += c
	}
	return n
}

// TestRedisKilledUnderLoadFallback kills and restarts Redis while eight
// clients send requests, with the in-memory fallback: no request fails,
// the switch and the recovery are each logged once, and the limits are
// enforced throughout.
func TestRedisKilledUnderLoadFallback(t *testing.T) {
	p := servers.StartRedis(t)
	lim, rec := newLimiter(t,
		chilimit.WithStorageURI("redis://"+p.Addr()),
		chilimit.WithDefaultLimits("20 per minute"),
		chilimit.WithInMemoryFallbackEnabled(true),
		chilimit.WithHealthCheckBackoff(50*time.Millisecond, 200*time.Millisecond),
		chilimit.WithStorageTimeout(300*time.Millisecond),
	)
	h := router(lim)
	ld := startLoad(h, 8)
	ld.waitMore(t, 300, 20*time.Second)
	p.Kill()
	eventually(t, 10*time.Second, "the switch to the fallback", func() bool {
		return rec.count(slog.LevelWarn, msgFallbackOn) > 0
	})
	ld.waitMore(t, 300, 20*time.Second)
	p.Restart()
	eventually(t, 10*time.Second, "the recovery", func() bool {
		return rec.count(slog.LevelInfo, msgRecovered) > 0
	})
	ld.waitMore(t, 300, 20*time.Second)
	codes := ld.stop()
	t.Logf("responses by status: %v", codes)
	for code, n := range codes {
		if code != http.StatusOK && code != http.StatusTooManyRequests {
			t.Errorf("%d responses with status %d, want only 200 and 429", n, code)
		}
	}
	if codes[http.StatusOK] < 8*20 || codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("responses %v: want at least 160×200 (20 per client on Redis, more on the fallback) and some 429", codes)
	}
	if n, m := rec.count(slog.LevelWarn, msgFallbackOn), rec.count(slog.LevelInfo, msgRecovered); n != 1 || m != 1 {
		t.Errorf("fallback switches logged %d, recoveries %d; want 1 and 1", n, m)
	}
}

// TestRedisKilledNoFallback checks that without swallow-errors or a
// fallback a Redis killed under load gives a clear 500 through the error
// handler, with an error wrapping chilimit.ErrStorage and naming the
// storage, logged once, and that the limiter works again after the
// restart.
func TestRedisKilledNoFallback(t *testing.T) {
	p := servers.StartRedis(t)
	var mu sync.Mutex
	var errs []error
	lim, rec := newLimiter(t,
		chilimit.WithStorageURI("redis://"+p.Addr()),
		chilimit.WithDefaultLimits("3 per minute"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			chilimit.DefaultErrorHandler(w, r, err)
		}),
	)
	h := router(lim)
	if got, want := statuses(h, "10.0.0.1:1", "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
		t.Fatalf("before the kill: %v, want %v", got, want)
	}
	ld := startLoad(h, 8)
	ld.waitMore(t, 200, 20*time.Second)
	p.Kill()
	ld.waitMore(t, 50, 20*time.Second)
	codes := ld.stop()
	if codes[500] == 0 || codes[200]+codes[429]+codes[500] != sumCodes(codes) {
		t.Errorf("Redis killed under load: %v, want 200, 429 and (after the kill) 500 only", codes)
	}
	mu.Lock()
	errs = errs[:0]
	mu.Unlock()
	start := time.Now()
	for i := range 5 {
		w := get(h, "10.0.0.2:1", "/r")
		if w.Code != http.StatusInternalServerError || strings.TrimSpace(w.Body.String()) != "Internal Server Error" {
			t.Errorf("request %d with Redis dead: %d %q, want 500 Internal Server Error", i, w.Code, w.Body.String())
		}
	}
	// Connection refused, yet go-redis retries its dials: report the cost.
	t.Logf("a request with Redis dead took %v on average", time.Since(start)/5)
	mu.Lock()
	storageErrs := 0
	for _, err := range errs {
		if isStorageErr(err) {
			storageErrs++
			if !strings.Contains(err.Error(), "redis storage") {
				t.Errorf("storage error %q does not name the storage", err)
			}
		}
	}
	mu.Unlock()
	if storageErrs != 5 {
		t.Errorf("error handler saw %d errors wrapping ErrStorage, want 5", storageErrs)
	}
	if n := rec.count(slog.LevelError, msgStorageFailed); n != 1 {
		t.Errorf("storage errors logged = %d, want 1 (one per log interval)", n)
	}
	p.Restart()
	eventually(t, 10*time.Second, "Redis answering after the restart", func() bool {
		return get(h, "10.0.0.3:1", "/r").Code == http.StatusOK
	})
	if got, want := statuses(h, "10.0.0.4:1", "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
		t.Errorf("after the restart: %v, want %v", got, want)
	}
}

// TestRedisKilledInMemoryFallback checks the fallback: while Redis is down
// the fallback limits hold, the health checks back off doubling from the
// minimum to the maximum interval, and once Redis is back the limiter
// returns to it.
func TestRedisKilledInMemoryFallback(t *testing.T) {
	p := servers.StartRedis(t)
	ct := &checkTimes{Storage: openRedis(t, "redis://"+p.Addr())}
	const minCheck, maxCheck = 60 * time.Millisecond, 480 * time.Millisecond
	lim, rec := newLimiter(t,
		chilimit.WithStorage(ct),
		chilimit.WithDefaultLimits("100 per minute"),
		chilimit.WithInMemoryFallback("3 per minute"),
		chilimit.WithHealthCheckBackoff(minCheck, maxCheck),
		chilimit.WithStorageTimeout(300*time.Millisecond),
	)
	h := router(lim)
	if got, want := statuses(h, "10.0.0.1:1", "/r", 5), repeat(200, 5, 0, 0); !slices.Equal(got, want) {
		t.Fatalf("with Redis up: %v, want %v", got, want)
	}
	p.Kill()
	// The first request meets the failure, switches to the fallback and
	// is served by it under the limits it was being checked against;
	// every later one gets the fallback limits.
	got := []int{get(h, "10.0.0.2:1", "/r").Code}
	failed := time.Now()
	got = append(got, statuses(h, "10.0.0.2:1", "/r", 4)...)
	if want := repeat(200, 4, 429, 1); !slices.Equal(got, want) {
		t.Errorf("with Redis dead, fallback limit 3 per minute: %v, want %v (the switching request, then 3 allowed)", got, want)
	}
	if got, want := statuses(h, "10.0.0.1:1", "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
		t.Errorf("with Redis dead, a client that used Redis before: %v, want %v (the fallback counts anew)", got, want)
	}
	if n := rec.count(slog.LevelWarn, msgFallbackOn); n != 1 {
		t.Errorf("fallback switches logged = %d, want 1", n)
	}
	// Five failed checks, each starting min, 2min, 4min, 8min (= max)
	// and max after the previous one ended (the first: after the failure).
	eventually(t, 10*time.Second, "five health checks", func() bool {
		return len(ct.snapshot()) >= 5
	})
	calls := ct.snapshot()
	want := []time.Duration{minCheck, 2 * minCheck, 4 * minCheck, maxCheck, maxCheck}
	prev := failed
	for i, d := range want {
		gap := calls[i].start.Sub(prev)
		if gap < d-5*time.Millisecond || gap > d+100*time.Millisecond {
			t.Errorf("health check %d started %v after the previous one ended, want %v (+ at most 100ms)", i+1, gap, d)
		}
		if calls[i].err == nil {
			t.Errorf("health check %d with Redis dead succeeded", i+1)
		}
		prev = calls[i].end
	}
	p.Restart()
	eventually(t, 10*time.Second, "the recovery logged", func() bool {
		return rec.count(slog.LevelInfo, msgRecovered) == 1
	})
	// Back on Redis: 100 per minute again, counted in Redis.
	if got, want := statuses(h, "10.0.0.3:1", "/r", 5), repeat(200, 5, 0, 0); !slices.Equal(got, want) {
		t.Errorf("after recovery: %v, want %v (Redis limits, not the fallback's)", got, want)
	}
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr()})
	defer c.Close()
	n, err := c.DBSize(context.Background()).Result()
	if err != nil || n != 1 {
		t.Errorf("keys in Redis after recovery = %d, %v; want 1 (the new client's window)", n, err)
	}
}

// TestRedisHungDeadline pauses Redis (SIGSTOP: connections are accepted,
// nothing is answered) and sends traffic through a black-holing proxy: a
// request gives up at the limiter's storage timeout, the default one or a
// configured one, and the storage's own default deadline bounds direct
// calls.
func TestRedisHungDeadline(t *testing.T) {
	p := servers.StartRedis(t)
	px := startProxy(t, p.Addr())
	cases := []struct {
		name    string
		hang    func()
		unhang  func()
		timeout time.Duration // 0: chilimit's default; -1: none
	}{
		{"paused/default", p.Pause, p.Resume, 0},
		{"paused/150ms", p.Pause, p.Resume, 150 * time.Millisecond},
		{"blackhole/default", func() { px.blackhole.Store(true) }, func() { px.blackhole.Store(false) }, 0},
		{"blackhole/150ms", func() { px.blackhole.Store(true) }, func() { px.blackhole.Store(false) }, 150 * time.Millisecond},
		// No limiter timeout: the redis storage's own default bounds it.
		{"blackhole/unbounded", func() { px.blackhole.Store(true) }, func() { px.blackhole.Store(false) }, -1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := p.Addr()
			if strings.HasPrefix(tc.name, "blackhole") {
				addr = px.addr()
			}
			opts := []chilimit.Option{chilimit.WithStorageURI("redis://" + addr), chilimit.WithDefaultLimits("5 per minute")}
			want := chilimit.DefaultStorageTimeout
			switch {
			case tc.timeout > 0:
				opts = append(opts, chilimit.WithStorageTimeout(tc.timeout))
				want = tc.timeout
			case tc.timeout < 0:
				opts = append(opts, chilimit.WithStorageTimeout(0))
				want = redisstorage.DefaultTimeout
			}
			lim, _ := newLimiter(t, opts...)
			h := router(lim)
			// Requests sent while Redis is paused run once it resumes, so
			// each case has a client of its own.
			client := "10.0.1." + itoa(i+1) + ":1"
			if code := get(h, client, "/r").Code; code != http.StatusOK {
				t.Fatalf("before the hang: %d, want 200", code)
			}
			tc.hang()
			defer tc.unhang()
			for i := range 3 {
				start := time.Now()
				code := get(h, client, "/r").Code
				took := time.Since(start)
				if code != http.StatusInternalServerError {
					t.Errorf("request %d with a hung Redis: %d, want 500", i, code)
				}
				if took < want || took > want+300*time.Millisecond {
					t.Errorf("request %d took %v, want the storage timeout %v (+ at most 300ms)", i, took, want)
				}
			}
		})
	}
	t.Run("storage/default", func(t *testing.T) {
		px.blackhole.Store(true)
		defer px.blackhole.Store(false)
		s := openRedis(t, "redis://"+px.addr())
		checkBounded(t, s, redisstorage.DefaultTimeout)
	})
	t.Run("storage/200ms", func(t *testing.T) {
		px.blackhole.Store(true)
		defer px.blackhole.Store(false)
		s := openRedis(t, "redis://"+px.addr()+"?timeout=200ms")
		checkBounded(t, s, 200*time.Millisecond)
	})
}

// checkBounded makes a hit with no deadline of its own against a hung
// storage and checks it fails with a deadline error after about want.
func checkBounded(t *testing.T, s limiter.Storage, want time.Duration) {
	t.Helper()
	strat, err := limiter.NewStrategy(limiter.StrategyFixedWindow, s)
	if err != nil {
		t.Fatal(err)
	}
	l := limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Minute}
	start := time.Now()
	_, err = strat.Hit(context.Background(), limiter.Request{Key: "hung", Limit: l, Cost: 1, Now: time.Now()})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hit on a hung storage: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if took < want || took > want+300*time.Millisecond {
		t.Errorf("hit on a hung storage took %v, want %v (+ at most 300ms)", took, want)
	}
}

// TestRedisKilledOverLimitCache checks that with the over-limit cache a
// client already over its limit stays rejected while Redis is down and
// errors are swallowed, instead of escaping its bucket, while other
// clients are let through.
func TestRedisKilledOverLimitCache(t *testing.T) {
	p := servers.StartRedis(t)
	lim, _ := newLimiter(t,
		chilimit.WithStorageURI("redis://"+p.Addr()),
		chilimit.WithDefaultLimits("2 per minute"),
		chilimit.WithSwallowErrors(true),
		chilimit.WithOverLimitCache(true),
	)
	h := router(lim)
	if got, want := statuses(h, "10.8.0.1:1", "/r", 3), repeat(200, 2, 429, 1); !slices.Equal(got, want) {
		t.Fatalf("with Redis up: %v, want %v", got, want)
	}
	p.Kill()
	if got, want := statuses(h, "10.8.0.1:1", "/r", 3), repeat(429, 3, 0, 0); !slices.Equal(got, want) {
		t.Errorf("the abusive client with Redis dead: %v, want %v (still over its limit)", got, want)
	}
	if got, want := statuses(h, "10.8.0.2:1", "/r", 3), repeat(200, 3, 0, 0); !slices.Equal(got, want) {
		t.Errorf("another client with Redis dead: %v, want %v (errors swallowed)", got, want)
	}
}
