package conformance

import (
	"errors"
	"fmt"
	"time"

	"github.com/limits-go/limits/limiter"
)

// This file holds the rules every strategy keeps through the public
// limiter.Strategy, and the exact arithmetic of the moving-window,
// sliding-window-counter and token-bucket capabilities.

func strategyRules() []rule {
	return []rule{
		{name: "AllowsAmountThenRejects", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			for i := int64(1); i <= 5; i++ {
				res, op := e.hit(st, k, l, 1, t0)
				e.checkResult(op, res, l, true, 5-i, 0)
			}
			res, op := e.hit(st, k, l, 1, t0)
			e.checkResult(op, res, l, false, 0, anyDuration)
			if res.RetryAfter <= 0 || res.RetryAfter > 2*l.Window() {
				e.errorf("%s: RetryAfter = %v, want in (0, 2 windows]", op, res.RetryAfter)
			}
		}},
		{name: "TestDoesNotCount", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			for range 3 {
				res, op := e.test(st, k, l, 1, t0)
				e.checkResult(op, res, l, true, 5, 0)
			}
			res, op := e.hit(st, k, l, 1, t0)
			e.checkResult(op, res, l, true, 4, 0)
			res, op = e.test(st, k, l, 1, t0)
			e.checkResult(op, res, l, true, 4, 0)
		}},
		{name: "CostAboveOne", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			res, op := e.hit(st, k, l, 2, t0)
			e.checkResult(op, res, l, true, 3, 0)
			res, op = e.test(st, k, l, 4, t0)
			e.checkResult(op, res, l, false, 3, anyDuration)
			res, op = e.hit(st, k, l, 4, t0)
			e.checkResult(op+" (more than remains)", res, l, false, 3, anyDuration)
			res, op = e.hit(st, k, l, 3, t0)
			e.checkResult(op+" (exactly what remains)", res, l, true, 0, 0)
			res, op = e.hit(st, k, l, 1, t0)
			e.checkResult(op, res, l, false, 0, anyDuration)
		}},
		{name: "CostAboveAmountNeverAllowed", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			res, op := e.test(st, k, l, 6, t0)
			e.checkResult(op, res, l, false, 5, anyDuration)
			res, op = e.hit(st, k, l, 6, t0)
			e.checkResult(op, res, l, false, 5, anyDuration)
			raw, op := e.acquire(k, l, 6, t0)
			e.check(op, raw, want{false, 5, time.Time{}, time.Time{}})
			if raw.RetryAt != raw.ResetAt {
				e.errorf("%s: RetryAt = %s, want ResetAt %s (such a hit is never allowed)", op, e.rel(unixTime(raw.RetryAt)), e.rel(unixTime(raw.ResetAt)))
			}
			res, op = e.hit(st, k, l, 5, t0)
			e.checkResult(op+" (the rejected hits took nothing)", res, l, true, 0, 0)
		}},
		{name: "ZeroAmountRejectsEveryHit", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.at(0)
			k, l := e.key("k"), perSecond(0)
			for range 2 {
				res, op := e.hit(st, k, l, 1, t0)
				e.checkResult(op, res, l, false, 0, anyDuration)
				res, op = e.test(st, k, l, 1, t0)
				e.checkResult(op, res, l, false, 0, anyDuration)
			}
		}},
		{name: "FullCapacityByResetAt", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			k, l := e.key("k"), perSecond(3)
			var res limiter.Result
			var op string
			for i, d := range []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond} {
				res, op = e.hit(st, k, l, 1, e.at(d))
				switch e.algo.strategy {
				case limiter.StrategyTokenBucket, limiter.StrategySlidingWindowCounter:
					// Tokens come back between the hits; the hits may
					// straddle a sliding window's boundary.
					if !res.Allowed {
						e.errorf("%s rejected, want allowed", op)
					}
				default:
					e.checkResult(op, res, l, true, 2-int64(i), 0)
				}
			}
			reset := res.ResetAt
			// The sliding-window counter's weighted count can round down to
			// nothing before ResetAt; the others are exact.
			if e.algo.strategy != limiter.StrategySlidingWindowCounter {
				tb := e.before(reset)
				got, op := e.test(st, k, l, 1, tb)
				if got.Remaining >= 3 {
					e.errorf("%s (just before the ResetAt %s reported by the last hit): Remaining = %d, want less than 3", op, e.rel(reset), got.Remaining)
				}
			}
			ta := e.after(reset)
			got, op := e.test(st, k, l, 1, ta)
			e.checkResult(op+" (at the ResetAt "+e.rel(reset)+" reported by the last hit)", got, l, true, 3, 0)
			raw, op := e.peek(k, l, 1, ta)
			e.check(op, raw, want{true, 3, ta, ta})
		}},
		{name: "RetryAfterIsExact", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			k, l := e.key("k"), perSecond(2)
			t0 := e.at(0)
			e.hit(st, k, l, 1, t0)
			e.hit(st, k, l, 1, t0)
			t1 := e.at(300 * time.Millisecond)
			var res limiter.Result
			var op string
			for range 3 {
				if res, op = e.hit(st, k, l, 1, t1); !res.Allowed {
					break
				}
			}
			if res.Allowed {
				e.fatalf("%s: three more hits allowed on a limit of 2", op)
			}
			retry := t1.Add(res.RetryAfter)
			tb := e.before(retry)
			got, op := e.test(st, k, l, 1, tb)
			if got.Allowed {
				e.errorf("%s: allowed just before the retry instant %s the rejected hit reported", op, e.rel(retry))
			}
			ta := e.after(retry)
			got, op = e.test(st, k, l, 1, ta)
			if !got.Allowed {
				e.errorf("%s: rejected at the retry instant %s the rejected hit reported", op, e.rel(retry))
			}
		}},
		{name: "ClearForgets", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			e.hit(st, k, l, 5, t0)
			if err := st.Clear(e.ctx, k); err != nil {
				e.fatalf("%s Clear: %v", st.Name(), err)
			}
			res, op := e.test(st, k, l, 1, t0)
			e.checkResult(op+" (after Clear)", res, l, true, 5, 0)
			res, op = e.hit(st, k, l, 1, t0)
			e.checkResult(op+" (after Clear)", res, l, true, 4, 0)
		}},
		{name: "LimitCheckAgreesWithHits", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.at(0)
			for _, amount := range []int64{1, 1 << 16, 1<<16 + 1, 1<<31 - 1, 1 << 31, limiter.MaxAmount} {
				for _, l := range []limiter.Limit{perDay(amount), {Amount: amount, Multiples: 1, Unit: limiter.Second}} {
					check := limiter.CheckLimit(e.s, st.Name(), l)
					r := req(e.key(fmt.Sprint(l)), l, 1, t0)
					op := e.describe(st.Name()+" Hit", r)
					res, err := st.Hit(e.ctx, r)
					e.observe(r)
					switch {
					case check != nil && !errors.Is(check, limiter.ErrUnsupported):
						e.errorf("limiter.CheckLimit(%s, %s) = %v, want nil or an error wrapping limiter.ErrUnsupported", st.Name(), l, check)
					case check == nil && err != nil:
						e.errorf("%s: %v, want the hit allowed: limiter.CheckLimit says the storage holds the limit (implement limiter.LimitChecker to refuse it)", op, err)
					case check == nil && !res.Allowed:
						e.errorf("%s on a fresh key: not allowed", op)
					case check != nil && !errors.Is(err, limiter.ErrUnsupported):
						e.errorf("%s: error %v, want one wrapping limiter.ErrUnsupported, as limiter.CheckLimit says: %v", op, err, check)
					}
				}
			}
		}},
	}
}

func movingWindowRules() []rule {
	mw := algorithms[2]
	return []rule{
		{name: "ExactAtWindowEdge", needs: capMovingWindow, run: func(e *env) {
			e.algo = mw
			k, l := e.key("k"), perSecond(3)
			t0 := e.at(0)
			for i, d := range []time.Duration{0, 400 * time.Millisecond, 700 * time.Millisecond} {
				t := e.at(d)
				st, op := e.acquire(k, l, 1, t)
				e.check(op, st, want{true, 2 - int64(i), t.Add(time.Second), t})
			}
			tb := e.before(t0.Add(time.Second))
			st, op := e.acquire(k, l, 1, tb)
			e.check(op+" (the first hit is still in the window)", st,
				want{false, 0, t0.Add(1700 * time.Millisecond), t0.Add(time.Second)})
			ta := e.after(t0.Add(time.Second))
			st, op = e.acquire(k, l, 1, ta)
			e.check(op+" (the first hit has left the window)", st, want{true, 0, ta.Add(time.Second), ta})
		}},
		{name: "RejectedHitKeepsLog", needs: capMovingWindow, exactOnly: true, run: func(e *env) {
			// A rejected hit changes nothing, not even by dropping the
			// units that have left the window at its instant: a hit
			// from a clock behind it (another application server's)
			// still meets them.
			e.algo = mw
			k, l := e.key("k"), limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second}
			t0 := e.at(0)
			e.acquire(k, l, 1, t0)
			t5 := e.at(5 * time.Second)
			e.acquire(k, l, 1, t5)
			t10 := e.at(10 * time.Second)
			st, op := e.acquire(k, l, 2, t10)
			e.check(op+" (one unit live, cost 2)", st, want{false, 1, t0.Add(15 * time.Second), t0.Add(15 * time.Second)})
			t9 := t0.Add(9 * time.Second)
			st, op = e.acquire(k, l, 1, t9)
			e.check(op+" (from a clock 1s behind: the units of t0 and t0+5s still count)", st,
				want{false, 0, t0.Add(15 * time.Second), t0.Add(10 * time.Second)})
		}},
		{name: "RetryAtWaitsForEnoughUnits", needs: capMovingWindow, run: func(e *env) {
			e.algo = mw
			k, l := e.key("k"), perSecond(4)
			t0 := e.at(0)
			for _, d := range []time.Duration{0, 100 * time.Millisecond, 600 * time.Millisecond, 700 * time.Millisecond} {
				e.acquire(k, l, 1, e.at(d))
			}
			t1 := e.at(800 * time.Millisecond)
			newest := t0.Add(1700 * time.Millisecond)
			st, op := e.peek(k, l, 2, t1)
			e.check(op, st, want{false, 0, newest, t0.Add(1100 * time.Millisecond)})
			st, op = e.acquire(k, l, 2, t1)
			e.check(op, st, want{false, 0, newest, t0.Add(1100 * time.Millisecond)})
			st, op = e.peek(k, l, 5, t1)
			e.check(op+" (cost above the amount)", st, want{false, 0, newest, newest})
			tb := e.before(t0.Add(1100 * time.Millisecond))
			st, op = e.peek(k, l, 2, tb)
			if st.Allowed {
				e.errorf("%s allowed before the second-oldest unit left the window", op)
			}
			ta := e.after(t0.Add(1100 * time.Millisecond))
			st, op = e.acquire(k, l, 2, ta)
			e.check(op, st, want{true, 0, ta.Add(time.Second), ta})
		}},
	}
}

func slidingWindowRules() []rule {
	sw := algorithms[3]
	ms := time.Millisecond
	return []rule{
		{name: "BucketShiftAndDecay", needs: capSlidingWindow, run: func(e *env) {
			e.algo = sw
			if !e.exact() {
				bucketShiftAndDecayRealTime(e)
				return
			}
			k, l := e.key("k"), perSecond(10)
			// Windows are aligned to multiples of their length since the
			// Unix epoch; start at the next boundary.
			w0 := e.t0.Truncate(time.Second).Add(time.Second)
			e.stepTo(w0)
			w := func(d time.Duration) time.Time { t := w0.Add(d); e.stepTo(t); return t }

			st, op := e.acquire(k, l, 10, w0)
			e.check(op, st, want{true, 0, w0.Add(2 * time.Second), w0})
			t := w(50 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (current window full)", st, want{false, 0, w0.Add(2 * time.Second), w0.Add(time.Second + time.Nanosecond)})
			t = w(1050 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (previous 10 weighted by 0.95)", st, want{true, 1, w0.Add(2 * time.Second), t})
			st, op = e.peek(k, l, 2, t)
			e.check(op+" (previous 10 weighted by 0.95)", st, want{false, 1, w0.Add(2 * time.Second), w0.Add(1100*ms + time.Nanosecond)})
			t = w(1550 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (previous 10 weighted by 0.45)", st, want{true, 6, w0.Add(2 * time.Second), t})
			st, op = e.acquire(k, l, 3, t)
			e.check(op+" (previous 10 weighted by 0.45)", st, want{true, 3, w0.Add(3 * time.Second), t})
			t = w(2250 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (the 3 became previous, weighted by 0.75)", st, want{true, 8, w0.Add(3 * time.Second), t})
			t = e.after(w0.Add(3 * time.Second))
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (two windows after the last hit)", st, want{true, 10, t, t})
		}},
	}
}

func tokenBucketRules() []rule {
	tb := algorithms[4]
	ms := time.Millisecond
	return []rule{
		{name: "RejectedHitKeepsTAT", needs: capTokenBucket, exactOnly: true, run: func(e *env) {
			// A rejected hit leaves the TAT as it was, even one already
			// past at its instant: a hit from a clock behind it still
			// waits for it.
			e.algo = tb
			k, l := e.key("k"), limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second} // a token every 5s
			t0 := e.at(0)
			st, op := e.acquire(k, l, 1, t0)
			e.check(op, st, want{true, 1, t0.Add(5 * time.Second), t0})
			t6 := e.at(6 * time.Second)
			st, op = e.acquire(k, l, 3, t6)
			e.check(op+" (a cost above the amount, the bucket full)", st, want{false, 2, t6, time.Time{}})
			t1 := t0.Add(time.Second)
			st, op = e.acquire(k, l, 1, t1)
			e.check(op+" (from a clock 5s behind: the TAT of t0+5s still stands)", st, want{true, 0, t0.Add(10 * time.Second), t1})
		}},
		{name: "RefillsEvenly", needs: capTokenBucket, run: func(e *env) {
			e.algo = tb
			if !e.exact() {
				refillsEvenlyRealTime(e)
				return
			}
			k, l := e.key("k"), perSecond(10) // one token every 100ms
			t0 := e.at(0)
			for i := int64(1); i <= 10; i++ {
				st, op := e.acquire(k, l, 1, t0)
				e.check(op, st, want{true, 10 - i, t0.Add(time.Duration(i) * 100 * ms), t0})
			}
			st, op := e.acquire(k, l, 1, t0)
			e.check(op+" (bucket empty)", st, want{false, 0, t0.Add(time.Second), t0.Add(100 * ms)})
			t := e.before(t0.Add(100 * ms))
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (a token is not back yet)", st, want{false, 0, t0.Add(time.Second), t0.Add(100 * ms)})
			t = e.at(100 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (one token back)", st, want{true, 1, t0.Add(time.Second), t})
			t = e.at(650 * ms)
			st, op = e.peek(k, l, 1, t)
			e.check(op+" (six and a half tokens back)", st, want{true, 6, t0.Add(time.Second), t})
			st, op = e.acquire(k, l, 6, t)
			e.check(op, st, want{true, 0, t0.Add(1600 * ms), t})
			st, op = e.acquire(k, l, 1, t)
			e.check(op, st, want{false, 0, t0.Add(1600 * ms), t0.Add(700 * ms)})
		}},
		{name: "BurstNeverExceedsAmount", needs: capTokenBucket, run: func(e *env) {
			e.algo = tb
			k, l := e.key("k"), e.burstLimit(3) // 3 does not divide the window
			t0 := e.burstStart()
			for i := int64(1); i <= 3; i++ {
				st, op := e.acquire(k, l, 1, t0)
				e.check(op, st, want{true, 3 - i, time.Time{}, t0})
			}
			st, op := e.acquire(k, l, 1, t0)
			e.check(op, st, want{false, 0, time.Time{}, time.Time{}})
			idle := e.after(unixTime(st.ResetAt))
			if e.exact() {
				idle = e.at(10 * time.Second) // a long idle spell
			}
			st, op = e.peek(k, l, 1, idle)
			e.check(op+" (after idling)", st, want{true, 3, idle, idle})
			st, op = e.acquire(k, l, 4, idle)
			e.check(op+" (more than the amount after idling)", st, want{false, 3, idle, idle})
			st, op = e.acquire(k, l, 3, idle)
			e.check(op+" (the amount after idling)", st, want{true, 0, time.Time{}, idle})
			st, op = e.acquire(k, l, 1, idle)
			e.check(op, st, want{false, 0, time.Time{}, time.Time{}})
			if !e.exact() {
				return // tokens of a few nanoseconds come back while the calls travel
			}
			// An amount far from dividing the window: the interval, 2.5ns,
			// rounds down to 2ns, so the bucket holds 800ms of the 1s
			// window. A bucket holding the whole window would take 100
			// million tokens more than the amount in one burst.
			k, l = e.key("interval-rounded-down"), perSecond(400_000_000)
			st, op = e.acquire(k, l, l.Amount, idle)
			e.check(op+" (the whole amount at once)", st, want{true, 0, idle.Add(800 * ms), idle})
			st, op = e.acquire(k, l, 1, idle)
			e.check(op+" (one more than the amount: Amount × interval is 800ms, not the 1s window)", st,
				want{false, 0, idle.Add(800 * ms), idle.Add(2 * time.Nanosecond)})
		}},
	}
}

// refillsEvenlyRealTime is TokenBucket/RefillsEvenly for a storage that
// keeps its own time: four tokens per four seconds, one a second, so the
// burst and every check sit half a token away from the next refill.
func refillsEvenlyRealTime(e *env) {
	k, l := e.key("k"), limiter.Limit{Amount: 4, Multiples: 4, Unit: limiter.Second}
	sec := time.Second
	t0 := e.burstStart()
	for i := int64(1); i <= 4; i++ {
		st, op := e.acquire(k, l, 1, t0)
		e.check(op, st, want{true, 4 - i, t0.Add(time.Duration(i) * sec), t0})
	}
	st, op := e.acquire(k, l, 1, t0)
	e.check(op+" (bucket empty)", st, want{false, 0, t0.Add(4 * sec), t0.Add(sec)})
	t := e.at(2500 * time.Millisecond)
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (two and a half tokens back)", st, want{true, 2, t0.Add(4 * sec), t})
	st, op = e.acquire(k, l, 2, t)
	e.check(op, st, want{true, 0, t0.Add(6 * sec), t})
	st, op = e.acquire(k, l, 1, t)
	e.check(op+" (half a token left)", st, want{false, 0, t0.Add(6 * sec), t0.Add(3 * sec)})
}

// bucketShiftAndDecayRealTime is SlidingWindow/BucketShiftAndDecay for a
// storage that keeps its own time: four hits per two-second window, so the
// weighted count keeps each value for half a second, and every check comes
// just after the value it expects begins.
func bucketShiftAndDecayRealTime(e *env) {
	const win = 2 * time.Second
	ms := time.Millisecond
	k, l := e.key("k"), limiter.Limit{Amount: 4, Multiples: 2, Unit: limiter.Second}
	// Windows are aligned to multiples of their length since the Unix
	// epoch; start at the next boundary.
	w0 := e.t0.Truncate(win).Add(win)
	e.stepTo(w0)
	w := func(d time.Duration) time.Time { t := w0.Add(d); e.stepTo(t); return t }

	st, op := e.acquire(k, l, 4, w0)
	e.check(op, st, want{true, 0, w0.Add(2 * win), w0})
	t := w(40 * ms)
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (current window full)", st, want{false, 0, w0.Add(2 * win), w0.Add(win + time.Nanosecond)})
	t = w(win + 40*ms)
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (previous 4 weighted by 0.98)", st, want{true, 1, w0.Add(2 * win), t})
	st, op = e.peek(k, l, 2, t)
	e.check(op+" (previous 4 weighted by 0.98)", st, want{false, 1, w0.Add(2 * win), w0.Add(win + win/4 + time.Nanosecond)})
	t = w(win + win/2 + 40*ms)
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (previous 4 weighted by 0.48)", st, want{true, 3, w0.Add(2 * win), t})
	st, op = e.acquire(k, l, 2, t)
	e.check(op+" (previous 4 weighted by 0.48)", st, want{true, 1, w0.Add(3 * win), t})
	t = w(2*win + 40*ms)
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (the 2 became previous, weighted by 0.98)", st, want{true, 3, w0.Add(3 * win), t})
	t = e.after(w0.Add(3 * win))
	st, op = e.peek(k, l, 1, t)
	e.check(op+" (two windows after the last hit)", st, want{true, 4, t, t})
}
