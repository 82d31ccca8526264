package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// TestMovingWindowRejectedHitKeepsLog: a rejected hit counts nothing, so
// it must not drop the log entries that have left the window at its
// instant: at a lagging clock's instant they still count, as they do in
// limiter.MovingWindow and the memcached storage. Found by reliability's
// TestStorageDifferential.
func TestMovingWindowRejectedHitKeepsLog(t *testing.T) {
	_, _, s := newMiniredis(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
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
