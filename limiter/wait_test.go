package limiter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Wait lets every waiter through, as fast as the limit refills and no
// faster: 10 a second in a token bucket, 25 hits from 5 goroutines, the
// first 10 at once and the others a tenth of a second apart.
func TestWait(t *testing.T) {
	ref := newRefStorage()
	st := MustNewStrategy(StrategyTokenBucket, ref)
	l := Limit{Amount: 10, Multiples: 1, Unit: Second}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 25)
	for range 5 {
		wg.Go(func() {
			for range 5 {
				res, err := Wait(context.Background(), st, nil, Request{Key: "k", Limit: l, Cost: 1})
				if err == nil && !res.Allowed {
					err = errors.New("Wait returned a refused result")
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// 15 beyond the burst at 10 a second: at least 1.5s less a token's
	// worth of rounding.
	if elapsed := time.Since(start); elapsed < 1400*time.Millisecond {
		t.Errorf("25 waits on 10 a second took %v, want at least 1.4s", elapsed)
	}
	res, err := st.Test(context.Background(), Request{Key: "k", Limit: l, Cost: 1, Now: time.Now()})
	if err != nil || res.Remaining > 1 {
		t.Errorf("after the waits: %+v, %v; want the bucket (nearly) empty", res, err)
	}
}

// Wait refuses at once what no wait would let through, and a wait past
// the context's deadline; it stops when the context ends while it waits.
func TestWaitRefuses(t *testing.T) {
	st := MustNewStrategy(StrategyFixedWindow, newRefStorage())
	hour := Limit{Amount: 1, Multiples: 1, Unit: Hour}
	if _, err := Wait(context.Background(), st, nil, Request{Key: "big", Limit: hour, Cost: 2}); !errors.Is(err, ErrExceedsLimit) {
		t.Errorf("Wait for a cost above the amount = %v, want ErrExceedsLimit", err)
	}
	if _, err := Wait(context.Background(), st, nil, Request{Key: "none", Limit: Limit{Multiples: 1, Unit: Hour}, Cost: 1}); !errors.Is(err, ErrExceedsLimit) {
		t.Errorf("Wait under a limit of 0 = %v, want ErrExceedsLimit", err)
	}
	if _, err := Wait(context.Background(), st, nil, Request{Key: "k", Limit: hour, Cost: 1}); err != nil {
		t.Fatal(err)
	}
	// Room again in an hour: a context ending in half an hour gives up now
	// (the test would time out otherwise).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := Wait(ctx, st, nil, Request{Key: "k", Limit: hour, Cost: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the deadline = %v, want context.DeadlineExceeded at once", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := Wait(ctx, st, nil, Request{Key: "k", Limit: hour, Cost: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait cancelled while waiting = %v, want context.Canceled", err)
	}
}

// While it waits under fixed-window-elastic-expiry, Wait only tests the
// window, so its waiting does not push the window's end further.
func TestWaitElasticDoesNotExtend(t *testing.T) {
	ref := newRefStorage()
	st := MustNewStrategy(StrategyFixedWindowElasticExpiry, ref)
	l := Limit{Amount: 1, Multiples: 1, Unit: Second}
	if _, err := Wait(context.Background(), st, nil, Request{Key: "k", Limit: l, Cost: 1}); err != nil {
		t.Fatal(err)
	}
	before := ref.callCount()
	if _, err := Wait(context.Background(), st, nil, Request{Key: "k", Limit: l, Cost: 1}); err != nil {
		t.Fatal(err)
	}
	// One refused hit (which moves the end a second on), one test after
	// the wait, one hit: three calls.
	if calls := ref.callCount() - before; calls != 3 {
		t.Errorf("the second Wait made %d storage calls, want 3 (hit, test, hit)", calls)
	}
}
