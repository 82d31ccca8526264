package limiter

import (
	"math/bits"
	"sort"
	"time"
)

// The types in this file hold the state of one key under one algorithm and
// implement the algorithm's arithmetic as pure methods. In-process backends
// keep them in memory; backends that can compare-and-swap store them
// encoded. Instants are Unix nanoseconds, to keep the state small, so a
// Request's Now and the instants it leads to (Now plus two windows at most)
// must lie between the years 1678 and 2262: the range of [Request.Now]
// (1970 to 2149) and [MaxWindow] (two windows come to under 99 years) keep
// them there, with differences between any two within a time.Duration.

// FixedWindow is the state of one fixed-window counter, as
// [Storage.AcquireFixedWindow] describes it.
type FixedWindow struct {
	Count     int64 // units taken in the live window
	ExpiresAt int64 // Unix nanoseconds; the counter is dead from this instant on
}

// Live reports whether the counter exists at now (Unix nanoseconds).
func (w FixedWindow) Live(now int64) bool { return w.Count >= 0 && now < w.ExpiresAt }

// Acquire counts a hit as [Storage.AcquireFixedWindow] describes, updating w.
func (w *FixedWindow) Acquire(r Request, elastic bool) State {
	now := r.Now.UnixNano()
	window := int64(r.Limit.Window())
	if !w.Live(now) {
		*w = FixedWindow{ExpiresAt: now + window}
	}
	allowed := r.Cost <= r.Limit.Amount-w.Count
	if allowed {
		w.Count += r.Cost
	}
	// Elastic expiry only ever moves the end later: a hit from a clock
	// behind another's cannot shorten a lockout that hit already extended.
	if elastic && now+window > w.ExpiresAt {
		w.ExpiresAt = now + window
	}
	s := State{Allowed: allowed, Remaining: r.Limit.Amount - w.Count, ResetAt: w.ExpiresAt, RetryAt: now}
	if !allowed {
		s.RetryAt = s.ResetAt
	}
	return s
}

// Peek reports the counter as [Storage.PeekFixedWindow] describes it,
// without changing w.
func (w FixedWindow) Peek(r Request) State {
	now := r.Now.UnixNano()
	if !w.Live(now) {
		return State{Allowed: r.Cost <= r.Limit.Amount, Remaining: r.Limit.Amount, ResetAt: now, RetryAt: now}
	}
	s := State{Allowed: r.Cost <= r.Limit.Amount-w.Count, Remaining: r.Limit.Amount - w.Count, ResetAt: w.ExpiresAt, RetryAt: now}
	if !s.Allowed {
		s.RetryAt = s.ResetAt
	}
	return s
}

// MovingWindow is the log of one key under the moving-window algorithm, as
// [MovingWindowStorage] describes it.
type MovingWindow struct {
	// Times holds one entry per unit taken, Unix nanoseconds, ascending.
	// Entries that have left the window are dropped by an allowed Acquire.
	Times []int64
}

// live returns the index of the first entry still in the window at now.
func (w *MovingWindow) live(now, window int64) int {
	return sort.Search(len(w.Times), func(i int) bool { return now-w.Times[i] < window })
}

// Acquire counts a hit as [MovingWindowStorage.AcquireMovingWindow]
// describes, updating w.
// A rejected hit leaves w as it was: the entries it would drop still count
// for a later hit from a lagging clock.
func (w *MovingWindow) Acquire(r Request) State {
	now := r.Now.UnixNano()
	window := int64(r.Limit.Window())
	first := w.live(now, window)
	s := w.state(r, first)
	if s.Allowed {
		w.Times = w.Times[first:]
		w.insert(now, r.Cost)
		s.Remaining -= r.Cost
		s.ResetAt = w.Times[len(w.Times)-1] + window
	}
	return s
}

// insert records cost entries at now, keeping Times ascending even when
// concurrent callers' clocks interleave.
func (w *MovingWindow) insert(now, cost int64) {
	i := len(w.Times)
	for i > 0 && w.Times[i-1] > now {
		i--
	}
	for range cost {
		w.Times = append(w.Times, 0)
	}
	copy(w.Times[i+int(cost):], w.Times[i:])
	for j := i; j < i+int(cost); j++ {
		w.Times[j] = now
	}
}

// Peek reports the log as [MovingWindowStorage.PeekMovingWindow] describes
// it, without changing w.
func (w MovingWindow) Peek(r Request) State {
	now := r.Now.UnixNano()
	return w.state(r, w.live(now, int64(r.Limit.Window())))
}

// state describes the window whose live entries start at first, before any
// entry for r is recorded.
func (w *MovingWindow) state(r Request, first int) State {
	now := r.Now.UnixNano()
	window := int64(r.Limit.Window())
	live := w.Times[first:]
	n := int64(len(live))
	s := State{Allowed: r.Cost <= r.Limit.Amount-n, Remaining: max(r.Limit.Amount-n, 0), ResetAt: now, RetryAt: now}
	if n > 0 {
		s.ResetAt = live[n-1] + window
	}
	if !s.Allowed {
		s.RetryAt = s.ResetAt
		if r.Cost <= r.Limit.Amount {
			// The entry that must leave the window before Cost fits.
			s.RetryAt = live[n-(r.Limit.Amount-r.Cost)-1] + window
		}
	}
	return s
}

// SlidingWindow is the state of one key under the sliding-window-counter
// algorithm, as [SlidingWindowStorage] describes it.
type SlidingWindow struct {
	Start    int64 // start of the current window, Unix nanoseconds, a multiple of the window length
	Current  int64 // units taken in the current window
	Previous int64 // units taken in the window before it
}

// shift moves the state to the window containing now.
// A hit whose instant falls before the stored window (a caller whose clock
// lags another's) counts in the stored window, as if it came at its start,
// rather than wiping the newer counts.
func (w SlidingWindow) shift(now, window int64) SlidingWindow {
	start := now - mod(now, window)
	switch {
	case w.Current == 0 && w.Previous == 0:
		return SlidingWindow{Start: start}
	case start <= w.Start:
		return w
	case start == w.Start+window:
		return SlidingWindow{Start: start, Previous: w.Current}
	default:
		return SlidingWindow{Start: start}
	}
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Weighted returns the weighted count at now: floor(Previous × (window −
// elapsed) / window) + Current, where Previous and Current are taken after
// shifting to the window that contains now.
func (w SlidingWindow) Weighted(now int64, window time.Duration) int64 {
	s := w.shift(now, int64(window))
	return mulDiv(s.Previous, int64(window)-max(now-s.Start, 0), int64(window)) + s.Current
}

// mulDiv returns floor(a × b / c) for non-negative a, b and positive c with
// a result that fits in an int64, without intermediate overflow.
func mulDiv(a, b, c int64) int64 {
	if a == 0 || b == 0 {
		return 0 // the common case of an empty previous window: no division
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// mulDivCeil returns ceil(a × b / c) like mulDiv. The caller guarantees the
// result fits in an int64.
func mulDivCeil(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 1<<63 - 1
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if r != 0 {
		q++
	}
	return int64(q)
}

// Acquire counts a hit as [SlidingWindowStorage.AcquireSlidingWindow]
// describes, updating w.
// A rejected hit leaves w as it was: moving w to r's window would make a
// later hit from a lagging clock count in a window no allowed hit reached.
func (w *SlidingWindow) Acquire(r Request) State {
	now := r.Now.UnixNano()
	window := int64(r.Limit.Window())
	shifted := w.shift(now, window)
	s := shifted.state(r)
	if s.Allowed {
		// The weighted count grows by exactly the cost (Remaining was at
		// least the cost), and with a current count the key is back to
		// full capacity two windows after Start: no second weighing.
		*w = shifted
		w.Current += r.Cost
		s.Remaining -= r.Cost
		s.ResetAt = w.Start + 2*window
	}
	return s
}

// Peek reports the counts as [SlidingWindowStorage.PeekSlidingWindow]
// describes them, without changing w.
func (w SlidingWindow) Peek(r Request) State {
	now := r.Now.UnixNano()
	w = w.shift(now, int64(r.Limit.Window()))
	return w.state(r)
}

// state describes w, already shifted to r.Now, for a hit of r.Cost.
func (w SlidingWindow) state(r Request) State {
	now := r.Now.UnixNano()
	window := int64(r.Limit.Window())
	elapsed := max(now-w.Start, 0)
	amount := r.Limit.Amount
	weighted := mulDiv(w.Previous, window-elapsed, window) + w.Current
	s := State{Allowed: r.Cost <= amount-weighted, Remaining: max(amount-weighted, 0), ResetAt: now, RetryAt: now}
	switch {
	case w.Current > 0:
		s.ResetAt = w.Start + 2*window
	case w.Previous > 0:
		s.ResetAt = w.Start + window
	}
	if s.Allowed {
		return s
	}
	switch room := amount - w.Current - r.Cost; {
	case r.Cost > amount:
		s.RetryAt = s.ResetAt
	case room >= 0:
		// Later in this window, once the previous window's weight decays.
		s.RetryAt = w.Start + max(elapsed, window-maxWeightSpan(w.Previous, room, window))
	default:
		// In the next window, once the current count, become the
		// previous, decays enough.
		s.RetryAt = w.Start + window + max(0, window-maxWeightSpan(w.Current, amount-r.Cost, window))
	}
	return s
}

// maxWeightSpan returns the largest span k (at most window) for which
// floor(count × k / window) ≤ room: the weighted contribution of count is
// small enough once at most k of the window remains.
func maxWeightSpan(count, room, window int64) int64 {
	if count == 0 {
		return window
	}
	return min(window, mulDivCeil(room+1, window, count)-1)
}

// TokenBucket is the state of one key under the token-bucket algorithm
// (GCRA), as [TokenBucketStorage] describes it. The emission interval is
// window / Amount rounded down to a nanosecond (at least 1ns), and the
// bucket holds Amount intervals, so a burst never exceeds Amount.
type TokenBucket struct {
	TAT int64 // theoretical arrival time, Unix nanoseconds; the bucket is full from this instant on
}

// Acquire takes tokens as [TokenBucketStorage.AcquireTokenBucket] describes,
// updating b.
func (b *TokenBucket) Acquire(r Request) State {
	s, tat := b.decide(r, true)
	if s.Allowed {
		b.TAT = tat
	}
	return s
}

// Peek reports the bucket as it is at r.Now, without changing b: Allowed
// says whether Acquire would take r.Cost tokens, and Remaining and ResetAt
// describe the bucket before any are taken, as the other algorithms' Peek
// methods do.
func (b TokenBucket) Peek(r Request) State {
	s, _ := b.decide(r, false)
	return s
}

// decide computes the State of a hit and the TAT it would leave behind. If
// take is false the State describes the bucket before the hit.
func (b TokenBucket) decide(r Request, take bool) (State, int64) {
	now := r.Now.UnixNano()
	amount := r.Limit.Amount
	if amount == 0 {
		return State{ResetAt: now, RetryAt: now}, b.TAT
	}
	interval := max(int64(r.Limit.Window())/amount, 1)
	capacity := interval * amount
	tat := max(b.TAT, now)
	// Whole tokens left with the bucket full at t; never negative, even
	// when r.Now is behind the clock that set the TAT.
	remaining := func(t int64) int64 { return max((capacity-(t-now))/interval, 0) }
	var next int64
	if r.Cost <= amount {
		next = tat + r.Cost*interval
		if next-now <= capacity {
			// Allowed: describe the bucket after the hit, or before it
			// when only peeking.
			after := next
			if !take {
				after = tat
			}
			return State{Allowed: true, Remaining: remaining(after), ResetAt: after, RetryAt: now}, next
		}
	}
	s := State{Remaining: remaining(tat), ResetAt: tat}
	if r.Cost > amount {
		s.RetryAt = s.ResetAt
		return s, b.TAT
	}
	s.RetryAt = next - capacity
	return s, b.TAT
}
