package limiter

import (
	"sync"
	"sync/atomic"
	"time"
)

// A Clock tells the time. Strategies and storages never read the system
// clock themselves: callers pass the instant in each [Request], and the
// layers that fill it in (chilimit, the memory storage's sweeper) take a
// Clock option so tests can step time exactly.
type Clock interface {
	// Now returns the current time. It must be safe for concurrent use.
	Now() time.Time
}

// ClockFunc adapts a function such as time.Now to a [Clock].
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real wall clock. It is the default clock everywhere a
// Clock option exists.
//
// It reads the monotonic clock and adds the time elapsed to a [time.Now]
// reading taken at most a second before, which costs about half of
// time.Now on Linux (one clock read instead of two) and sits on every
// request's path. Its readings track time.Now's within a second of a step
// of the wall clock and exactly otherwise; they carry no monotonic reading.
var SystemClock Clock = systemClock{}

// systemClock is the type of [SystemClock].
type systemClock struct{}

// clockBase is a time.Now reading and its Unix nanoseconds.
type clockBase struct {
	at   time.Time // monotonic reading included
	unix int64
}

// rebaseEvery bounds how long SystemClock runs on the monotonic clock alone
// before it reads the wall clock again.
const rebaseEvery = time.Second

// systemBase is SystemClock's latest base; nil until its first read.
var systemBase atomic.Pointer[clockBase]

// Now returns the current time.
func (systemClock) Now() time.Time {
	if b := systemBase.Load(); b != nil {
		if d := time.Since(b.at); d >= 0 && d < rebaseEvery {
			return time.Unix(0, b.unix+int64(d))
		}
	}
	t := time.Now()
	systemBase.Store(&clockBase{at: t, unix: t.UnixNano()})
	return t.Round(0) // as the readings between rebases: no monotonic part
}

// A ManualClock is a [Clock] that moves only when told to, for tests and
// simulations. Its zero value reads the zero time, which strategies refuse
// as a [Request.Now] (see [ErrInvalidTime]): start one at an instant from
// 1970 to 2149 with [NewManualClock] or [ManualClock.Set]. It is safe for
// concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current reading.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forwards or backwards.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new reading.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
