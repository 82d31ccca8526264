package limiter

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewManualClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	if got, want := c.Advance(1500*time.Millisecond), start.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Errorf("Advance(1.5s) = %v, want %v", got, want)
	}
	if got, want := c.Now(), start.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Errorf("Now() after Advance = %v, want %v", got, want)
	}
	if got := c.Now(); !c.Now().Equal(got) {
		t.Errorf("Now() moved without Advance or Set")
	}
	back := start.Add(-time.Hour)
	c.Set(back)
	if got := c.Now(); !got.Equal(back) {
		t.Errorf("Now() after Set backwards = %v, want %v", got, back)
	}
	if got, want := c.Advance(0), back; !got.Equal(want) {
		t.Errorf("Advance(0) = %v, want %v", got, want)
	}
	if got, want := c.Advance(-time.Minute), back.Add(-time.Minute); !got.Equal(want) {
		t.Errorf("Advance(-1m) = %v, want %v", got, want)
	}
}

func TestManualClockZeroValue(t *testing.T) {
	var c ManualClock
	if got := c.Now(); !got.IsZero() {
		t.Errorf("zero ManualClock reads %v, want the zero time", got)
	}
	if got := c.Advance(time.Second); !got.Equal(time.Time{}.Add(time.Second)) {
		t.Errorf("zero ManualClock Advance(1s) = %v", got)
	}
	var _ Clock = &c
}

// TestManualClockConcurrent advances, sets and reads one clock from many
// goroutines; run under -race it checks the locking, and the readings check
// that no Advance is lost or reordered.
func TestManualClockConcurrent(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const workers, steps = 8, 500
	total := workers * steps * time.Millisecond

	// Advance, Now and Set all at once. Set(c.Now()) only ever writes a
	// reading the clock had, so the clock never passes start + total.
	c := NewManualClock(start)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range steps {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Go(func() {
		for range steps {
			c.Set(c.Now())
		}
	})
	wg.Wait()
	if got := c.Now(); got.Before(start) || got.After(start.Add(total)) {
		t.Errorf("after Advances and Sets the clock reads %v, outside [%v, %v]", got, start, start.Add(total))
	}

	// Advance alone: every caller sees its readings rise, and the total is
	// exact.
	c.Set(start)
	errs := make(chan string, workers)
	for range workers {
		wg.Go(func() {
			last := start
			for range steps {
				now := c.Advance(time.Millisecond)
				if !now.After(last) {
					errs <- fmt.Sprintf("Advance returned %v after %v", now, last)
					return
				}
				last = now
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got, want := c.Now(), start.Add(total); !got.Equal(want) {
		t.Errorf("after %d concurrent Advances of 1ms the clock reads %v, want %v", workers*steps, got, want)
	}
}

func TestClockFunc(t *testing.T) {
	at := time.Unix(42, 0)
	if got := ClockFunc(func() time.Time { return at }).Now(); !got.Equal(at) {
		t.Errorf("ClockFunc.Now() = %v, want %v", got, at)
	}
	before := time.Now()
	got := SystemClock.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("SystemClock.Now() = %v, not between %v and %v", got, before, after)
	}
}
