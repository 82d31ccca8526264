package conformance

import (
	"time"

	"github.com/limits-go/limits/limiter"
)

// This file holds the rules about the length of a window: a limit of
// several units ("2 per 10 seconds") and one longer than 30 days, past
// which memcached reads an expiry as an absolute Unix time.

func windowRules() []rule {
	return []rule{
		{name: "MultiplesScaleTheWindow", perStrategy: true, exactOnly: true, run: func(e *env) {
			windowEdges(e, limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second})
		}},
		{name: "LongerThan30Days", perStrategy: true, run: func(e *env) {
			windowEdges(e, limiter.Limit{Amount: 2, Multiples: 12, Unit: limiter.Month})
		}},
	}
}

// windowEdges takes both units of a limit of 2 at the start of a window,
// tries one more 0.4 windows later, and checks every instant the strategy
// under test reports against the limit's whole window (Multiples × Unit).
// With an injected clock it then checks the key is rejected just before the
// reported retry instant, allowed at it, and back to full capacity at the
// reset instant, one or two windows on. On real time it checks what the two
// calls report, without waiting.
func windowEdges(e *env, l limiter.Limit) {
	k, w := e.key("k"), l.Window()
	sliding := e.algo.strategy == limiter.StrategySlidingWindowCounter
	// The sliding-window counter's windows are aligned to multiples of
	// their length since the Unix epoch. With an injected clock the rule
	// starts at a boundary; on real time, in the window around t0.
	w0 := e.at(0)
	if e.exact() {
		w0 = alignUp(w0, w)
		e.stepTo(w0)
	}
	start := alignDown(w0, w)

	full := w0.Add(w) // when the key is back to full capacity
	if sliding {
		full = start.Add(2 * w)
	}
	st, op := e.acquire(k, l, 2, w0)
	e.check(op+" (the whole limit at once)", st, want{true, 0, full, w0})

	t1 := w0
	if e.exact() {
		t1 = e.at(w0.Sub(e.t0) + w*2/5)
	}
	var retry time.Time // the first instant a hit of 1 fits
	switch e.algo.strategy {
	case limiter.StrategyFixedWindowElasticExpiry:
		full = t1.Add(w) // the rejected hit moves the expiry
		retry = full
	case limiter.StrategySlidingWindowCounter:
		// In the next window the 2 weigh floor(2 × (w − elapsed) / w),
		// which drops to 1 one nanosecond in.
		retry = start.Add(w + time.Nanosecond)
	case limiter.StrategyTokenBucket:
		retry = w0.Add(w / 2) // one token every w/2
	default:
		retry = full
	}
	st, op = e.acquire(k, l, 1, t1)
	e.check(op+" (the limit is used up)", st, want{false, 0, full, retry})
	if !e.exact() {
		return
	}

	tb := e.before(retry)
	st, op = e.peek(k, l, 1, tb)
	e.check(op+" (just before the retry instant)", st, want{false, 0, full, retry})
	ta := e.after(retry)
	st, op = e.peek(k, l, 1, ta)
	switch e.algo.strategy {
	case limiter.StrategySlidingWindowCounter, limiter.StrategyTokenBucket:
		// One of the two units is back.
		e.check(op+" (at the retry instant)", st, want{true, 1, full, ta})
	default:
		e.check(op+" (at the retry instant)", st, want{true, 2, ta, ta})
	}
	ta = e.after(full)
	st, op = e.peek(k, l, 1, ta)
	e.check(op+" (at the instant reported as full capacity)", st, want{true, 2, ta, ta})
}

// alignDown returns the start of the window of length w, aligned to
// multiples of w since the Unix epoch, that contains t.
func alignDown(t time.Time, w time.Duration) time.Time {
	ns := t.UnixNano()
	m := ns % int64(w)
	if m < 0 {
		m += int64(w)
	}
	return time.Unix(0, ns-m).In(t.Location())
}

// alignUp returns the first window boundary, as alignDown aligns them, at or
// after t.
func alignUp(t time.Time, w time.Duration) time.Time {
	if d := alignDown(t, w); !d.Before(t) {
		return d
	}
	return alignDown(t, w).Add(w)
}
