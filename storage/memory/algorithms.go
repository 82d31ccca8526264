package memory

import (
	"context"
	"fmt"
	"math"

	"github.com/limits-go/limits/limiter"
)

// The methods in this file apply the arithmetic of the limiter package's
// algorithm types to state kept in the shards, under the shard's lock, so
// every operation is atomic.

// AcquireFixedWindow counts a hit on the fixed-window counter at r.Key, as
// [limiter.Storage] describes.
func (s *Storage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	sh, err := s.lock(ctx, "acquire fixed window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	w, ok := sh.fixed[r.Key]
	if !ok {
		w = &limiter.FixedWindow{Count: -1} // not live at any instant
		sh.fixed[r.Key] = w
		sh.grew()
	}
	st := w.Acquire(r, elastic)
	sh.mu.Unlock()
	return st, nil
}

// PeekFixedWindow reports what AcquireFixedWindow would, without counting.
func (s *Storage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	sh, err := s.lock(ctx, "peek fixed window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	p, ok := sh.fixed[r.Key]
	w := limiter.FixedWindow{Count: -1}
	if ok {
		w = *p
	}
	sh.mu.Unlock()
	return w.Peek(r), nil
}

// MaxMovingWindowAmount is the largest amount of a moving-window limit the
// storage holds, 2^24. Its log keeps one instant (8 bytes) per unit taken,
// so a single hit of a larger cost could allocate gigabytes at once:
// larger limits get an error wrapping [limiter.ErrUnsupported]
// ([Storage.CheckLimit] says so without a call).
const MaxMovingWindowAmount = 1 << 24

var errMovingAmount = fmt.Errorf("moving window supports amounts up to %d: %w", MaxMovingWindowAmount, limiter.ErrUnsupported)

// CheckLimit implements [limiter.LimitChecker]: moving-window limits above
// [MaxMovingWindowAmount] are refused.
func (s *Storage) CheckLimit(strategy string, l limiter.Limit) error {
	if strategy == limiter.StrategyMovingWindow && l.Amount > MaxMovingWindowAmount {
		return fmt.Errorf("memory storage: %s %s: %w", strategy, l, errMovingAmount)
	}
	return nil
}

// AcquireMovingWindow counts a hit on the moving-window log at r.Key, as
// [limiter.MovingWindowStorage] describes.
func (s *Storage) AcquireMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if r.Limit.Amount > MaxMovingWindowAmount {
		return limiter.State{}, fmt.Errorf("memory storage: acquire moving window %q: %w", r.Key, errMovingAmount)
	}
	window := int64(r.Limit.Window())
	now := r.Now.UnixNano()
	sh, err := s.lock(ctx, "acquire moving window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	l, ok := sh.moving[r.Key]
	if !ok {
		l = new(movingLog)
	}
	first := firstLive(l.times, now, window)
	if r.Cost > r.Limit.Amount-int64(len(l.times)-first) {
		// Rejected: change nothing. The entries that have left the window
		// at r.Now still count for a hit from a lagging clock.
		st := limiter.MovingWindow{Times: l.times}.Peek(r)
		sh.mu.Unlock()
		return st, nil
	}
	// Drop the entries that have left the window by moving the live ones to
	// the front, keeping the slice's capacity, so a key in steady use stops
	// allocating once its log has grown to the limit's amount.
	if first > 0 {
		l.times = l.times[:copy(l.times, l.times[first:])]
	}
	// Grow the log here rather than in Acquire's append, never beyond the
	// amount: a log holds at most Amount live entries.
	if free := cap(l.times) - len(l.times); int64(free) < r.Cost && r.Cost <= r.Limit.Amount-int64(len(l.times)) {
		want := min(2*cap(l.times), int(r.Limit.Amount))
		want = max(want, len(l.times)+int(r.Cost))
		l.times = append(make([]int64, 0, want), l.times...)
	}
	w := limiter.MovingWindow{Times: l.times}
	st := w.Acquire(r)
	switch n := len(w.Times); {
	case n > 0:
		l.times, l.expiresAt = w.Times, w.Times[n-1]+window
		if !ok {
			sh.moving[r.Key] = l
			sh.grew()
		}
	case ok:
		delete(sh.moving, r.Key)
	}
	sh.mu.Unlock()
	return st, nil
}

// firstLive returns the index of the first entry of times, ascending, still
// in the window at now: now − t < window.
func firstLive(times []int64, now, window int64) int {
	lo, hi := 0, len(times)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if now-times[mid] < window {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// PeekMovingWindow reports what AcquireMovingWindow would, without
// recording anything.
func (s *Storage) PeekMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if r.Limit.Amount > MaxMovingWindowAmount {
		return limiter.State{}, fmt.Errorf("memory storage: peek moving window %q: %w", r.Key, errMovingAmount)
	}
	sh, err := s.lock(ctx, "peek moving window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	var times []int64
	if l, ok := sh.moving[r.Key]; ok {
		times = l.times
	}
	st := limiter.MovingWindow{Times: times}.Peek(r)
	sh.mu.Unlock()
	return st, nil
}

// AcquireSlidingWindow counts a hit on the sliding-window counters at r.Key,
// as [limiter.SlidingWindowStorage] describes.
func (s *Storage) AcquireSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	window := int64(r.Limit.Window())
	sh, err := s.lock(ctx, "acquire sliding window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	e, ok := sh.sliding[r.Key]
	if !ok {
		e = new(slidingEntry)
	}
	st := e.Acquire(r)
	switch {
	case e.Current > 0:
		e.expiresAt = e.Start + 2*window
	case e.Previous > 0:
		e.expiresAt = e.Start + window
	default:
		e.expiresAt = math.MinInt64
	}
	if e.expiresAt != math.MinInt64 {
		if !ok {
			sh.sliding[r.Key] = e
			sh.grew()
		}
	} else if ok {
		delete(sh.sliding, r.Key)
	}
	sh.mu.Unlock()
	return st, nil
}

// PeekSlidingWindow reports what AcquireSlidingWindow would, without
// counting.
func (s *Storage) PeekSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	sh, err := s.lock(ctx, "peek sliding window", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	var e slidingEntry
	if p, ok := sh.sliding[r.Key]; ok {
		e = *p
	}
	sh.mu.Unlock()
	return e.Peek(r), nil
}

// AcquireTokenBucket takes r.Cost tokens from the bucket at r.Key, as
// [limiter.TokenBucketStorage] describes.
func (s *Storage) AcquireTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	now := r.Now.UnixNano()
	sh, err := s.lock(ctx, "acquire token bucket", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	if i, ok := sh.tokens[r.Key]; ok {
		// The bucket stays until the sweeper finds it full, even when it
		// is full at r.Now: a hit that changes nothing (a rejected one)
		// must not forget a TAT that a hit from a lagging clock still
		// has to wait for.
		st := sh.buckets[i].Acquire(r)
		sh.mu.Unlock()
		return st, nil
	}
	b := limiter.TokenBucket{TAT: math.MinInt64} // full at every instant
	st := b.Acquire(r)
	if b.TAT > now {
		sh.addBucket(r.Key, b)
		sh.grew()
	}
	sh.mu.Unlock()
	return st, nil
}

// PeekTokenBucket reports what AcquireTokenBucket would, without taking
// tokens.
func (s *Storage) PeekTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	b := limiter.TokenBucket{TAT: math.MinInt64} // full unless stored
	sh, err := s.lock(ctx, "peek token bucket", r.Key)
	if err != nil {
		return limiter.State{}, err
	}
	if i, ok := sh.tokens[r.Key]; ok {
		b = sh.buckets[i]
	}
	sh.mu.Unlock()
	return b.Peek(r), nil
}
