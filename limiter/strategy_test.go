package limiter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// base is the instant step offsets count from. It is a multiple of every
// window used in these tables since the Unix epoch, so sliding-window
// buckets start at offset 0.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	ns = time.Nanosecond
	s  = time.Second
)

// A step is one operation on the key under test and the Result it must
// give. Instants are offsets from base.
type step struct {
	op        string // "hit", "test" or "clear"
	at        time.Duration
	cost      int64
	allowed   bool
	remaining int64
	reset     time.Duration // Result.ResetAt − base
	retry     time.Duration // Result.RetryAfter
}

func hit(at time.Duration, cost int64, allowed bool, remaining int64, reset, retry time.Duration) step {
	return step{"hit", at, cost, allowed, remaining, reset, retry}
}

func test(at time.Duration, cost int64, allowed bool, remaining int64, reset, retry time.Duration) step {
	return step{"test", at, cost, allowed, remaining, reset, retry}
}

func clr(at time.Duration) step { return step{op: "clear", at: at} }

// A scenario runs steps through one strategy over a fresh refStorage.
type scenario struct {
	name     string
	strategy string
	limit    Limit
	steps    []step
}

var scenarios = []scenario{
	{
		name: "fixed window edges, cost and clear", strategy: StrategyFixedWindow, limit: lim(3, 10, Second),
		steps: []step{
			hit(0, 1, true, 2, 10*s, 0),
			test(1*s, 1, true, 2, 10*s, 0), // Test counts nothing
			hit(2*s, 2, true, 0, 10*s, 0),
			hit(3*s, 1, false, 0, 10*s, 7*s),
			test(3*s, 1, false, 0, 10*s, 7*s),
			hit(10*s-ns, 1, false, 0, 10*s, ns),
			hit(10*s, 1, true, 2, 20*s, 0),     // the instant of expiry is already a new window
			hit(10*s, 4, false, 2, 20*s, 10*s), // cost > amount: never allowed, RetryAfter is the window
			hit(11*s, 3, false, 2, 20*s, 9*s),  // a rejected hit counts nothing
			hit(11*s, 2, true, 0, 20*s, 0),
			test(25*s, 1, true, 3, 25*s, 0),     // expired: nothing counted, reset is now
			test(25*s, 4, false, 3, 25*s, 10*s), // the window, even with nothing counted
			hit(33*s, 1, true, 2, 43*s, 0),      // the window starts at the first hit, not aligned
			hit(34*s, 2, true, 0, 43*s, 0),
			clr(35 * s),
			test(35*s, 1, true, 3, 35*s, 0),
			hit(35*s, 3, true, 0, 45*s, 0),
		},
	},
	{
		name: "fixed window cost above amount on a fresh key", strategy: StrategyFixedWindow, limit: lim(3, 10, Second),
		steps: []step{
			hit(0, 4, false, 3, 10*s, 10*s), // the counter is created, so its window starts here
			hit(1*s, 1, true, 2, 10*s, 0),
		},
	},
	{
		name: "fixed window does not extend", strategy: StrategyFixedWindow, limit: lim(2, 10, Second),
		steps: []step{
			hit(0, 1, true, 1, 10*s, 0),
			hit(4*s, 1, true, 0, 10*s, 0),
			hit(8*s, 1, false, 0, 10*s, 2*s),
			hit(10*s, 1, true, 1, 20*s, 0),
		},
	},
	{
		name: "fixed window amount 0", strategy: StrategyFixedWindow, limit: lim(0, 1, Minute),
		steps: []step{
			hit(0, 1, false, 0, 60*s, 60*s),
			test(0, 1, false, 0, 60*s, 60*s),
			hit(30*s, 1, false, 0, 60*s, 60*s), // never allowed: RetryAfter is the window, not the reset
			test(60*s, 1, false, 0, 60*s, 60*s),
			hit(60*s, 1, false, 0, 120*s, 60*s),
		},
	},
	{
		name: "elastic expiry keeps a hammering client out", strategy: StrategyFixedWindowElasticExpiry, limit: lim(2, 10, Second),
		steps: []step{
			hit(0, 1, true, 1, 10*s, 0),
			hit(4*s, 1, true, 0, 14*s, 0), // allowed hits extend too
			hit(8*s, 1, false, 0, 18*s, 10*s),
			hit(12*s, 1, false, 0, 22*s, 10*s), // fixed-window would have opened a new window at 10s
			hit(21*s, 1, false, 0, 31*s, 10*s),
			test(21*s, 1, false, 0, 31*s, 10*s), // Test does not extend
			test(30*s, 1, false, 0, 31*s, 1*s),
			hit(31*s, 1, true, 1, 41*s, 0),
			hit(35*s, 3, false, 1, 45*s, 10*s),
			test(44*s, 1, true, 1, 45*s, 0),
			test(45*s, 1, true, 2, 45*s, 0),
			clr(46 * s),
			hit(46*s, 2, true, 0, 56*s, 0),
		},
	},
	{
		name: "elastic expiry amount 0", strategy: StrategyFixedWindowElasticExpiry, limit: lim(0, 1, Minute),
		steps: []step{
			hit(0, 1, false, 0, 60*s, 60*s),
			hit(30*s, 1, false, 0, 90*s, 60*s),
			test(89*s, 1, false, 0, 90*s, 60*s),
		},
	},
	{
		name: "moving window exactness and retry with cost", strategy: StrategyMovingWindow, limit: lim(3, 10, Second),
		steps: []step{
			hit(0, 1, true, 2, 10*s, 0),
			hit(2*s, 1, true, 1, 12*s, 0),
			hit(4*s, 1, true, 0, 14*s, 0),
			hit(5*s, 1, false, 0, 14*s, 5*s), // the hit at 0 leaves at 10s
			hit(5*s, 2, false, 0, 14*s, 7*s), // two must leave: the one at 2s leaves at 12s
			hit(5*s, 3, false, 0, 14*s, 9*s),
			hit(5*s, 4, false, 0, 14*s, 10*s), // cost > amount: never allowed, RetryAfter is the window
			test(5*s, 1, false, 0, 14*s, 5*s),
			hit(10*s-ns, 1, false, 0, 14*s, ns), // a hit at t counts until t+window, exclusive
			hit(10*s, 1, true, 0, 20*s, 0),
			test(12*s, 1, true, 1, 20*s, 0),
			hit(12*s, 2, false, 1, 20*s, 2*s),
			hit(14*s, 2, true, 0, 24*s, 0),
			test(20*s, 1, true, 1, 24*s, 0),
			test(20*s, 2, false, 1, 24*s, 4*s), // both units taken at 14s leave at 24s
			test(24*s, 3, true, 3, 24*s, 0),
			hit(100*s, 4, false, 3, 100*s, 10*s), // nothing counted: reset is now, but retrying now is pointless
			hit(101*s, 3, true, 0, 111*s, 0),
			clr(102 * s),
			test(102*s, 3, true, 3, 102*s, 0),
		},
	},
	{
		name: "moving window amount 0", strategy: StrategyMovingWindow, limit: lim(0, 1, Minute),
		steps: []step{
			hit(0, 1, false, 0, 0, 60*s), // an empty log resets now; RetryAfter is the window
			test(0, 1, false, 0, 0, 60*s),
			hit(30*s, 1, false, 0, 30*s, 60*s),
		},
	},
	{
		name: "sliding window weighting, reset and retry", strategy: StrategySlidingWindowCounter, limit: lim(10, 10, Second),
		steps: []step{
			hit(0, 4, true, 6, 20*s, 0), // current bucket [0,10s): reset when it has left the previous one
			hit(5*s, 6, true, 0, 20*s, 0),
			hit(5*s, 1, false, 0, 20*s, 5*s+ns),  // next window, once floor(10×(10s−e)/10s) ≤ 9
			hit(5*s, 5, false, 0, 20*s, 9*s+ns),  // next window, once the weight is ≤ 5
			hit(5*s, 11, false, 0, 20*s, 10*s),   // cost > amount: never allowed, RetryAfter is the window
			test(10*s, 1, false, 0, 20*s, ns),    // previous bucket at full weight
			test(10*s+ns, 1, true, 1, 20*s, 0),   // floor(10 × (10s−1ns)/10s) = 9
			hit(12*s, 1, true, 1, 30*s, 0),       // weight floor(10×8/10) = 8, plus 1
			hit(12*s, 5, false, 1, 30*s, 3*s+ns), // later in this window, once the weight is ≤ 4
			hit(15*s+ns, 5, true, 0, 30*s, 0),
			test(19*s, 1, true, 3, 30*s, 0), // floor(10×1/10) + 6
			test(20*s, 1, true, 4, 30*s, 0), // the 6 become the previous bucket
			hit(25*s, 4, true, 3, 40*s, 0),  // floor(6×5/10) = 3, plus 4
			test(27*s, 1, true, 5, 40*s, 0), // floor(6×3/10) = 1, plus 4
			test(45*s, 1, true, 10, 45*s, 0),
			hit(45*s, 10, true, 0, 60*s, 0),
			clr(46 * s),
			test(46*s, 10, true, 10, 46*s, 0),
		},
	},
	{
		name: "sliding window buckets are epoch aligned", strategy: StrategySlidingWindowCounter, limit: lim(2, 10, Second),
		steps: []step{
			hit(7*s, 2, true, 0, 20*s, 0),       // bucket [0,10s), not [7s,17s)
			hit(9*s, 1, false, 0, 20*s, 1*s+ns), // floor(2×(10s−e)/10s) ≤ 1 from 10s+1ns
			test(15*s, 1, true, 1, 20*s, 0),     // floor(2×5/10) = 1
			test(15*s, 2, false, 1, 20*s, ns),   // the weight drops to 0 after 15s
			test(15*s+ns, 2, true, 2, 20*s, 0),
		},
	},
	{
		name: "sliding window amount 0", strategy: StrategySlidingWindowCounter, limit: lim(0, 10, Second),
		steps: []step{
			hit(5*s, 1, false, 0, 5*s, 10*s), // nothing counted resets now; RetryAfter is the window
			test(6*s, 1, false, 0, 6*s, 10*s),
		},
	},
	{
		name: "token bucket burst and refill", strategy: StrategyTokenBucket, limit: lim(4, 8, Second),
		steps: []step{ // one token every 2s
			hit(0, 1, true, 3, 2*s, 0),
			test(0, 1, true, 3, 2*s, 0),
			hit(0, 3, true, 0, 8*s, 0), // a burst of the whole amount
			hit(0, 1, false, 0, 8*s, 2*s),
			test(1*s, 1, false, 0, 8*s, 1*s),
			hit(2*s, 1, true, 0, 10*s, 0),
			hit(3*s, 2, false, 0, 10*s, 3*s), // two tokens are there at 6s
			test(5*s, 1, true, 1, 10*s, 0),
			hit(5*s, 5, false, 1, 10*s, 8*s), // cost > amount: never allowed, RetryAfter is the window
			hit(7*s, 2, true, 0, 14*s, 0),
			test(9*s, 1, true, 1, 14*s, 0), // 1.5 tokens: whole tokens only
			test(10*s, 1, true, 2, 14*s, 0),
			test(14*s, 4, true, 4, 14*s, 0),
			hit(20*s, 4, true, 0, 28*s, 0),
			hit(20*s, 1, false, 0, 28*s, 2*s),
			clr(21 * s),
			hit(21*s, 1, true, 3, 23*s, 0),
		},
	},
	{
		name: "token bucket interval rounds down", strategy: StrategyTokenBucket, limit: lim(3, 1, Second),
		steps: []step{ // interval 333333333ns, capacity 999999999ns
			hit(0, 3, true, 0, 999999999*ns, 0),
			hit(0, 1, false, 0, 999999999*ns, 333333333*ns),
			test(333333333*ns, 1, true, 1, 999999999*ns, 0),
		},
	},
	{
		name: "token bucket burst never exceeds amount", strategy: StrategyTokenBucket, limit: lim(70000, 1, Second),
		steps: []step{ // interval 14285ns: 70001 intervals would still fit in 1s
			hit(0, 70000, true, 0, 999950000*ns, 0),
			hit(0, 1, false, 0, 999950000*ns, 14285*ns),
		},
	},
	{
		name: "token bucket amount 0", strategy: StrategyTokenBucket, limit: lim(0, 1, Minute),
		steps: []step{
			hit(5*s, 1, false, 0, 5*s, 60*s), // an empty bucket resets now; RetryAfter is the window
			test(5*s, 1, false, 0, 5*s, 60*s),
		},
	},
}

func TestStrategySteps(t *testing.T) {
	ctx := context.Background()
	for _, sc := range scenarios {
		t.Run(sc.strategy+"/"+sc.name, func(t *testing.T) {
			store := newRefStorage()
			st, err := NewStrategy(sc.strategy, store)
			if err != nil {
				t.Fatal(err)
			}
			if st.Name() != sc.strategy {
				t.Fatalf("Name() = %q, want %q", st.Name(), sc.strategy)
			}
			for i, tt := range sc.steps {
				now := base.Add(tt.at)
				if tt.op == "clear" {
					if err := st.Clear(ctx, "k"); err != nil {
						t.Fatalf("step %d: Clear: %v", i, err)
					}
					continue
				}
				r := Request{Key: "k", Limit: sc.limit, Cost: tt.cost, Now: now}
				calls := store.callCount()
				var res Result
				if tt.op == "hit" {
					res, err = st.Hit(ctx, r)
				} else {
					res, err = st.Test(ctx, r)
				}
				if err != nil {
					t.Fatalf("step %d: %s(at %v, cost %d): %v", i, tt.op, tt.at, tt.cost, err)
				}
				if n := store.callCount() - calls; n != 1 {
					t.Errorf("step %d: %s made %d storage calls, want 1", i, tt.op, n)
				}
				want := Result{Allowed: tt.allowed, Limit: sc.limit, Remaining: tt.remaining,
					ResetAt: base.Add(tt.reset), RetryAfter: tt.retry}
				if res != want {
					t.Errorf("step %d: %s(at %v, cost %d) = {Allowed:%v Remaining:%d Reset:+%v RetryAfter:%v}, want {Allowed:%v Remaining:%d Reset:+%v RetryAfter:%v}",
						i, tt.op, tt.at, tt.cost, res.Allowed, res.Remaining, res.ResetAt.Sub(base), res.RetryAfter,
						tt.allowed, tt.remaining, tt.reset, tt.retry)
				}
			}
		})
	}
}

// TestStrategyTestMatchesHit drives every strategy with a random but seeded
// sequence of hits, checking each with checkHit.
func TestStrategyTestMatchesHit(t *testing.T) {
	for _, name := range Strategies() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			st := MustNewStrategy(name, newRefStorage())
			l := lim(5, 10, Second)
			now := base
			allowed := 0
			for i := range 2000 {
				now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
				r := Request{Key: "k", Limit: l, Cost: 1 + rng.Int64N(6), Now: now}
				res, problem := checkHit(st, r)
				if problem != "" {
					t.Fatalf("hit %d at +%v cost %d: %s", i, now.Sub(base), r.Cost, problem)
				}
				if res.Allowed {
					allowed++
				}
			}
			if allowed == 0 || allowed == 2000 {
				t.Fatalf("%d of 2000 hits allowed; the sequence does not exercise both outcomes", allowed)
			}
		})
	}
}

// FuzzStrategies runs checkHit over fuzzed limits and sequences of
// (time step, cost) pairs, for every strategy.
func FuzzStrategies(f *testing.F) {
	f.Add(int64(5), int64(10), uint8(Second), []byte{0, 1, 0, 2, 9, 1, 200, 3, 0, 6, 255, 1})
	f.Add(int64(3), int64(1), uint8(Second), []byte{0, 3, 1, 1, 100, 1, 50, 2})
	f.Add(int64(70000), int64(1), uint8(Second), []byte{0, 255, 0, 1, 1, 1})
	f.Add(int64(0), int64(1), uint8(Minute), []byte{0, 1, 30, 1})
	f.Add(int64(1), int64(7), uint8(Day), []byte{0, 1, 255, 1, 255, 1})
	// 31-year windows: a rejection's RetryAfter reaches past the last
	// Request.Now allowed.
	f.Add(int64(15), int64(30), uint8(Year), []byte("\xe20\xf6000"))
	f.Fuzz(func(t *testing.T, amount, multiples int64, unit uint8, seq []byte) {
		l := Limit{Amount: amount % 100_000, Multiples: 1 + multiples%1000, Unit: Unit(unit)}
		if l.Amount < 0 || l.Multiples < 1 || l.Validate() != nil || len(seq) > 400 {
			return
		}
		w := l.Window()
		// Request.Now ends before 2150 (which keeps every instant a check
		// can reach, now + 2 windows, inside Unix nanoseconds).
		horizon := time.Unix(maxNowUnix, 0).Add(-1)
		for _, name := range Strategies() {
			if name == StrategyMovingWindow && l.Amount > 1000 {
				continue // the log holds Amount entries; keep runs fast
			}
			st := MustNewStrategy(name, newRefStorage())
			now := base
			for i := 0; i+1 < len(seq); i += 2 {
				// A step of 0 to about 1.3 windows, in 1/200ths.
				now = now.Add(w / 200 * time.Duration(seq[i]))
				if now.After(horizon) {
					break
				}
				cost := 1 + int64(seq[i+1])%(l.Amount+2)
				if seq[i+1] == 255 {
					cost = l.Amount // a whole burst
				}
				if _, problem := checkHit(st, Request{Key: "k", Limit: l, Cost: max(cost, 1), Now: now}); problem != "" {
					t.Fatalf("%s, limit %v, step %d at +%v cost %d: %s", name, l, i/2, now.Sub(base), cost, problem)
				}
			}
		}
	})
}

// checkHit tests r, hits r, and checks what every strategy promises: Test
// predicts the Hit (the same decision; a Remaining exactly Cost higher when
// allowed; the same Result when rejected, but for the elastic window's
// extension), Remaining stays within [0, Amount], ResetAt is not in the
// past, a cost above the amount (never allowed) has the window as its
// RetryAfter, and any other rejected hit's RetryAfter is exactly the first
// instant a Test of the same cost is allowed. It returns the hit's Result
// and a description of the first problem, or "".
func checkHit(st Strategy, r Request) (Result, string) {
	ctx := context.Background()
	l, now, name := r.Limit, r.Now, st.Name()
	pred, err := st.Test(ctx, r)
	if err != nil {
		return Result{}, err.Error()
	}
	got, err := st.Hit(ctx, r)
	if err != nil {
		return Result{}, err.Error()
	}
	switch {
	case got.Allowed != pred.Allowed:
		return got, fmt.Sprintf("Test said allowed=%v, Hit said %v", pred.Allowed, got.Allowed)
	case got.Remaining < 0 || got.Remaining > l.Amount || pred.Remaining < 0 || pred.Remaining > l.Amount:
		return got, fmt.Sprintf("Remaining outside [0, %d]: Test %d, Hit %d", l.Amount, pred.Remaining, got.Remaining)
	case got.ResetAt.Before(now) || pred.ResetAt.Before(now):
		return got, fmt.Sprintf("ResetAt before now: Test +%v, Hit +%v", pred.ResetAt.Sub(now), got.ResetAt.Sub(now))
	case got.Allowed && (got.Remaining != pred.Remaining-r.Cost || got.RetryAfter != 0 || pred.RetryAfter != 0):
		return got, fmt.Sprintf("Test = %+v, allowed Hit = %+v", pred, got)
	case got.Allowed:
		return got, ""
	case r.Cost > l.Amount && got.RetryAfter != l.Window():
		return got, fmt.Sprintf("cost above amount: RetryAfter %v, want the window %v", got.RetryAfter, l.Window())
	}
	fixed := name == StrategyFixedWindow || name == StrategyFixedWindowElasticExpiry
	if name == StrategyFixedWindowElasticExpiry || fixed && pred.ResetAt.Equal(now) {
		// Elastic expiry moves the window on every hit, and a rejected hit
		// on a dead counter creates it (Storage.AcquireFixedWindow) where
		// Test does not.
		pred.ResetAt, pred.RetryAfter = got.ResetAt, got.RetryAfter
	}
	if got != pred {
		return got, fmt.Sprintf("Test = %+v, rejected Hit = %+v", pred, got)
	}
	if r.Cost > l.Amount {
		return got, ""
	}
	// Nothing else arrives: at RetryAfter a hit of the same cost fits, and
	// not a nanosecond earlier; unless that instant is past the last one
	// Request.Now allows, where no Test can look.
	later := r
	later.Now = now.Add(got.RetryAfter)
	if !nowInRange(later.Now) {
		return got, ""
	}
	res, err := st.Test(ctx, later)
	if err != nil || !res.Allowed {
		return got, fmt.Sprintf("rejected with RetryAfter %v, but Test at that instant = %+v, %v", got.RetryAfter, res, err)
	}
	if got.RetryAfter > 0 {
		later.Now = later.Now.Add(-time.Nanosecond)
		if res, err = st.Test(ctx, later); err != nil || res.Allowed {
			return got, fmt.Sprintf("RetryAfter %v is not the earliest instant: Test 1ns earlier = %+v, %v", got.RetryAfter, res, err)
		}
	}
	return got, ""
}

// TestMovingWindowNeverExceeds checks the moving window's defining property
// over a seeded random sequence: in every interval of one window the
// allowed units never exceed Amount.
func TestMovingWindowNeverExceeds(t *testing.T) {
	ctx := context.Background()
	st := MustNewStrategy(StrategyMovingWindow, newRefStorage())
	l := lim(7, 1, Second)
	rng := rand.New(rand.NewPCG(3, 4))
	var taken []time.Time // one entry per allowed unit
	now := base
	for range 3000 {
		now = now.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
		cost := 1 + rng.Int64N(3)
		res, err := st.Hit(ctx, Request{Key: "k", Limit: l, Cost: cost, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			for range cost {
				taken = append(taken, now)
			}
		}
	}
	for i, t0 := range taken {
		j, _ := slices.BinarySearchFunc(taken, t0.Add(time.Second), func(a, b time.Time) int { return a.Compare(b) })
		if n := j - i; n > int(l.Amount) {
			t.Fatalf("%d units taken in [%v, %v+1s), want at most %d", n, t0.Sub(base), t0.Sub(base), l.Amount)
		}
	}
	if len(taken) < 100 {
		t.Fatalf("only %d units taken; the sequence does not exercise the limit", len(taken))
	}
}

// TestTokenBucketRefill checks the refill rate over a long run: hitting as
// fast as allowed, a bucket of 10 per minute admits 10 at once and then one
// every 6 seconds.
func TestTokenBucketRefill(t *testing.T) {
	ctx := context.Background()
	st := MustNewStrategy(StrategyTokenBucket, newRefStorage())
	l := lim(10, 1, Minute)
	var allowedAt []time.Duration
	for at := time.Duration(0); at <= 10*time.Minute; at += 500 * time.Millisecond {
		res, err := st.Hit(ctx, Request{Key: "k", Limit: l, Cost: 1, Now: base.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			allowedAt = append(allowedAt, at)
		}
	}
	// 10 at 0, then one every 6s up to 10 minutes: 10 + 100.
	if len(allowedAt) != 110 {
		t.Fatalf("%d hits allowed in 10 minutes, want 110", len(allowedAt))
	}
	for i, at := range allowedAt[10:] {
		if want := time.Duration(i+1) * 6 * time.Second; at != want {
			t.Fatalf("hit %d allowed at %v, want %v", i+10, at, want)
		}
	}
}

func TestStrategyKeysAreIndependent(t *testing.T) {
	ctx := context.Background()
	for _, name := range Strategies() {
		st := MustNewStrategy(name, newRefStorage())
		l := lim(1, 1, Hour)
		for _, key := range []string{"a", "b"} {
			res, err := st.Hit(ctx, Request{Key: key, Limit: l, Cost: 1, Now: base})
			if err != nil || !res.Allowed {
				t.Errorf("%s: first hit on %q = %+v, %v, want allowed", name, key, res, err)
			}
		}
		if err := st.Clear(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if res, _ := st.Test(ctx, Request{Key: "b", Limit: l, Cost: 1, Now: base}); res.Allowed {
			t.Errorf("%s: clearing %q also cleared %q", name, "a", "b")
		}
	}
}

// A Result's ResetAt is in the location of the request's Now, for Hit and
// Test, whatever the storage reports in Unix nanoseconds.
func TestResultTimesInRequestLocation(t *testing.T) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	now := base.In(zone).Add(1500 * time.Millisecond)
	for _, name := range Strategies() {
		st := MustNewStrategy(name, newRefStorage())
		l := lim(1, 10, Second)
		for _, op := range []string{"hit", "test", "rejected hit"} {
			var res Result
			var err error
			switch op {
			case "hit", "rejected hit":
				res, err = st.Hit(ctx, Request{Key: "k", Limit: l, Cost: 1, Now: now})
			default:
				res, err = st.Test(ctx, Request{Key: "k", Limit: l, Cost: 1, Now: now})
			}
			if err != nil {
				t.Fatalf("%s %s: %v", name, op, err)
			}
			if res.ResetAt.Location() != zone || !res.ResetAt.After(now) {
				t.Errorf("%s %s: ResetAt = %v, want after %v in %v", name, op, res.ResetAt, now, zone)
			}
			if op == "rejected hit" && (res.Allowed || res.RetryAfter <= 0) {
				t.Errorf("%s %s: %+v, want rejected with a positive RetryAfter", name, op, res)
			}
		}
	}
}

// State crosses the Storage interface on every hit. Go keeps a struct in
// registers, rather than copying it through memory, only while it has at
// most four fields and 32 bytes; a field added to State would cost every
// in-memory decision about a third (see the State doc).
func TestStateStaysRegisterSized(t *testing.T) {
	typ := reflect.TypeFor[State]()
	if typ.NumField() > 4 || typ.Size() > 32 {
		t.Errorf("State has %d fields and %d bytes; keep it to 4 fields and 32 bytes", typ.NumField(), typ.Size())
	}
}

func TestNewStrategy(t *testing.T) {
	if got, want := Strategies(), []string{"fixed-window", "fixed-window-elastic-expiry", "moving-window",
		"sliding-window-counter", "token-bucket"}; !slices.Equal(got, want) {
		t.Errorf("Strategies() = %q, want %q", got, want)
	}
	for _, name := range Strategies() {
		st, err := NewStrategy(name, newRefStorage())
		if err != nil || st.Name() != name {
			t.Errorf("NewStrategy(%q, full storage) = %v, %v", name, st, err)
		}
	}
	// The fixed-window strategies need nothing beyond Storage.
	for _, name := range []string{StrategyFixedWindow, StrategyFixedWindowElasticExpiry} {
		if _, err := NewStrategy(name, newFixedOnly()); err != nil {
			t.Errorf("NewStrategy(%q, fixed-only storage) = %v", name, err)
		}
	}
}

func TestNewStrategyUnknownName(t *testing.T) {
	for _, name := range []string{"leaky-bucket", "", "Fixed-Window", "fixed_window", "sliding-window"} {
		_, err := NewStrategy(name, newRefStorage())
		want := fmt.Sprintf("limiter: unknown strategy %q (want fixed-window, fixed-window-elastic-expiry, moving-window, sliding-window-counter, token-bucket)", name)
		if err == nil || err.Error() != want {
			t.Errorf("NewStrategy(%q) error = %v, want %q", name, err, want)
		}
		if !errors.Is(err, ErrUnknownStrategy) {
			t.Errorf("NewStrategy(%q) error %v does not wrap ErrUnknownStrategy", name, err)
		}
	}
}

func TestNewStrategyMissingCapability(t *testing.T) {
	for _, tt := range []struct{ name, iface string }{
		{StrategyMovingWindow, "MovingWindowStorage"},
		{StrategySlidingWindowCounter, "SlidingWindowStorage"},
		{StrategyTokenBucket, "TokenBucketStorage"},
	} {
		st, err := NewStrategy(tt.name, newFixedOnly())
		want := fmt.Sprintf("limiter: strategy %q needs a storage implementing limiter.%s; limiter.fixedOnly does not: limiter: unsupported by storage",
			tt.name, tt.iface)
		if err == nil || err.Error() != want {
			t.Errorf("NewStrategy(%q, fixed-only) = %v, %v, want error %q", tt.name, st, err, want)
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewStrategy(%q, fixed-only) error %v does not wrap ErrUnsupported", tt.name, err)
		}
	}
}

func TestNewStrategyNilStorage(t *testing.T) {
	_, err := NewStrategy(StrategyFixedWindow, nil)
	if want := `limiter: strategy "fixed-window": nil storage`; err == nil || err.Error() != want {
		t.Errorf("NewStrategy with nil storage: error %v, want %q", err, want)
	}
}

func TestMustNewStrategy(t *testing.T) {
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, ErrUnknownStrategy) {
			t.Errorf("MustNewStrategy(%q) panicked with %v, want an error wrapping ErrUnknownStrategy", "nope", err)
		}
	}()
	MustNewStrategy("nope", newRefStorage())
	t.Errorf("MustNewStrategy(%q) did not panic", "nope")
}

// TestStrategyInvalidRequest checks that a bad cost or limit fails at call
// time, before the storage is asked anything.
func TestStrategyInvalidRequest(t *testing.T) {
	ctx := context.Background()
	for _, name := range Strategies() {
		store := newRefStorage()
		st := MustNewStrategy(name, store)
		for _, tt := range []struct {
			op   string
			r    Request
			is   error
			want string
		}{
			{"hit", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 0, Now: base}, ErrInvalidCost,
				`limiter: cost must be at least 1: hit "k" with cost 0`},
			{"test", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: -3, Now: base}, ErrInvalidCost,
				`limiter: cost must be at least 1: test "k" with cost -3`},
			{"hit", Request{Key: "k", Limit: lim(1, 0, Hour), Cost: 1, Now: base}, ErrInvalidLimit,
				`limiter: invalid limit {Amount:1 Multiples:0 Unit:hour}: multiples must be at least 1`},
			{"test", Request{Key: "k", Limit: lim(-1, 1, Hour), Cost: 1, Now: base}, ErrInvalidLimit,
				`limiter: invalid limit {Amount:-1 Multiples:1 Unit:hour}: negative amount`},
			{"hit", Request{Key: "k", Cost: 1, Now: base}, ErrInvalidLimit,
				`limiter: invalid limit {Amount:0 Multiples:0 Unit:unit(0)}: multiples must be at least 1`},
			// A Now left unset, or outside 1970 to 2149.
			{"hit", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1}, ErrInvalidTime,
				`limiter: request time out of range: hit "k" at 0001-01-01T00:00:00Z (Request.Now must lie from 1970 to 2149; is it set?)`},
			{"test", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: new(ManualClock).Now()}, ErrInvalidTime,
				`limiter: request time out of range: test "k" at 0001-01-01T00:00:00Z (Request.Now must lie from 1970 to 2149; is it set?)`},
			{"hit", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: time.Unix(0, -1).UTC()}, ErrInvalidTime,
				`limiter: request time out of range: hit "k" at 1969-12-31T23:59:59.999999999Z (Request.Now must lie from 1970 to 2149; is it set?)`},
			{"test", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalidTime,
				`limiter: request time out of range: test "k" at 2150-01-01T00:00:00Z (Request.Now must lie from 1970 to 2149; is it set?)`},
			{"hit", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: time.Date(2262, 6, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalidTime,
				`limiter: request time out of range: hit "k" at 2262-06-01T00:00:00Z (Request.Now must lie from 1970 to 2149; is it set?)`},
			{"hit", Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalidTime,
				`limiter: request time out of range: hit "k" at 1600-01-01T00:00:00Z (Request.Now must lie from 1970 to 2149; is it set?)`},
		} {
			var err error
			if tt.op == "hit" {
				_, err = st.Hit(ctx, tt.r)
			} else {
				_, err = st.Test(ctx, tt.r)
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, tt.is) {
				t.Errorf("%s: %s(%+v) error = %v, want %q wrapping %v", name, tt.op, tt.r, err, tt.want, tt.is)
			}
		}
		if n := store.callCount(); n != 0 {
			t.Errorf("%s: invalid requests reached the storage %d times", name, n)
		}
	}
}

func TestStrategyStorageErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	ops := map[string]string{
		StrategyFixedWindow:              "acquire fixed window",
		StrategyFixedWindowElasticExpiry: "acquire fixed window",
		StrategyMovingWindow:             "acquire moving window",
		StrategySlidingWindowCounter:     "acquire sliding window",
		StrategyTokenBucket:              "acquire token bucket",
	}
	peeks := map[string]string{
		StrategyFixedWindow:              "peek fixed window",
		StrategyFixedWindowElasticExpiry: "peek fixed window",
		StrategyMovingWindow:             "peek moving window",
		StrategySlidingWindowCounter:     "peek sliding window",
		StrategyTokenBucket:              "peek token bucket",
	}
	for _, name := range Strategies() {
		store := newRefStorage()
		store.fail = boom
		st := MustNewStrategy(name, store)
		r := Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: base}
		res, err := st.Hit(ctx, r)
		want := fmt.Sprintf(`limiter: %s: hit "k": ref storage: %s "k": boom`, name, ops[name])
		if err == nil || err.Error() != want || !errors.Is(err, boom) || res != (Result{}) {
			t.Errorf("%s: Hit over a failing storage = %+v, %v, want error %q", name, res, err, want)
		}
		_, err = st.Test(ctx, r)
		want = fmt.Sprintf(`limiter: %s: test "k": ref storage: %s "k": boom`, name, peeks[name])
		if err == nil || err.Error() != want || !errors.Is(err, boom) {
			t.Errorf("%s: Test over a failing storage: %v, want %q", name, err, want)
		}
		err = st.Clear(ctx, "k")
		want = fmt.Sprintf(`limiter: %s: clear "k": ref storage: clear "k": boom`, name)
		if err == nil || err.Error() != want || !errors.Is(err, boom) {
			t.Errorf("%s: Clear over a failing storage: %v, want %q", name, err, want)
		}

		store.fail = nil
		store.Close()
		if _, err := st.Hit(ctx, r); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: Hit after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestRefStorageResetAll(t *testing.T) {
	ctx := context.Background()
	store := newRefStorage()
	for _, name := range Strategies() {
		st := MustNewStrategy(name, store)
		if _, err := st.Hit(ctx, Request{Key: name, Limit: lim(1, 1, Hour), Cost: 1, Now: base}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := store.ResetAll(ctx)
	if err != nil || n != 5 {
		t.Fatalf("ResetAll = %d, %v, want 5", n, err)
	}
	if err := store.Check(ctx); err != nil {
		t.Fatalf("Check = %v", err)
	}
}

func BenchmarkStrategyHit(b *testing.B) {
	ctx := context.Background()
	for _, name := range Strategies() {
		b.Run(name, func(b *testing.B) {
			st := MustNewStrategy(name, newRefStorage())
			r := Request{Key: "LIMITER/100/1/second/9:127.0.0.1", Limit: lim(100, 1, Second), Cost: 1, Now: base}
			b.ReportAllocs()
			for b.Loop() {
				// 1000 hits a second against 100 a second: a steady mix of
				// allowed and rejected hits, and a bounded moving-window log.
				r.Now = r.Now.Add(time.Millisecond)
				if _, err := st.Hit(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWindowLongerThanMaxWindow checks that a limit whose window is longer
// than MaxWindow is refused on every hit rather than decided: the
// algorithms' sums of Unix nanoseconds (now plus two windows) would wrap,
// and "1 per 250 years" allowed every hit with a reset in 1687.
func TestWindowLongerThanMaxWindow(t *testing.T) {
	ctx := context.Background()
	for _, name := range Strategies() {
		st := MustNewStrategy(name, newRefStorage())
		for _, l := range []Limit{lim(1, 250, Year), lim(1, 51, Year), lim(1, 18001, Day)} {
			r := Request{Key: "long", Limit: l, Cost: 1, Now: base}
			for range 2 {
				if res, err := st.Hit(ctx, r); !errors.Is(err, ErrInvalidLimit) {
					t.Errorf("%s: Hit(%v) = %+v, %v; want an error wrapping ErrInvalidLimit", name, l, res, err)
				}
			}
			if res, err := st.Test(ctx, r); !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("%s: Test(%v) = %+v, %v; want an error wrapping ErrInvalidLimit", name, l, res, err)
			}
		}
	}
}

// TestRequestNowUnset checks that a Request whose Now was never set is an
// error, not a hit in year 1 (1754 as Unix nanoseconds) that finds every
// limit fresh.
func TestRequestNowUnset(t *testing.T) {
	ctx := context.Background()
	for _, name := range Strategies() {
		st := MustNewStrategy(name, newRefStorage())
		r := Request{Key: "k", Limit: lim(1, 1, Hour), Cost: 1, Now: base}
		if res, err := st.Hit(ctx, r); err != nil || !res.Allowed {
			t.Fatalf("%s: first hit = %+v, %v", name, res, err)
		}
		r.Now = time.Time{}
		if res, err := st.Hit(ctx, r); !errors.Is(err, ErrInvalidTime) {
			t.Errorf("%s: hit with a zero Now after the limit was used up = %+v, %v; want an error wrapping ErrInvalidTime", name, res, err)
		}
	}
}

// TestRequestNowBounds checks the first and last instants Request.Now
// allows with the longest window: every strategy decides soundly (a reset
// after now, within two windows; a second hit rejected until then) because
// now plus two windows stays inside Unix nanoseconds.
func TestRequestNowBounds(t *testing.T) {
	ctx := context.Background()
	longest := lim(1, 50, Year)
	for _, now := range []time.Time{time.Unix(minNowUnix, 0), time.Unix(maxNowUnix, 0).Add(-time.Nanosecond)} {
		for _, name := range Strategies() {
			st := MustNewStrategy(name, newRefStorage())
			r := Request{Key: "k", Limit: longest, Cost: 1, Now: now}
			var res [3]Result
			var err error
			for i, do := range []func(context.Context, Request) (Result, error){st.Hit, st.Hit, st.Test} {
				if res[i], err = do(ctx, r); err != nil {
					t.Fatalf("%s at %v: call %d: %v", name, now, i, err)
				}
			}
			if !res[0].Allowed || res[1].Allowed || res[2].Allowed || res[1].Remaining != 0 {
				t.Errorf("%s at %v: hit, hit, test = %+v, want allowed, rejected, rejected", name, now, res)
			}
			for _, got := range res {
				if !got.ResetAt.After(now) || got.ResetAt.Sub(now) > 2*MaxWindow {
					t.Errorf("%s at %v: ResetAt %v, want within two windows after now", name, now, got.ResetAt)
				}
			}
			if ra := res[1].RetryAfter; ra <= 0 || ra > 2*MaxWindow {
				t.Errorf("%s at %v: rejected hit's RetryAfter = %v, want within two windows", name, now, ra)
			}
		}
	}
}
