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

// TestSystemClock checks SystemClock against time.Now across a rebase: its
// readings lie between time.Now readings taken around them and never go
// back while the wall clock is not stepped.
func TestSystemClock(t *testing.T) {
	var last time.Time
	deadline := time.Now().Add(rebaseEvery + 200*time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		before := time.Now()
		got := SystemClock.Now()
		after := time.Now()
		// time.Now and SystemClock take the wall clock and the monotonic
		// clock in separate reads: allow a microsecond between them.
		if got.Before(before.Add(-time.Microsecond)) || got.After(after.Add(time.Microsecond)) {
			t.Fatalf("read %d: SystemClock = %v, not between time.Now readings %v and %v", n, got, before, after)
		}
		if got.Before(last.Add(-time.Microsecond)) {
			t.Fatalf("read %d: SystemClock went back from %v to %v", n, last, got)
		}
		if got != got.Round(0) {
			t.Fatalf("read %d: SystemClock = %v carries a monotonic reading", n, got)
		}
		last = got
		time.Sleep(time.Millisecond)
	}
}

// TestSystemClockRebases checks that a base older than rebaseEvery is
// replaced by a fresh time.Now reading, so a step of the wall clock shows
// within rebaseEvery.
func TestSystemClockRebases(t *testing.T) {
	stale := time.Now().Add(-2 * rebaseEvery)
	// A base an hour off, as after the wall clock was stepped, but old.
	systemBase.Store(&clockBase{at: stale, unix: stale.UnixNano() - int64(time.Hour)})
	got := SystemClock.Now()
	if d := time.Since(got); d < -time.Millisecond || d > time.Second {
		t.Fatalf("SystemClock after a stale base = %v, %v from time.Now", got, d)
	}
	if b := systemBase.Load(); b.at.Before(stale.Add(rebaseEvery)) {
		t.Fatalf("base still %v after a read, want a fresh one", b.at)
	}
	// A fresh base an hour off is used until it is rebaseEvery old: the
	// monotonic clock alone carries the readings.
	now := time.Now()
	systemBase.Store(&clockBase{at: now, unix: now.UnixNano() - int64(time.Hour)})
	if d := time.Since(SystemClock.Now()); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Fatalf("SystemClock with a fresh base an hour back reads %v from time.Now, want about 1h", d)
	}
	systemBase.Store(nil)
}

func BenchmarkSystemClock(b *testing.B) {
	for b.Loop() {
		_ = SystemClock.Now()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}
