package memory

import (
	"context"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// Regression tests found by reliability's TestStorageDifferential: a hit
// that is rejected counts nothing, so a later hit from a clock behind it
// must find the state the allowed hits left, as the Redis and memcached
// storages (and limiter's algorithm types) keep it.

// A rejected hit on a bucket that is full at its instant (its cost is
// above the amount) used to drop the stored TAT, which a hit from a
// lagging clock still had to wait for.
func TestTokenBucketRejectedHitKeepsTAT(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	l := limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second} // a token every 5s
	hit := func(cost int64, d time.Duration) limiter.State {
		t.Helper()
		st, err := s.AcquireTokenBucket(ctx, limiter.Request{Key: "k", Limit: l, Cost: cost, Now: t0.Add(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	hit(1, 0) // TAT +5s
	if st := hit(3, 6*time.Second); st.Allowed {
		t.Fatalf("cost 3 of 2 allowed: %+v", st)
	}
	var ref limiter.TokenBucket
	ref.Acquire(limiter.Request{Limit: l, Cost: 1, Now: t0})
	want := ref.Acquire(limiter.Request{Limit: l, Cost: 1, Now: t0.Add(time.Second)})
	if got := hit(1, time.Second); got != want {
		t.Errorf("cost 1 at +1s after the rejected hit at +6s: %+v, want %+v (TAT +5s kept)", got, want)
	}
}

// A rejected hit used to drop the log entries that had left the window at
// its instant, though they still count at a lagging clock's.
func TestMovingWindowRejectedHitKeepsLog(t *testing.T) {
	s, err := New(WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	l := limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second}
	hit := func(cost int64, d time.Duration) limiter.State {
		t.Helper()
		st, err := s.AcquireMovingWindow(ctx, limiter.Request{Key: "k", Limit: l, Cost: cost, Now: t0.Add(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	hit(1, 0)
	hit(1, 5*time.Second)
	if st := hit(2, 10*time.Second); st.Allowed {
		t.Fatalf("cost 2 with one unit live allowed: %+v", st)
	}
	st := hit(1, 9*time.Second)
	if want := t0.Add(10 * time.Second).UnixNano(); st.Allowed || st.Remaining != 0 || st.RetryAt != want {
		t.Errorf("cost 1 at +9s, with units of +0s and +5s live: %+v, want rejected, Remaining 0, RetryAt %d", st, want)
	}
}
