package memory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

var t0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

func perSecond(n int64) limiter.Limit {
	return limiter.Limit{Amount: n, Multiples: 1, Unit: limiter.Second}
}

// fill hits key once under every algorithm at at, with limit.
func fill(t *testing.T, s *Storage, key string, l limiter.Limit, at time.Time) {
	t.Helper()
	ctx := context.Background()
	r := limiter.Request{Key: key, Limit: l, Cost: 1, Now: at}
	for name, f := range map[string]func() (limiter.State, error){
		"fixed":   func() (limiter.State, error) { return s.AcquireFixedWindow(ctx, r, false) },
		"moving":  func() (limiter.State, error) { return s.AcquireMovingWindow(ctx, r) },
		"sliding": func() (limiter.State, error) { return s.AcquireSlidingWindow(ctx, r) },
		"token":   func() (limiter.State, error) { return s.AcquireTokenBucket(ctx, r) },
	} {
		if st, err := f(); err != nil || !st.Allowed {
			t.Fatalf("%s acquire %q = %+v, %v; want allowed", name, key, st, err)
		}
	}
}

// counts returns how many entries each algorithm's maps hold.
func (s *Storage) counts() (fixed, moving, sliding, tokens int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		fixed += len(sh.fixed)
		moving += len(sh.moving)
		sliding += len(sh.sliding)
		tokens += len(sh.tokens)
		sh.mu.Unlock()
	}
	return
}

// sweptByHand returns a storage on a manual clock set to t0, with opts and
// no background sweeper: the test sweeps when it chooses. It is closed when
// the test ends.
func sweptByHand(t *testing.T, opts ...limiter.StorageOption) (*Storage, *limiter.ManualClock) {
	t.Helper()
	clock := limiter.NewManualClock(t0)
	s, err := New(append([]limiter.StorageOption{WithClock(clock), WithSweepInterval(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, clock
}

func TestSweepRemovesOnlyExpiredState(t *testing.T) {
	s, clock := sweptByHand(t)
	// t0 is a whole second, so the sliding window's current window runs
	// t0 to t0+1s and its state lives until t0+2s.
	for i := range 100 {
		fill(t, s, fmt.Sprint("key", i), perSecond(1), t0)
	}
	tests := []struct {
		at                             time.Duration
		fixed, moving, sliding, tokens int
	}{
		{0, 100, 100, 100, 100},
		{time.Second - time.Nanosecond, 100, 100, 100, 100},
		{time.Second, 0, 0, 100, 0},
		{2*time.Second - time.Nanosecond, 0, 0, 100, 0},
		{2 * time.Second, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		clock.Set(t0.Add(tt.at))
		s.sweep()
		f, m, sl, tb := s.counts()
		if f != tt.fixed || m != tt.moving || sl != tt.sliding || tb != tt.tokens {
			t.Errorf("after a sweep at t0+%v: entries (fixed, moving, sliding, token) = (%d, %d, %d, %d), want (%d, %d, %d, %d)",
				tt.at, f, m, sl, tb, tt.fixed, tt.moving, tt.sliding, tt.tokens)
		}
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after every key expired and a sweep = %d, want 0", n)
	}
}

func TestSweepKeepsRefreshedKeys(t *testing.T) {
	s, clock := sweptByHand(t)
	fill(t, s, "old", perSecond(5), t0)
	fill(t, s, "new", perSecond(5), t0.Add(1500*time.Millisecond))
	clock.Set(t0.Add(1500 * time.Millisecond))
	s.sweep()
	f, m, _, tb := s.counts()
	if f != 1 || m != 1 || tb != 1 {
		t.Errorf("after a sweep: fixed, moving, token entries = %d, %d, %d; want 1 each (only \"new\")", f, m, tb)
	}
	st, err := s.PeekFixedWindow(context.Background(), limiter.Request{Key: "new", Limit: perSecond(5), Cost: 1, Now: clock.Now()})
	if err != nil || st.Remaining != 4 {
		t.Errorf("PeekFixedWindow(new) after the sweep = %+v, %v; want Remaining 4", st, err)
	}
}

func TestSweepReleasesMapsAfterBigShrink(t *testing.T) {
	s, clock := sweptByHand(t, WithShards(1))
	ctx := context.Background()
	for i := range 5000 {
		r := limiter.Request{Key: fmt.Sprint("k", i), Limit: perSecond(1), Cost: 1, Now: t0}
		if _, err := s.AcquireFixedWindow(ctx, r, false); err != nil {
			t.Fatal(err)
		}
	}
	sh := &s.shards[0]
	if sh.peak != 5000 {
		t.Fatalf("peak after 5000 keys = %d, want 5000", sh.peak)
	}
	before := sh.fixed
	clock.Set(t0.Add(time.Second))
	s.sweep()
	if sh.peak != 0 || len(sh.fixed) != 0 {
		t.Errorf("after sweeping every key: peak %d, len %d; want 0, 0", sh.peak, len(sh.fixed))
	}
	// A rebuilt map is a new map: adding to it leaves the old one alone.
	sh.fixed["probe"] = &limiter.FixedWindow{}
	if _, ok := before["probe"]; ok {
		t.Error("the fixed-window map was not rebuilt after shrinking below a quarter of its peak")
	}
}

// TestTokenBucketSlotsAreReusedAndCompacted checks the token buckets' slice:
// a deleted bucket's slot is reused before the slice grows, and compacting
// after a big shrink keeps every surviving key's own bucket.
func TestTokenBucketSlotsAreReusedAndCompacted(t *testing.T) {
	s, clock := sweptByHand(t, WithShards(1))
	ctx := context.Background()
	sh := &s.shards[0]
	// Key i takes i%5+1 of its 10 tokens, so each key's bucket is distinct
	// and a mix-up shows in Remaining.
	take := func(key string, cost int64) {
		t.Helper()
		r := limiter.Request{Key: key, Limit: perSecond(10), Cost: cost, Now: clock.Now()}
		if st, err := s.AcquireTokenBucket(ctx, r); err != nil || !st.Allowed {
			t.Fatalf("AcquireTokenBucket(%s, cost %d) = %+v, %v; want allowed", key, cost, st, err)
		}
	}
	remaining := func(key string) int64 {
		t.Helper()
		st, err := s.PeekTokenBucket(ctx, limiter.Request{Key: key, Limit: perSecond(10), Cost: 1, Now: clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return st.Remaining
	}
	for i := range 1000 {
		take(fmt.Sprint("k", i), int64(i%5+1))
	}
	for i := range 500 {
		if err := s.Clear(ctx, fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		take(fmt.Sprint("n", i), int64(i%4+7))
	}
	if len(sh.buckets) != 1000 || len(sh.free) != 300 {
		t.Errorf("after clearing 500 of 1000 buckets and adding 200: %d slots, %d free; want 1000, 300", len(sh.buckets), len(sh.free))
	}
	for i := 500; i < 1000; i++ {
		if got, want := remaining(fmt.Sprint("k", i)), int64(10-(i%5+1)); got != want {
			t.Fatalf("k%d: Remaining %d after reuse, want %d", i, got, want)
		}
	}
	// 10 tokens a second: a key that took c tokens is full again c/10 s
	// later. At t0+0.6s every k bucket is full and swept; n buckets, which
	// took 7 to 10 at t0, have 9 to 6 tokens, and the 200 of them are
	// under a quarter of the peak of 1000, so the sweep compacts.
	clock.Set(t0.Add(600 * time.Millisecond))
	s.sweep()
	if len(sh.tokens) != 200 || len(sh.buckets) != 200 || len(sh.free) != 0 {
		t.Errorf("after a sweep down to a fifth of the peak: %d keys, %d slots, %d free; want 200, 200, 0", len(sh.tokens), len(sh.buckets), len(sh.free))
	}
	for i := range 200 {
		if got, want := remaining(fmt.Sprint("n", i)), int64(9-i%4); got != want {
			t.Fatalf("n%d: Remaining %d after compaction, want %d", i, got, want)
		}
	}
	if got := remaining("k7"); got != 10 {
		t.Errorf("k7: Remaining %d after its bucket refilled and was swept, want 10", got)
	}
}

func TestSweeperRunsInTheBackground(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	s, err := New(WithClock(clock), WithSweepInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s, "k", perSecond(1), t0)
	clock.Set(t0.Add(2 * time.Second))
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d 5s after every key expired with a 1ms sweep interval, want 0", s.Len())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRejectedHitsOnMissingKeysStoreNothing(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r := limiter.Request{Key: "k", Limit: perSecond(0), Cost: 1, Now: t0}
	if _, err := s.AcquireMovingWindow(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireSlidingWindow(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireTokenBucket(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after rejected hits on a limit of 0 = %d, want 0", n)
	}
}

func TestShardsRoundUpToPowerOfTwo(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{1, 1}, {2, 2}, {3, 4}, {100, 128}, {65536, 65536}} {
		s, err := New(WithShards(tt.n), WithSweepInterval(0))
		if err != nil {
			t.Fatalf("New(WithShards(%d)): %v", tt.n, err)
		}
		if len(s.shards) != tt.want || s.mask != uint64(tt.want-1) {
			t.Errorf("New(WithShards(%d)): %d shards, mask %#x; want %d", tt.n, len(s.shards), s.mask, tt.want)
		}
		s.Close()
	}
}

func TestOpenURI(t *testing.T) {
	ctx := context.Background()
	good := []struct {
		uri    string
		shards int
	}{
		{"memory://", DefaultShards},
		{"memory:", DefaultShards},
		{"MEMORY://", DefaultShards},
		{"memory:///", DefaultShards},
		{"memory://?shards=8", 8},
		{"memory://?sweep_interval=0&shards=3", 4},
		{"memory://?sweep_interval=1m30s", DefaultShards},
	}
	for _, tt := range good {
		st, err := limiter.Open(ctx, tt.uri)
		if err != nil {
			t.Errorf("Open(%q): %v", tt.uri, err)
			continue
		}
		if s := st.(*Storage); len(s.shards) != tt.shards {
			t.Errorf("Open(%q): %d shards, want %d", tt.uri, len(s.shards), tt.shards)
		}
		st.Close()
	}
	bad := []string{
		"memory://localhost",
		"memory://user@",
		"memory://:6379",
		"memory:///db",
		"memory://#frag",
		"memory://?shards=0",
		"memory://?shards=65537",
		"memory://?shards=x",
		"memory://?shards=1&shards=2",
		"memory://?sweep_interval=-1s",
		"memory://?sweep_interval=1ns",
		"memory://?sweep_interval=10",
		"memory://?sweep=10s",
		// Queries url.URL.Query reads leniently, dropping the pair.
		"memory://?shards=4;bogus=1",
		"memory://?sweep_interval=1s;shards=4",
		"memory://?shards=%zz",
		"memory://?shards=4&b%zz=1",
	}
	for _, uri := range bad {
		st, err := limiter.Open(ctx, uri)
		if !errors.Is(err, limiter.ErrInvalidURI) {
			t.Errorf("Open(%q) error = %v, want one wrapping limiter.ErrInvalidURI", uri, err)
		}
		if st != nil {
			st.Close()
		}
	}
}

// TestOpenFuncStrictQuery calls the OpenFunc directly: limiter.Open rejects
// these queries before it, but the backend must not rely on that.
func TestOpenFuncStrictQuery(t *testing.T) {
	for _, raw := range []string{"shards=4;bogus=1", "shards=%zz"} {
		u := &url.URL{Scheme: Scheme, RawQuery: raw}
		st, err := open(context.Background(), u)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), "query") {
			t.Errorf("open(%s) = %v, want an error wrapping ErrInvalidURI about the query", u, err)
		}
		if st != nil {
			st.Close()
		}
	}
}

func TestOpenOptionsOverrideURI(t *testing.T) {
	st, err := limiter.Open(context.Background(), "memory://?shards=8", WithShards(16))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := len(st.(*Storage).shards); n != 16 {
		t.Errorf("Open(memory://?shards=8, WithShards(16)): %d shards, want 16", n)
	}
}

func TestInvalidOptions(t *testing.T) {
	foreign := func(c any) error {
		if _, ok := c.(*struct{ redis bool }); !ok {
			return fmt.Errorf("other backend: option applied to %T: %w", c, limiter.ErrInvalidOption)
		}
		return nil
	}
	tests := []struct {
		name string
		opt  limiter.StorageOption
	}{
		{"WithClock(nil)", WithClock(nil)},
		{"WithSweepInterval(-1)", WithSweepInterval(-1)},
		{"WithSweepInterval(1ns)", WithSweepInterval(time.Nanosecond)},
		{"WithSweepInterval(999µs)", WithSweepInterval(MinSweepInterval - time.Microsecond)},
		{"WithShards(0)", WithShards(0)},
		{"WithShards(65537)", WithShards(65537)},
		{"nil option", nil},
		{"another backend's option", foreign},
	}
	for _, tt := range tests {
		s, err := New(tt.opt)
		if !errors.Is(err, limiter.ErrInvalidOption) {
			t.Errorf("New(%s) error = %v, want one wrapping limiter.ErrInvalidOption", tt.name, err)
		}
		if s != nil {
			s.Close()
		}
	}
	// This package's options refuse another backend's configuration.
	for _, opt := range []limiter.StorageOption{WithClock(limiter.SystemClock), WithSweepInterval(time.Second), WithShards(2)} {
		if err := opt(&struct{ redis bool }{}); !errors.Is(err, limiter.ErrInvalidOption) {
			t.Errorf("memory option applied to another backend's config: error = %v, want one wrapping limiter.ErrInvalidOption", err)
		}
	}
}

// A hit on a key that exists already allocates nothing, for every
// algorithm, whether it is allowed or rejected.
func TestHitOnExistingKeyDoesNotAllocate(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	key := limiter.Key(perSecond(10), "api", "192.0.2.1")
	now := t0
	ops := map[string]func(limiter.Request) (limiter.State, error){
		"fixed-window":           func(r limiter.Request) (limiter.State, error) { return s.AcquireFixedWindow(ctx, r, false) },
		"elastic":                func(r limiter.Request) (limiter.State, error) { return s.AcquireFixedWindow(ctx, r, true) },
		"moving-window":          func(r limiter.Request) (limiter.State, error) { return s.AcquireMovingWindow(ctx, r) },
		"sliding-window-counter": func(r limiter.Request) (limiter.State, error) { return s.AcquireSlidingWindow(ctx, r) },
		"token-bucket":           func(r limiter.Request) (limiter.State, error) { return s.AcquireTokenBucket(ctx, r) },
		"peek fixed-window":      func(r limiter.Request) (limiter.State, error) { return s.PeekFixedWindow(ctx, r) },
		"peek moving-window":     func(r limiter.Request) (limiter.State, error) { return s.PeekMovingWindow(ctx, r) },
		"peek sliding-window":    func(r limiter.Request) (limiter.State, error) { return s.PeekSlidingWindow(ctx, r) },
		"peek token-bucket":      func(r limiter.Request) (limiter.State, error) { return s.PeekTokenBucket(ctx, r) },
	}
	for name, op := range ops {
		for _, step := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond} {
			hit := func() {
				now = now.Add(step)
				if _, err := op(limiter.Request{Key: key, Limit: perSecond(10), Cost: 1, Now: now}); err != nil {
					t.Fatal(err)
				}
			}
			for range 50 { // create the key and grow the moving-window log
				hit()
			}
			if n := testing.AllocsPerRun(200, hit); n != 0 {
				t.Errorf("%s on an existing key, time stepping %v per hit: %v allocations per hit, want 0", name, step, n)
			}
		}
	}
}

// A moving-window log never holds room for more entries than the limit's
// amount, however long the key is hit.
func TestMovingWindowLogNeverOutgrowsAmount(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, amount := range []int64{1, 3, 100, 1000} {
		key := fmt.Sprint("k", amount)
		now := t0
		for range 3000 {
			now = now.Add(time.Millisecond)
			for _, cost := range []int64{1, 2} {
				if _, err := s.AcquireMovingWindow(ctx, limiter.Request{Key: key, Limit: perSecond(amount), Cost: cost, Now: now}); err != nil {
					t.Fatal(err)
				}
			}
		}
		sh := s.shard(key)
		if c := cap(sh.moving[key].times); int64(c) > amount {
			t.Errorf("moving-window log of a limit of %d: capacity %d after 3000 hits, want at most %d", amount, c, amount)
		}
	}
}

// TestImpossibleHitRetryAfter checks, for every strategy over this storage,
// that a hit that can never be allowed (a cost above the amount, or any hit
// under a limit of 0) reports the window as its RetryAfter, on a fresh key
// and on one in use, for Hit and for Test: 0 would send clients a
// Retry-After of 0, asking them to retry at once, forever.
func TestImpossibleHitRetryAfter(t *testing.T) {
	ctx := context.Background()
	s, _ := sweptByHand(t)
	tenSeconds := limiter.Limit{Amount: 3, Multiples: 10, Unit: limiter.Second}
	zero := limiter.Limit{Amount: 0, Multiples: 1, Unit: limiter.Minute}
	for _, name := range limiter.Strategies() {
		st := limiter.MustNewStrategy(name, s)
		for _, tc := range []struct {
			what string
			used int64 // units taken before, at t0
			r    limiter.Request
		}{
			{"cost above amount, fresh key", 0, limiter.Request{Key: name + "/fresh", Limit: tenSeconds, Cost: 4, Now: t0.Add(time.Second)}},
			{"cost above amount, key in use", 2, limiter.Request{Key: name + "/used", Limit: tenSeconds, Cost: 4, Now: t0.Add(3 * time.Second)}},
			{"amount 0", 0, limiter.Request{Key: name + "/zero", Limit: zero, Cost: 1, Now: t0.Add(time.Second)}},
		} {
			if tc.used > 0 {
				first := tc.r
				first.Cost, first.Now = tc.used, t0
				if res, err := st.Hit(ctx, first); err != nil || !res.Allowed {
					t.Fatalf("%s, %s: first hit = %+v, %v", name, tc.what, res, err)
				}
			}
			for verb, call := range map[string]func(context.Context, limiter.Request) (limiter.Result, error){"Hit": st.Hit, "Test": st.Test} {
				res, err := call(ctx, tc.r)
				if err != nil || res.Allowed || res.RetryAfter != tc.r.Limit.Window() {
					t.Errorf("%s, %s: %s = %+v, %v; want rejected with RetryAfter %v (the window)",
						name, tc.what, verb, res, err, tc.r.Limit.Window())
				}
			}
		}
	}
}

// Calls in flight when Close runs add nothing after it: Close marks the
// storage closed before it empties each shard under the shard's lock, and
// a call re-checks the mark under that lock. Before, a call past its first
// check re-added its key to a closed storage, whose sweeper had stopped,
// and reported success.
func TestCloseRacingCallsKeepNothing(t *testing.T) {
	l := limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Hour}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for attempt := range 20 {
		s, err := New(WithSweepInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 4 {
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					r := limiter.Request{Key: strconv.Itoa(g) + "/" + strconv.Itoa(i), Limit: l, Cost: 1, Now: now}
					if _, err := s.AcquireFixedWindow(context.Background(), r, false); err != nil {
						if !errors.Is(err, limiter.ErrClosed) {
							t.Errorf("hit racing Close: %v, want ErrClosed", err)
						}
						return
					}
				}
			})
		}
		close(start)
		time.Sleep(time.Millisecond)
		_ = s.Close()
		wg.Wait()
		if n := s.Len(); n > 0 {
			t.Fatalf("attempt %d: %d keys held after Close and the end of every call", attempt, n)
		}
	}
}

func TestResetAllErrors(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.ResetAll(ctx)
	if want := "memory storage: reset all: context canceled"; err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
		t.Errorf("ResetAll(canceled) = %v, want %q wrapping context.Canceled", err, want)
	}
	s.Close()
	_, err = s.ResetAll(context.Background())
	if want := "memory storage: reset all: limiter: storage closed"; err == nil || err.Error() != want || !errors.Is(err, limiter.ErrClosed) {
		t.Errorf("ResetAll after Close = %v, want %q wrapping limiter.ErrClosed", err, want)
	}
}
