package memcached_test

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// t0 is the instant the step tables start from. Decisions depend only on
// Request.Now, so it need not be the real time.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func uniquePrefix() string {
	return "test-" + crand.Text()[:12] + ":"
}

// newStorage returns a storage over a fresh client of addrs with a unique
// key prefix, and the client.
func newStorage(t *testing.T, addrs []string, opts ...limiter.StorageOption) (*memcached.Storage, *memcache.Client) {
	t.Helper()
	c := memcache.New(addrs...)
	c.MaxIdleConns = 64
	c.Timeout = time.Second
	s, err := memcached.New(c, append([]limiter.StorageOption{memcached.WithKeyPrefix(uniquePrefix())}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		_ = c.Close()
	})
	return s, c
}

func mustLimit(t testing.TB, s string) limiter.Limit {
	t.Helper()
	l, err := limiter.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return l
}

func showState(s limiter.State, base time.Time) string {
	return fmt.Sprintf("{Allowed:%v Remaining:%d ResetAt:+%v RetryAt:+%v}", s.Allowed, s.Remaining, time.Duration(s.ResetAt-base.UnixNano()), time.Duration(s.RetryAt-base.UnixNano()))
}

// TestFixedWindowSteps walks one key through a window and the next.
func TestFixedWindowSteps(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := mustLimit(t, "3 per minute")
	type step struct {
		at           time.Duration
		cost         int64
		peek         bool
		allowed      bool
		remaining    int64
		reset, retry time.Duration
	}
	steps := []step{
		{at: 0, peek: true, cost: 1, allowed: true, remaining: 3, reset: 0, retry: 0},
		{at: 0, cost: 1, allowed: true, remaining: 2, reset: time.Minute, retry: 0},
		{at: 10 * time.Second, cost: 2, allowed: true, remaining: 0, reset: time.Minute, retry: 10 * time.Second},
		{at: 20 * time.Second, cost: 1, allowed: false, remaining: 0, reset: time.Minute, retry: time.Minute},
		{at: 30 * time.Second, cost: 4, allowed: false, remaining: 0, reset: time.Minute, retry: time.Minute},
		{at: 59 * time.Second, peek: true, cost: 1, allowed: false, remaining: 0, reset: time.Minute, retry: time.Minute},
		{at: time.Minute, peek: true, cost: 1, allowed: true, remaining: 3, reset: time.Minute, retry: time.Minute},
		{at: time.Minute + time.Nanosecond, cost: 3, allowed: true, remaining: 0, reset: 2*time.Minute + time.Nanosecond, retry: time.Minute + time.Nanosecond},
	}
	for i, st := range steps {
		r := limiter.Request{Key: "steps", Limit: l, Cost: st.cost, Now: t0.Add(st.at)}
		var got limiter.State
		var err error
		op := "AcquireFixedWindow"
		if st.peek {
			op = "PeekFixedWindow"
			got, err = s.PeekFixedWindow(ctx, r)
		} else {
			got, err = s.AcquireFixedWindow(ctx, r, false)
		}
		if err != nil {
			t.Fatalf("step %d: %s: %v", i, op, err)
		}
		want := limiter.State{Allowed: st.allowed, Remaining: st.remaining, ResetAt: t0.Add(st.reset).UnixNano(), RetryAt: t0.Add(st.retry).UnixNano()}
		if got != want {
			t.Errorf("step %d: %s(at +%v, cost %d) = %s, want %s", i, op, st.at, st.cost, showState(got, t0), showState(want, t0))
		}
	}
}

// reference runs the pure algorithm of limiter for one strategy, to compare
// the storage with.
type reference struct {
	fixed   limiter.FixedWindow
	sliding limiter.SlidingWindow
	bucket  limiter.TokenBucket
	moving  limiter.MovingWindow
}

func (ref *reference) do(strategy string, peek bool, r limiter.Request) limiter.State {
	switch strategy {
	case limiter.StrategyFixedWindow, limiter.StrategyFixedWindowElasticExpiry:
		if peek {
			return ref.fixed.Peek(r)
		}
		return ref.fixed.Acquire(r, strategy == limiter.StrategyFixedWindowElasticExpiry)
	case limiter.StrategySlidingWindowCounter:
		if peek {
			return ref.sliding.Peek(r)
		}
		return ref.sliding.Acquire(r)
	case limiter.StrategyTokenBucket:
		if peek {
			return ref.bucket.Peek(r)
		}
		return ref.bucket.Acquire(r)
	default:
		if peek {
			return ref.moving.Peek(r)
		}
		return ref.moving.Acquire(r)
	}
}

func call(ctx context.Context, s *memcached.Storage, strategy string, peek bool, r limiter.Request) (limiter.State, error) {
	switch strategy {
	case limiter.StrategyFixedWindow, limiter.StrategyFixedWindowElasticExpiry:
		if peek {
			return s.PeekFixedWindow(ctx, r)
		}
		return s.AcquireFixedWindow(ctx, r, strategy == limiter.StrategyFixedWindowElasticExpiry)
	case limiter.StrategySlidingWindowCounter:
		if peek {
			return s.PeekSlidingWindow(ctx, r)
		}
		return s.AcquireSlidingWindow(ctx, r)
	case limiter.StrategyTokenBucket:
		if peek {
			return s.PeekTokenBucket(ctx, r)
		}
		return s.AcquireTokenBucket(ctx, r)
	default:
		if peek {
			return s.PeekMovingWindow(ctx, r)
		}
		return s.AcquireMovingWindow(ctx, r)
	}
}

// TestMatchesReference drives every strategy through random sequences of
// hits and peeks, one caller at a time, and wants exactly the State the
// pure algorithm in package limiter computes: counts, reset and retry
// instants to the nanosecond, all taken from what the storage keeps.
func TestMatchesReference(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	for _, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(strategy))))
			for seq := range 12 {
				l := limiter.Limit{Amount: rng.Int64N(6), Multiples: 1 + rng.Int64N(10), Unit: limiter.Second}
				key := fmt.Sprintf("ref/%s/%d", strategy, seq)
				var ref reference
				now := t0.Add(time.Duration(rng.Int64N(int64(time.Hour))))
				for i := range 40 {
					switch rng.IntN(4) {
					case 0:
					case 1:
						now = now.Add(l.Window()) // exactly on a boundary
					default:
						now = now.Add(time.Duration(rng.Int64N(int64(l.Window()))))
					}
					peek := rng.IntN(4) == 0
					r := limiter.Request{Key: key, Limit: l, Cost: 1 + rng.Int64N(l.Amount+1), Now: now}
					got, err := call(ctx, s, strategy, peek, r)
					if err != nil {
						t.Fatalf("seq %d step %d: %v", seq, i, err)
					}
					want := ref.do(strategy, peek, r)
					if got != want {
						t.Fatalf("seq %d step %d: limit %v, peek=%v cost %d at %v: got %s, want %s",
							seq, i, l, peek, r.Cost, now.Sub(t0), showState(got, now), showState(want, now))
					}
				}
			}
		})
	}
}

// TestMatchesReferenceWithClocksBehind: hits from application servers whose
// clocks lag the one that stored a key's state, by a few milliseconds across
// a window boundary and by more than a window, give the reference's States
// (a lagging hit on a sliding window counts in the stored window, as if at
// its start). Modelled on the Redis storage's
// TestScriptsMatchReferenceWithClocksBehind.
func TestMatchesReferenceWithClocksBehind(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := limiter.Limit{Amount: 4, Multiples: 1, Unit: limiter.Second}
	start := t0.Truncate(time.Second)
	offsets := []time.Duration{
		1500 * time.Millisecond, 700 * time.Millisecond, 1600 * time.Millisecond, 200 * time.Millisecond,
		2100 * time.Millisecond, 1999 * time.Millisecond, 1999*time.Millisecond + 1, 900 * time.Millisecond,
		3200 * time.Millisecond, 2999 * time.Millisecond,
		// Two clocks straddling a boundary by a millisecond, both filling
		// the limit: the lagging ones count in the newer window.
		5001 * time.Millisecond, 5001 * time.Millisecond, 5001 * time.Millisecond, 5001 * time.Millisecond,
		4999 * time.Millisecond, 4999 * time.Millisecond, 4999 * time.Millisecond, 4999 * time.Millisecond,
	}
	for _, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			key := "behind/" + strategy
			var ref reference
			for i, off := range offsets {
				for _, peek := range []bool{true, false} {
					r := limiter.Request{Key: key, Limit: l, Cost: 1, Now: start.Add(off)}
					want := ref.do(strategy, peek, r)
					got, err := call(ctx, s, strategy, peek, r)
					if err != nil {
						t.Fatalf("hit %d at +%v: %v", i, off, err)
					}
					if got != want {
						t.Fatalf("hit %d (peek=%v) at +%v: got %s, want %s", i, peek, off, showState(got, start), showState(want, start))
					}
				}
			}
		})
	}
}

// TestSlidingWindowStraddledBoundary is the reviewer's reproducer: 10 per
// second, ten hits a millisecond after a boundary from one clock, then ten
// a millisecond before it from a clock 2ms behind. The reference admits
// ten in all; counting the lagging hits in the window before would admit
// twenty.
func TestSlidingWindowStraddledBoundary(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := mustLimit(t, "10 per second")
	boundary := t0.Truncate(time.Second).Add(time.Second)
	allowed := 0
	for _, at := range []time.Time{boundary.Add(time.Millisecond), boundary.Add(-time.Millisecond)} {
		for range 10 {
			st, err := s.AcquireSlidingWindow(ctx, limiter.Request{Key: "straddle", Limit: l, Cost: 1, Now: at})
			if err != nil {
				t.Fatal(err)
			}
			if st.Allowed {
				allowed++
			}
		}
	}
	if allowed != 10 {
		t.Errorf("20 hits on %v straddling a boundary by 1ms: %d allowed, want 10", l, allowed)
	}
}

// TestConcurrentHitsAreExact hits one key from many goroutines at once and
// wants exactly the limit admitted, for every strategy.
func TestConcurrentHitsAreExact(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	for _, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			st := limiter.MustNewStrategy(strategy, s)
			for _, tc := range []struct {
				goroutines, each int
				limit            string
			}{{100, 1, "5 per hour"}, {8, 250, "1000 per hour"}} {
				l := mustLimit(t, tc.limit)
				key := fmt.Sprintf("race/%s/%d", strategy, tc.goroutines)
				now := time.Now()
				results := make(chan error, tc.goroutines*tc.each)
				var allowed sync.WaitGroup
				var mu sync.Mutex
				n := 0
				for range tc.goroutines {
					allowed.Go(func() {
						for range tc.each {
							res, err := st.Hit(t.Context(), limiter.Request{Key: key, Limit: l, Cost: 1, Now: now})
							results <- err
							if err == nil && res.Allowed {
								mu.Lock()
								n++
								mu.Unlock()
							}
						}
					})
				}
				allowed.Wait()
				close(results)
				for err := range results {
					if err != nil {
						t.Fatalf("Hit: %v", err)
					}
				}
				if int64(n) != l.Amount {
					t.Errorf("%d goroutines × %d hits on %v: %d allowed, want exactly %d", tc.goroutines, tc.each, l, n, l.Amount)
				}
			}
		})
	}
}

// TestAwkwardKeys: keys memcached cannot hold as they are still work, each
// with its own counter.
func TestAwkwardKeys(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := mustLimit(t, "1 per hour")
	long := strings.Repeat("x", 300)
	keys := []string{
		"plain",
		long,
		long + "y", // differs only past the 250-byte limit
		strings.Repeat("x", 250),
		"with space",
		"with\ttab",
		"with\nnewline\r\n",
		"nul\x00byte",
		"del\x7f",
		"ünïcode",
		"",
		// A key that looks like the hashed form of another.
		hexSHA256("with space"),
		"h:" + hexSHA256("with space"),
		"k:plain",
	}
	for _, k := range keys {
		r := limiter.Request{Key: k, Limit: l, Cost: 1, Now: t0}
		st, err := s.AcquireFixedWindow(ctx, r, false)
		if err != nil {
			t.Fatalf("AcquireFixedWindow(%q): %v", k, err)
		}
		if !st.Allowed {
			t.Errorf("first hit on %q rejected: another key shares its counter", k)
		}
	}
	for _, k := range keys {
		r := limiter.Request{Key: k, Limit: l, Cost: 1, Now: t0.Add(time.Second)}
		for _, strategy := range limiter.Strategies() {
			if strategy == limiter.StrategyFixedWindow {
				st, err := s.AcquireFixedWindow(ctx, r, false)
				if err != nil || st.Allowed {
					t.Errorf("second fixed-window hit on %q = %v, %v; want rejected", k, st.Allowed, err)
				}
				continue
			}
			if strategy == limiter.StrategyFixedWindowElasticExpiry {
				continue
			}
			for i, want := range []bool{true, false} {
				st, err := call(ctx, s, strategy, false, r)
				if err != nil || st.Allowed != want {
					t.Errorf("%s hit %d on %q = %v, %v; want allowed=%v", strategy, i+1, k, st.Allowed, err, want)
				}
			}
		}
		if err := s.Clear(ctx, k); err != nil {
			t.Fatalf("Clear(%q): %v", k, err)
		}
		for _, strategy := range limiter.Strategies() {
			st, err := call(ctx, s, strategy, true, r)
			if err != nil || st.Remaining != 1 {
				t.Errorf("%s peek on %q after Clear: remaining %d, %v; want 1", strategy, k, st.Remaining, err)
			}
		}
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestLongWindowsLast: memcached reads expiries over 30 days as absolute
// Unix times; windows of a year and of two months must still last.
func TestLongWindowsLast(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	for _, tc := range []struct {
		limit  string
		amount int
	}{{"1 per year", 1}, {"2 per 2 months", 2}, {"1 per 30 days", 1}, {"1 per 31 days", 1}} {
		l := mustLimit(t, tc.limit)
		for _, strategy := range limiter.Strategies() {
			st := limiter.MustNewStrategy(strategy, s)
			key := "long/" + tc.limit
			now := time.Now()
			for i := range tc.amount {
				res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: now})
				if err != nil || !res.Allowed {
					t.Fatalf("%s %v hit %d = %v, %v; want allowed", strategy, l, i+1, res.Allowed, err)
				}
			}
			// Items sent with a relative expiry over 30 days would be dead
			// on arrival; the limit holds, so they are there.
			res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: now.Add(time.Second)})
			if err != nil || res.Allowed {
				t.Errorf("%s %v: hit past the amount = %v, %v; want rejected (items expired early?)", strategy, l, res.Allowed, err)
			}
			if strategy != limiter.StrategySlidingWindowCounter && !res.ResetAt.After(now.Add(l.Window()-time.Second)) {
				t.Errorf("%s %v: ResetAt %v, want about a window after %v", strategy, l, res.ResetAt, now)
			}
			if err := st.Clear(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestExpiredItemsDoNotDecide: reset times come from stored instants, not
// from the server's expiry, and a dead window is replaced although its
// items are still on the server.
func TestResetFromStoredInstants(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := mustLimit(t, "2 per 10 seconds")
	r := limiter.Request{Key: "reset", Limit: l, Cost: 1, Now: t0}
	if _, err := s.AcquireFixedWindow(ctx, r, false); err != nil {
		t.Fatal(err)
	}
	r.Now = t0.Add(3500 * time.Millisecond)
	st, err := s.AcquireFixedWindow(ctx, r, false)
	if err != nil || st.ResetAt != t0.Add(10*time.Second).UnixNano() || st.Remaining != 0 {
		t.Fatalf("second hit = %s, %v; want remaining 0, reset at +10s", showState(st, t0), err)
	}
	// Elastic: every hit, rejected too, moves the end.
	r.Key = "elastic"
	for i, at := range []time.Duration{0, time.Second, 9 * time.Second, 18 * time.Second} {
		r.Now = t0.Add(at)
		st, err := s.AcquireFixedWindow(ctx, r, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.Now.Add(10 * time.Second).UnixNano(); st.ResetAt != want || st.Allowed != (i < 2) {
			t.Errorf("elastic hit at +%v = %s; want allowed=%v reset at +%v", at, showState(st, t0), i < 2, at+10*time.Second)
		}
	}
}

// TestSlidingWindowSlots checks the weighting across windows and a slot
// re-used two windows later.
func TestSlidingWindowSlots(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	l := mustLimit(t, "10 per 10 seconds")
	start := t0.Truncate(10 * time.Second)
	r := limiter.Request{Key: "slots", Limit: l, Cost: 10, Now: start.Add(time.Second)}
	st, err := s.AcquireSlidingWindow(ctx, r)
	if err != nil || !st.Allowed || st.Remaining != 0 {
		t.Fatalf("first hit = %s, %v", showState(st, start), err)
	}
	// 3s into the next window, 70% of the previous 10 still counts: 7.
	r.Now, r.Cost = start.Add(13*time.Second), 1
	st, err = s.PeekSlidingWindow(ctx, r)
	if err != nil || st.Remaining != 3 {
		t.Fatalf("peek at +13s = %s, %v; want remaining 3", showState(st, start), err)
	}
	// Two windows later, the slot of the first window is re-stamped.
	r.Now, r.Cost = start.Add(21*time.Second), 10
	st, err = s.AcquireSlidingWindow(ctx, r)
	if err != nil || !st.Allowed || st.Remaining != 0 {
		t.Fatalf("hit at +21s = %s, %v; want allowed, remaining 0", showState(st, start), err)
	}
}

func TestRefusedLimits(t *testing.T) {
	s, _ := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	huge := limiter.Limit{Amount: 1 << 31, Multiples: 1, Unit: limiter.Hour}
	if _, err := s.AcquireSlidingWindow(ctx, limiter.Request{Key: "k", Limit: huge, Cost: 1, Now: t0}); !errors.Is(err, limiter.ErrUnsupported) {
		t.Errorf("AcquireSlidingWindow(amount 2^31) error = %v, want ErrUnsupported", err)
	}
	big := limiter.Limit{Amount: memcached.MaxMovingWindowAmount + 1, Multiples: 1, Unit: limiter.Hour}
	if _, err := s.AcquireMovingWindow(ctx, limiter.Request{Key: "k", Limit: big, Cost: 1, Now: t0}); !errors.Is(err, limiter.ErrUnsupported) {
		t.Errorf("AcquireMovingWindow(amount %d) error = %v, want ErrUnsupported", big.Amount, err)
	}
	if _, ok := any(s).(limiter.ResetAller); ok {
		t.Errorf("Storage implements limiter.ResetAller; the package documents that it does not")
	}
}

func TestClose(t *testing.T) {
	s, c := newStorage(t, []string{servers.Memcached(t)})
	ctx := t.Context()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r := limiter.Request{Key: "k", Limit: mustLimit(t, "1/second"), Cost: 1, Now: t0}
	for name, err := range map[string]error{
		"Check":              s.Check(ctx),
		"Clear":              s.Clear(ctx, "k"),
		"AcquireFixedWindow": func() error { _, err := s.AcquireFixedWindow(ctx, r, false); return err }(),
		"PeekTokenBucket":    func() error { _, err := s.PeekTokenBucket(ctx, r); return err }(),
	} {
		if !errors.Is(err, limiter.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	// The caller's client stays usable.
	if err := c.Set(&memcache.Item{Key: "still-open", Value: []byte("1")}); err != nil {
		t.Errorf("client Set after storage Close: %v", err)
	}
}

func TestContext(t *testing.T) {
	p := servers.StartMemcached(t)
	s, _ := newStorage(t, []string{p.Addr()})
	r := limiter.Request{Key: "ctx", Limit: mustLimit(t, "1/second"), Cost: 1, Now: t0}
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.AcquireFixedWindow(cancelled, r, false); !errors.Is(err, context.Canceled) {
		t.Errorf("AcquireFixedWindow(cancelled) = %v, want context.Canceled", err)
	}
	// A frozen server: the call returns at the deadline, not the client's
	// one-second timeout.
	p.Pause()
	defer p.Resume()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.AcquireTokenBucket(ctx, r)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AcquireTokenBucket on a paused server = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("AcquireTokenBucket returned after %v, want about 100ms", d)
	}
	if err := s.Check(t.Context()); err == nil {
		t.Errorf("Check on a paused server = nil, want an error")
	}
	p.Resume()
	// goleak in TestMain checks the abandoned call ended with the client's
	// timeout.
	time.Sleep(1100 * time.Millisecond)
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check after Resume: %v", err)
	}
}

func TestOpen(t *testing.T) {
	addrs := servers.MemcachedPool(t)
	ctx := t.Context()
	uriPrefix := "memcached://" + strings.Join(addrs, ",") + "?timeout=1s&max_idle_conns=8&key_prefix=" + uniquePrefix()
	store, err := limiter.Open(ctx, uriPrefix)
	if err != nil {
		t.Fatalf("Open pool: %v", err)
	}
	defer store.Close()
	if err := store.Check(ctx); err != nil {
		t.Fatalf("Check pool: %v", err)
	}
	st := limiter.MustNewStrategy(limiter.StrategySlidingWindowCounter, store)
	l := mustLimit(t, "3/hour")
	for i := range 20 {
		key := fmt.Sprintf("pool-%d", i)
		for j := range 4 {
			res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: t0})
			if err != nil || res.Allowed != (j < 3) {
				t.Fatalf("hit %d on %s = %v, %v; want allowed=%v", j+1, key, res.Allowed, err, j < 3)
			}
		}
	}
	// The client spread the keys over both servers.
	prefix := strings.SplitN(uriPrefix, "&key_prefix=", 2)[1]
	for _, a := range addrs {
		c := memcache.New(a)
		var keys []string
		for i := range 20 {
			keys = append(keys, fmt.Sprintf("%sk:pool-%d:s0", prefix, i), fmt.Sprintf("%sk:pool-%d:s1", prefix, i))
		}
		items, err := c.GetMulti(keys)
		c.Close()
		if err != nil || len(items) == 0 {
			t.Errorf("server %s holds %d of the pool's keys (%v); want some on each", a, len(items), err)
		}
	}

	for _, tc := range []struct{ uri, want string }{
		{"memcached://127.0.0.1:1?bogus=1", `unknown parameter "bogus"`},
		{"memcached://127.0.0.1:1?timeout=soon", "timeout"},
		{"memcached://127.0.0.1:1?timeout=-1s", "timeout"},
		{"memcached://127.0.0.1:1?max_idle_conns=0", "max idle"},
		{"memcached://127.0.0.1:1?key_prefix=a%20b", "prefix"},
		{"memcached://user:pw@127.0.0.1:1", "user info"},
		{"memcached://127.0.0.1:1/db", "path"},
		{"memcached://", "no server"},
		{"memcached://127.0.0.1", "not host:port"},
		{"memcached://127.0.0.1:1,:2", "not host:port"},
		{"memcached://127.0.0.1:99999", "bad port"},
	} {
		_, err := limiter.Open(ctx, tc.uri)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want ErrInvalidURI mentioning %q", tc.uri, err, tc.want)
		}
	}
	if _, err := limiter.Open(ctx, "memcached://127.0.0.1:1", memcached.WithExpiryGrace(time.Second)); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("Open with a 1s grace = %v, want ErrInvalidOption", err)
	}
	if _, err := memcached.New(memcache.New(addrs[0]), memcached.WithTimeout(time.Second)); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("New with WithTimeout = %v, want ErrInvalidOption", err)
	}
	if _, err := memcached.New(nil); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("New(nil) = %v, want ErrInvalidOption", err)
	}
	if err := memcached.WithKeyPrefix("x")(new(int)); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("WithKeyPrefix on another backend's config = %v, want ErrInvalidOption", err)
	}
}
