package bench_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
	sethlimiter "github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ululememory "github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"
)

// A quota is the limit a scenario runs under: amount hits per window.
type quota struct {
	amount int64
	window time.Duration
}

// limit returns q as a limiter.Limit; windows are whole seconds.
func (q quota) limit() limiter.Limit {
	return limiter.Limit{Amount: q.amount, Multiples: int64(q.window / time.Second), Unit: limiter.Second}
}

// A decide function answers one hit on key: true when allowed. An error is
// never an answer: every benchmark and test fails on one, so an error cannot
// pass for a rejection.
type decide func(ctx context.Context, key string) (bool, error)

// A library is one rate limiter under test, made fresh for each benchmark.
type library struct {
	// name is the benchmark's last path element: "limits-go:<strategy>" for
	// ours, the peer's short name otherwise.
	name string
	// algorithm is the strategy name of the equivalent algorithm, for the
	// memory comparison.
	algorithm string
	// make builds the limiter for q; cleanups go to tb.Cleanup.
	make func(tb testing.TB, q quota) decide
}

// ourLibraries returns one library per strategy of ours, over storage/memory
// with its default options.
func ourLibraries() []library {
	var libs []library
	for _, strategy := range limiter.Strategies() {
		libs = append(libs, library{name: "limits-go:" + strategy, algorithm: strategy, make: func(tb testing.TB, q quota) decide {
			s, err := memory.New()
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { _ = s.Close() })
			st := limiter.MustNewStrategy(strategy, s)
			l := q.limit()
			if strategy == limiter.StrategyMovingWindow {
				l.Amount = min(l.Amount, memory.MaxMovingWindowAmount) // the largest log the storage holds
			}
			return func(ctx context.Context, key string) (bool, error) {
				res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: limiter.SystemClock.Now()})
				return res.Allowed, err
			}
		}})
	}
	return libs
}

// peerLibraries returns the in-process peers, each used the way its
// documentation shows.
func peerLibraries() []library {
	return []library{
		{name: "x-time-rate", algorithm: limiter.StrategyTokenBucket, make: newXTimeRate},
		{name: "sethvargo", algorithm: limiter.StrategyFixedWindow, make: newSethvargo},
		{name: "throttled", algorithm: limiter.StrategyTokenBucket, make: newThrottled},
		{name: "ulule", algorithm: limiter.StrategyFixedWindow, make: newUlule},
		{name: "httprate", algorithm: limiter.StrategySlidingWindowCounter, make: newHTTPRate},
	}
}

// rateMap is golang.org/x/time/rate as users write it for many clients: a
// map of limiters behind a mutex.
type rateMap struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	every rate.Limit
	burst int
}

func (rm *rateMap) allow(key string) bool {
	rm.mu.Lock()
	l, ok := rm.m[key]
	if !ok {
		l = rate.NewLimiter(rm.every, rm.burst)
		rm.m[key] = l
	}
	rm.mu.Unlock()
	return l.Allow()
}

func newRateMap(q quota) *rateMap {
	return &rateMap{m: make(map[string]*rate.Limiter), every: rate.Every(q.window / time.Duration(q.amount)), burst: int(q.amount)}
}

func newXTimeRate(_ testing.TB, q quota) decide {
	rm := newRateMap(q)
	return func(_ context.Context, key string) (bool, error) { return rm.allow(key), nil }
}

func newSethvargoStore(tb testing.TB, q quota) sethlimiter.Store {
	s, err := memorystore.New(&memorystore.Config{Tokens: uint64(q.amount), Interval: q.window})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func newSethvargo(tb testing.TB, q quota) decide {
	s := newSethvargoStore(tb, q)
	return func(ctx context.Context, key string) (bool, error) {
		_, _, _, ok, err := s.Take(ctx, key)
		return ok, err
	}
}

// newGCRA returns throttled's GCRA limiter over st: a burst of q.amount.
func newGCRA(tb testing.TB, st throttled.GCRAStoreCtx, q quota) *throttled.GCRARateLimiterCtx {
	// MaxBurst counts the requests allowed beyond the first, so a burst of
	// q.amount is MaxBurst q.amount-1.
	gcra, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{
		MaxRate:  throttled.PerDuration(int(q.amount), q.window),
		MaxBurst: int(q.amount) - 1,
	})
	if err != nil {
		tb.Fatal(err)
	}
	// Concurrent hits on one key race on compare-and-swap; throttled gives
	// up after 10 attempts by default and returns an error, which would end
	// the parallel benchmarks.
	gcra.SetMaxCASAttemptsLimit(1000)
	return gcra
}

func newThrottledMem(tb testing.TB, q quota) *throttled.GCRARateLimiterCtx {
	// maxKeys 0: a plain map, throttled's cheapest store.
	st, err := memstore.NewCtx(0)
	if err != nil {
		tb.Fatal(err)
	}
	return newGCRA(tb, st, q)
}

func newThrottled(tb testing.TB, q quota) decide {
	gcra := newThrottledMem(tb, q)
	return func(ctx context.Context, key string) (bool, error) {
		limited, _, err := gcra.RateLimitCtx(ctx, key, 1)
		return !limited, err
	}
}

func newUluleLimiter(q quota) *ulule.Limiter {
	return ulule.New(ululememory.NewStore(), ulule.Rate{Period: q.window, Limit: q.amount})
}

func newUlule(_ testing.TB, q quota) decide {
	l := newUluleLimiter(q)
	return func(ctx context.Context, key string) (bool, error) {
		c, err := l.Get(ctx, key)
		return !c.Reached, err
	}
}

// newHTTPRate uses httprate's decision API, OnLimit, which needs a
// ResponseWriter and a request: it also sets the rate-limit headers.
func newHTTPRate(_ testing.TB, q quota) decide {
	rl := httprate.NewRateLimiter(int(q.amount), q.window)
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	var pool sync.Pool
	pool.New = func() any { return &discardWriter{h: make(http.Header, 4)} }
	return func(_ context.Context, key string) (bool, error) {
		w := pool.Get().(*discardWriter)
		limited := rl.OnLimit(w, req, key)
		clear(w.h)
		pool.Put(w)
		return !limited, nil // OnLimit reports no error
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its headers, so
// the HTTP benchmarks measure routers and limiters, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
