package limiter

import (
	"slices"
	"testing"
	"time"
)

// Tests of the algorithm state types on their own, for what the strategy
// tables cannot reach: out-of-order instants, instants before 1970, and the
// arithmetic helpers at their limits.

func TestFixedWindowZeroValueIsDead(t *testing.T) {
	var w FixedWindow
	if w.Live(base.UnixNano()) {
		t.Errorf("zero FixedWindow is live at %v", base)
	}
	w = FixedWindow{Count: 3, ExpiresAt: base.UnixNano()}
	if w.Live(base.UnixNano()) || !w.Live(base.UnixNano()-1) {
		t.Errorf("FixedWindow expiring at t: live at t = %v, at t-1ns = %v; want false, true",
			w.Live(base.UnixNano()), w.Live(base.UnixNano()-1))
	}
}

func TestMovingWindowOutOfOrderInstants(t *testing.T) {
	l := lim(10, 10, Second)
	at := func(d time.Duration) int64 { return base.Add(d).UnixNano() }
	var w MovingWindow
	for _, h := range []struct {
		at   time.Duration
		cost int64
	}{{5 * s, 1}, {3 * s, 1}, {4 * s, 2}, {9 * s, 1}, {1 * s, 1}} {
		if st := w.Acquire(Request{Limit: l, Cost: h.cost, Now: base.Add(h.at)}); !st.Allowed {
			t.Fatalf("Acquire at %v rejected: %+v", h.at, st)
		}
	}
	want := []int64{at(1 * s), at(3 * s), at(4 * s), at(4 * s), at(5 * s), at(9 * s)}
	if !slices.Equal(w.Times, want) {
		t.Errorf("Times = %v, want %v (ascending)", w.Times, want)
	}
	// A hit that arrives late still reports the newest unit's reset.
	st := w.Acquire(Request{Limit: l, Cost: 1, Now: base.Add(2 * s)})
	if !st.Allowed || st.Remaining != 3 || st.ResetAt != at(19*s) {
		t.Errorf("late Acquire = %+v, want allowed, remaining 3, reset +19s", st)
	}
	// Acquire drops what has left the window: at 13s the units at 1s, 2s
	// and 3s have.
	w.Acquire(Request{Limit: l, Cost: 1, Now: base.Add(13 * s)})
	want = []int64{at(4 * s), at(4 * s), at(5 * s), at(9 * s), at(13 * s)}
	if !slices.Equal(w.Times, want) {
		t.Errorf("Times after expiry = %v, want %v", w.Times, want)
	}
}

func TestSlidingWindowWeighted(t *testing.T) {
	const w10 = 10 * time.Second
	start := base.UnixNano()
	for _, tt := range []struct {
		w    SlidingWindow
		at   time.Duration
		want int64
	}{
		{SlidingWindow{}, 0, 0},
		{SlidingWindow{Start: start, Current: 4}, 3 * s, 4},
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 0, 14},
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 2500 * time.Millisecond, 11}, // floor(7.5) + 4
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 10*s - ns, 4},
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 10 * s, 4}, // the current becomes the previous
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 15 * s, 2}, // floor(4 × 5/10)
		{SlidingWindow{Start: start, Current: 4, Previous: 10}, 20 * s, 0}, // both gone
		{SlidingWindow{Start: start, Current: 1 << 62, Previous: 1 << 62}, 5 * s, 3 << 61},
	} {
		if got := tt.w.Weighted(base.Add(tt.at).UnixNano(), w10); got != tt.want {
			t.Errorf("%+v.Weighted(+%v, 10s) = %d, want %d", tt.w, tt.at, got, tt.want)
		}
	}
}

// TestSlidingWindowBeforeEpoch checks window alignment for instants before
// 1970, where the remainder of a negative number must be taken upwards.
func TestSlidingWindowBeforeEpoch(t *testing.T) {
	l := lim(10, 10, Second)
	now := time.Unix(-15, 0) // in the window [-20s, -10s)
	var w SlidingWindow
	st := w.Acquire(Request{Limit: l, Cost: 4, Now: now})
	if !st.Allowed || w.Start != time.Unix(-20, 0).UnixNano() || w.Current != 4 {
		t.Fatalf("Acquire at -15s = %+v leaving %+v, want allowed, Start at -20s, Current 4", st, w)
	}
	if st.ResetAt != 0 {
		t.Errorf("ResetAt = %d, want the Unix epoch, 0 (the end of the next window)", st.ResetAt)
	}
	if got := w.Weighted(time.Unix(-5, 0).UnixNano(), 10*time.Second); got != 2 {
		t.Errorf("Weighted at -5s = %d, want floor(4 × 5/10) = 2", got)
	}
}

func TestMulDiv(t *testing.T) {
	const maxInt = 1<<63 - 1
	for _, tt := range []struct{ a, b, c, floor, ceil int64 }{
		{0, 5, 3, 0, 0},
		{7, 3, 2, 10, 11},
		{10, 10, 10, 10, 10},
		{maxInt, maxInt, maxInt, maxInt, maxInt},
		{maxInt, 2, 4, maxInt / 2, maxInt/2 + 1},
		{1 << 62, 1 << 40, 1 << 41, 1 << 61, 1 << 61},
	} {
		if got := mulDiv(tt.a, tt.b, tt.c); got != tt.floor {
			t.Errorf("mulDiv(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, got, tt.floor)
		}
		if got := mulDivCeil(tt.a, tt.b, tt.c); got != tt.ceil {
			t.Errorf("mulDivCeil(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, got, tt.ceil)
		}
	}
	// A quotient beyond int64 saturates.
	if got := mulDivCeil(maxInt, maxInt, 1); got != maxInt {
		t.Errorf("mulDivCeil(max, max, 1) = %d, want %d", got, int64(maxInt))
	}
}

func TestMaxWeightSpan(t *testing.T) {
	const w = int64(10 * time.Second)
	for _, tt := range []struct{ count, room, want int64 }{
		{0, 0, w},                     // nothing to weigh: the whole window
		{10, 9, w - 1},                // floor(10k/w) ≤ 9 for k < w
		{10, 10, w},                   // never more than the window
		{10, 4, w/2 - 1},              // floor(10k/w) ≤ 4 for k < w/2
		{3, 0, w / 3},                 // ceil(w/3) − 1, w not a multiple of 3
		{1 << 62, 0, 0},               // a huge count leaves no span
		{2, 1<<63 - 2, w},             // a huge room leaves all of it
		{1<<63 - 1, 1<<63 - 2, w - 1}, // floor((2⁶³−1)k/w) ≤ 2⁶³−2 for k < w
	} {
		if got := maxWeightSpan(tt.count, tt.room, w); got != tt.want {
			t.Errorf("maxWeightSpan(%d, %d, 10s) = %d, want %d", tt.count, tt.room, got, tt.want)
		}
	}
}

// TestTokenBucketClockBehind checks a request whose Now is behind the clock
// that set the bucket's TAT (another server's clock, a step backwards):
// Remaining stays at 0 and RetryAt is still when the tokens are there.
func TestTokenBucketClockBehind(t *testing.T) {
	l := lim(4, 8, Second) // a token every 2s, 8s of capacity
	b := TokenBucket{TAT: base.Add(20 * s).UnixNano()}
	r := Request{Limit: l, Cost: 1, Now: base}
	for name, st := range map[string]State{"Peek": b.Peek(r), "Acquire": b.Acquire(r)} {
		if st.Allowed || st.Remaining != 0 || st.ResetAt != base.Add(20*s).UnixNano() || st.RetryAt != base.Add(14*s).UnixNano() {
			t.Errorf("%s with TAT 20s ahead = %+v, want rejected, remaining 0, reset +20s, retry +14s", name, st)
		}
	}
}

// TestSlidingWindowLateHit checks that a hit stamped before the stored window
// (an application server whose clock lags another's) counts in the stored
// window instead of wiping the newer counts.
func TestSlidingWindowLateHit(t *testing.T) {
	l := lim(5, 10, Second)
	base := time.Unix(1_000_000_000, 0) // a window start
	var w SlidingWindow
	for i := range 4 {
		if st := w.Acquire(Request{Limit: l, Cost: 1, Now: base.Add(time.Duration(i) * time.Second)}); !st.Allowed {
			t.Fatalf("hit %d rejected: %+v", i, st)
		}
	}
	late := base.Add(-2 * time.Second) // in the window before
	st := w.Acquire(Request{Limit: l, Cost: 1, Now: late})
	if !st.Allowed || w.Current != 5 || w.Start != base.UnixNano() {
		t.Fatalf("late hit = %+v leaving %+v, want allowed and counted in the stored window (Current 5)", st, w)
	}
	if st := w.Acquire(Request{Limit: l, Cost: 1, Now: late}); st.Allowed {
		t.Fatalf("sixth hit (late) allowed: %+v, state %+v", st, w)
	}
}

// A rejected hit counts nothing, so it must leave the state as it was: a
// hit that follows from a clock behind the rejected one's decides on what
// the allowed hits left. (Found by reliability's TestStorageDifferential:
// the Redis and memcached storages write nothing for a rejected hit.)
func TestRejectedAcquireLeavesStateAlone(t *testing.T) {
	at := func(d time.Duration) time.Time { return base.Truncate(10 * time.Second).Add(d) }
	l := Limit{Amount: 3, Multiples: 10, Unit: Second}

	t.Run("sliding window", func(t *testing.T) {
		var w SlidingWindow
		w.Acquire(Request{Limit: l, Cost: 2, Now: at(12 * time.Second)})
		before := w
		// In the next window the previous 2 weigh 1 for 9s more: a cost
		// of 3 does not fit.
		if st := w.Acquire(Request{Limit: l, Cost: 3, Now: at(21 * time.Second)}); st.Allowed {
			t.Fatalf("cost 3 at +21s allowed: %+v", st)
		}
		if w != before {
			t.Fatalf("rejected hit changed the state from %+v to %+v", before, w)
		}
		// A hit from a clock at +15s counts in the window of +12s, which
		// it then keeps busy until +30s.
		st := w.Acquire(Request{Limit: l, Cost: 1, Now: at(15 * time.Second)})
		if want := at(30 * time.Second).UnixNano(); !st.Allowed || st.ResetAt != want {
			t.Errorf("cost 1 at +15s: %+v, want allowed with ResetAt %d", st, want)
		}
	})

	t.Run("moving window", func(t *testing.T) {
		l := Limit{Amount: 2, Multiples: 10, Unit: Second}
		var w MovingWindow
		w.Acquire(Request{Limit: l, Cost: 1, Now: at(0)})
		w.Acquire(Request{Limit: l, Cost: 1, Now: at(5 * time.Second)})
		before := slices.Clone(w.Times)
		// At +10s the unit of +0s has left the window; one remains, so
		// a cost of 2 is rejected.
		if st := w.Acquire(Request{Limit: l, Cost: 2, Now: at(10 * time.Second)}); st.Allowed {
			t.Fatalf("cost 2 at +10s allowed: %+v", st)
		}
		if !slices.Equal(w.Times, before) {
			t.Fatalf("rejected hit changed the log from %v to %v", before, w.Times)
		}
		// At +9s both units count: no room.
		st := w.Acquire(Request{Limit: l, Cost: 1, Now: at(9 * time.Second)})
		if want := at(10 * time.Second).UnixNano(); st.Allowed || st.Remaining != 0 || st.RetryAt != want {
			t.Errorf("cost 1 at +9s: %+v, want rejected, Remaining 0, RetryAt %d", st, want)
		}
	})
}
