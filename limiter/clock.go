package limiter

import (
	"sync"
	"time"
)

// A Clock tells the time. Strategies and storages never read the system
// clock themselves: callers pass the instant in each [Request], and the
// layers that fill it in (chilimit, the memory storage's sweeper) take a
// Clock option so tests can step time exactly.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function such as time.Now to a [Clock].
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real wall clock, [time.Now]. It is the default clock
// everywhere a Clock option exists.
var SystemClock Clock = ClockFunc(time.Now)

// A ManualClock is a [Clock] that moves only when told to, for tests and
// simulations. Its zero value reads the zero time; it is safe for
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
