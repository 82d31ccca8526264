package limiter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// minWaitPause bounds how often [Wait] asks the storage again.
const minWaitPause = time.Millisecond

// Wait takes r.Cost units of r.Limit for r.Key through s as soon as the
// limit allows, as x/time/rate's Limiter.WaitN does: for outgoing calls,
// jobs and other work that should wait for room rather than be refused.
// Each attempt acts at clock's now (r.Now is overwritten; a nil clock is
// [SystemClock], and any clock given must keep pace with real time, since
// Wait sleeps on timers). The first attempt is a hit; while it is refused,
// Wait sleeps for its RetryAfter, plus up to an eighth more at random so
// that waiters do not all come back at once, then tests the limit, and
// hits once the test says the hit fits (a test counts nothing, so waiting
// never prolongs a fixed-window-elastic-expiry window).
//
// It returns the allowed hit's Result. It returns at once an error
// wrapping [ErrExceedsLimit] when r.Cost is above r.Limit.Amount, and one
// wrapping context.DeadlineExceeded when ctx's deadline comes before the
// hit could be allowed; ctx's error if it ends while waiting; and any
// error of the strategy.
func Wait(ctx context.Context, s Strategy, clock Clock, r Request) (Result, error) {
	if clock == nil {
		clock = SystemClock
	}
	if r.Cost > r.Limit.Amount {
		return Result{}, fmt.Errorf("limiter: %s: wait on %q: cost %d under %s: %w", s.Name(), r.Key, r.Cost, r.Limit, ErrExceedsLimit)
	}
	hit := true
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		r.Now = clock.Now()
		var res Result
		var err error
		if hit {
			res, err = s.Hit(ctx, r)
		} else {
			res, err = s.Test(ctx, r)
		}
		if err != nil {
			return Result{}, err
		}
		if res.Allowed {
			if hit {
				return res, nil
			}
			hit = true // the test says it fits: take it
			continue
		}
		hit = false
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < res.RetryAfter {
			return Result{}, fmt.Errorf("limiter: %s: wait on %q: room in %v, after the context's deadline: %w",
				s.Name(), r.Key, res.RetryAfter, context.DeadlineExceeded)
		}
		d := max(res.RetryAfter, minWaitPause)
		d += time.Duration(rand.Int64N(int64(d)/8 + 1))
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("limiter: %s: wait on %q: %w", s.Name(), r.Key, ctx.Err())
		case <-timer.C:
		}
	}
}
