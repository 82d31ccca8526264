package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
)

// This file holds the rules about the required Storage interface and the
// housekeeping capabilities: declared capabilities, fixed-window counters
// and their expiry, Peek, keys, Clear, ResetAll, Check, contexts and Close.

func capabilityRules() []rule {
	return []rule{
		{name: "DeclarationMatchesStorage", run: func(e *env) {
			for _, c := range capabilities {
				declared, implemented := c.has(e.caps), c.impl(e.s)
				switch {
				case declared && !implemented:
					e.errorf("Capabilities().%s is true but %T does not implement limiter.%s (a wrapper hiding it?)", c.field, e.s, c.iface)
				case !declared && implemented:
					e.errorf("Capabilities().%s is false but %T implements limiter.%s: declare it so its rules run", c.field, e.s, c.iface)
				}
			}
		}},
		{name: "StrategyConstructionMatchesCapabilities", perStrategy: true, anyStrategy: true, run: func(e *env) {
			st, err := limiter.NewStrategy(e.algo.strategy, e.s)
			switch {
			case e.algo.supported(e.caps) && err != nil:
				e.errorf("limiter.NewStrategy(%q) = %v, want a strategy: the storage declares limiter.%s", e.algo.strategy, err, e.algo.capability)
			case e.algo.supported(e.caps) && st.Name() != e.algo.strategy:
				e.errorf("limiter.NewStrategy(%q).Name() = %q", e.algo.strategy, st.Name())
			case !e.algo.supported(e.caps) && !errors.Is(err, limiter.ErrUnsupported):
				e.errorf("limiter.NewStrategy(%q) over a storage without limiter.%s: error = %v, want one wrapping limiter.ErrUnsupported at construction",
					e.algo.strategy, e.algo.capability, err)
			}
		}},
	}
}

func fixedWindowRules() []rule {
	const second = time.Second
	bothModes := func(e *env, f func(elastic bool, key string)) {
		for _, elastic := range []bool{false, true} {
			f(elastic, e.key(fmt.Sprint("elastic=", elastic)))
		}
	}
	return []rule{
		{name: "FirstHitCreatesCounter", run: func(e *env) {
			t0 := e.at(0)
			bothModes(e, func(elastic bool, k string) {
				st, op := e.acquireFixed(k, perSecond(5), 1, t0, elastic)
				e.check(op, st, want{true, 4, t0.Add(second), t0})
			})
		}},
		{name: "CountsUpToAmount", run: func(e *env) {
			t0 := e.at(0)
			k := e.key("k")
			for i := int64(1); i <= 5; i++ {
				st, op := e.acquireFixed(k, perSecond(5), 1, t0, false)
				e.check(op, st, want{true, 5 - i, t0.Add(second), t0})
			}
			for range 2 {
				st, op := e.acquireFixed(k, perSecond(5), 1, t0, false)
				e.check(op, st, want{false, 0, t0.Add(second), t0.Add(second)})
			}
		}},
		{name: "RejectedHitLeavesCountUnchanged", run: func(e *env) {
			t0 := e.at(0)
			bothModes(e, func(elastic bool, k string) {
				l := perSecond(3)
				st, op := e.acquireFixed(k, l, 2, t0, elastic)
				e.check(op, st, want{true, 1, t0.Add(second), t0})
				st, op = e.acquireFixed(k, l, 2, t0, elastic)
				e.check(op, st, want{false, 1, t0.Add(second), t0.Add(second)})
				st, op = e.acquireFixed(k, l, 1, t0, elastic)
				e.check(op, st, want{true, 0, t0.Add(second), t0})
			})
		}},
		{name: "ExpirySetOnceOnCreation", run: func(e *env) {
			k, l := e.key("k"), perSecond(5)
			t0 := e.at(0)
			st, op := e.acquireFixed(k, l, 1, t0, false)
			e.check(op, st, want{true, 4, t0.Add(second), t0})
			t1 := e.at(400 * time.Millisecond)
			st, op = e.acquireFixed(k, l, 4, t1, false)
			e.check(op, st, want{true, 0, t0.Add(second), t1})
			t2 := e.at(700 * time.Millisecond)
			st, op = e.acquireFixed(k, l, 1, t2, false)
			e.check(op+" (a rejected hit)", st, want{false, 0, t0.Add(second), t0.Add(second)})
			tb := e.before(t0.Add(second))
			st, op = e.peekFixed(k, l, 1, tb)
			e.check(op+" (just before the expiry set at creation)", st, want{false, 0, t0.Add(second), t0.Add(second)})
			ta := e.after(t0.Add(second))
			st, op = e.peekFixed(k, l, 1, ta)
			e.check(op+" (at the expiry set at creation)", st, want{true, 5, ta, ta})
		}},
		{name: "ExpiredCounterStartsAfresh", run: func(e *env) {
			k, l := e.key("k"), perSecond(5)
			t0 := e.at(0)
			st, op := e.acquireFixed(k, l, 5, t0, false)
			e.check(op, st, want{true, 0, t0.Add(second), t0})
			ta := e.after(t0.Add(second))
			st, op = e.acquireFixed(k, l, 1, ta, false)
			e.check(op+" (the counter expired)", st, want{true, 4, ta.Add(second), ta})
			tb := e.before(ta.Add(second))
			st, op = e.peekFixed(k, l, 1, tb)
			e.check(op+" (the new counter is live)", st, want{true, 4, ta.Add(second), tb})
			tc := e.after(ta.Add(second))
			st, op = e.peekFixed(k, l, 1, tc)
			e.check(op+" (the new counter expired)", st, want{true, 5, tc, tc})
		}},
		{name: "ElasticExpiryExtendsOnEveryHit", run: func(e *env) {
			k, l := e.key("k"), perSecond(2)
			t0 := e.at(0)
			st, op := e.acquireFixed(k, l, 1, t0, true)
			e.check(op, st, want{true, 1, t0.Add(second), t0})
			t1 := e.at(400 * time.Millisecond)
			st, op = e.acquireFixed(k, l, 1, t1, true)
			e.check(op, st, want{true, 0, t1.Add(second), t1})
			t2 := e.at(800 * time.Millisecond)
			st, op = e.acquireFixed(k, l, 1, t2, true)
			e.check(op+" (a rejected hit extends too)", st, want{false, 0, t2.Add(second), t2.Add(second)})
			tb := e.before(t2.Add(second))
			st, op = e.peekFixed(k, l, 1, tb)
			e.check(op+" (past the first hit's window, before the last hit's)", st, want{false, 0, t2.Add(second), t2.Add(second)})
			ta := e.after(t2.Add(second))
			st, op = e.peekFixed(k, l, 1, ta)
			e.check(op+" (a window after the last hit)", st, want{true, 2, ta, ta})
		}},
		{name: "ElasticExpiryNeverMovesEarlier", exactOnly: true, run: func(e *env) {
			// A hit from a clock behind the one that last extended the
			// window counts in it but leaves its end where it is.
			k, l := e.key("k"), perSecond(2)
			t0 := e.at(0)
			t5 := e.at(500 * time.Millisecond)
			st, op := e.acquireFixed(k, l, 1, t5, true)
			e.check(op, st, want{true, 1, t5.Add(second), t5})
			st, op = e.acquireFixed(k, l, 1, t0, true)
			e.check(op+" (from a clock 500ms behind)", st, want{true, 0, t5.Add(second), t0})
			st, op = e.acquireFixed(k, l, 1, t0, true)
			e.check(op+" (rejected, from the clock behind)", st, want{false, 0, t5.Add(second), t5.Add(second)})
			tb := e.before(t5.Add(second))
			st, op = e.peekFixed(k, l, 1, tb)
			e.check(op+" (the window still ends a second after the later clock's hit)", st, want{false, 0, t5.Add(second), t5.Add(second)})
		}},
		{name: "ElasticHammeringStaysLockedOut", run: func(e *env) {
			e.algo = algorithms[1]
			st := e.strategy()
			k, l := e.key("k"), perSecond(2)
			t0 := e.at(0)
			for range 2 {
				res, op := e.hit(st, k, l, 1, t0)
				if !res.Allowed {
					e.errorf("%s rejected, want allowed", op)
				}
			}
			var last time.Time
			for _, d := range []time.Duration{500 * time.Millisecond, 1000 * time.Millisecond, 1500 * time.Millisecond} {
				last = e.at(d)
				res, op := e.hit(st, k, l, 1, last)
				e.checkResult(op+" (hammering)", res, l, false, 0, second)
			}
			ta := e.after(last.Add(second))
			res, op := e.hit(st, k, l, 1, ta)
			e.checkResult(op+" (a window after the last hammering hit)", res, l, true, 1, 0)
		}},
		{name: "PlainWindowEndsDespiteHammering", run: func(e *env) {
			st := e.strategyNamed(limiter.StrategyFixedWindow)
			k, l := e.key("k"), perSecond(2)
			t0 := e.at(0)
			for range 2 {
				e.hit(st, k, l, 1, t0)
			}
			t1 := e.at(500 * time.Millisecond)
			res, op := e.hit(st, k, l, 1, t1)
			e.checkResult(op, res, l, false, 0, 500*time.Millisecond)
			ta := e.after(t0.Add(second))
			res, op = e.hit(st, k, l, 1, ta)
			e.checkResult(op+" (the window set at the first hit ended)", res, l, true, 1, 0)
		}},
	}
}

// strategyNamed builds the named strategy over the storage.
func (e *env) strategyNamed(name string) limiter.Strategy {
	e.t.Helper()
	st, err := limiter.NewStrategy(name, e.s)
	if err != nil {
		e.fatalf("limiter.NewStrategy(%q): %v", name, err)
	}
	return st
}

func peekRules() []rule {
	return []rule{
		{name: "MissingKey", perStrategy: true, run: func(e *env) {
			t0 := e.at(0)
			k, l := e.key("missing"), perSecond(5)
			st, op := e.peek(k, l, 1, t0)
			e.check(op, st, want{true, 5, t0, t0})
			st, op = e.peek(k, l, 6, t0)
			e.check(op+" (cost above the amount)", st, want{false, 5, t0, t0})
		}},
		{name: "DoesNotCount", perStrategy: true, run: func(e *env) {
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			for range 3 {
				st, op := e.peek(k, l, 1, t0)
				e.check(op, st, want{true, 5, t0, t0})
			}
			acq, op := e.acquire(k, l, 1, t0)
			e.check(op, acq, want{true, 4, time.Time{}, t0})
			for range 3 {
				st, op := e.peek(k, l, 1, t0)
				e.check(op+" (after one hit)", st, want{true, 4, unixTime(acq.ResetAt), t0})
			}
		}},
		{name: "DoesNotStartWindow", perStrategy: true, run: func(e *env) {
			// A peek at a missing key must leave it missing: a hit after
			// it reports what a hit on a key never used reports, not a
			// window (or log, or bucket) the peek started. Per day, so
			// no sliding window's aligned end falls between the two
			// hits on real time.
			t0 := e.at(0)
			k, fresh, l := e.key("peeked"), e.key("fresh"), perDay(5)
			st, op := e.peek(k, l, 1, t0)
			e.check(op, st, want{true, 5, t0, t0})
			t1 := e.at(900 * time.Millisecond)
			w, _ := e.acquire(fresh, l, 1, t1)
			st, op = e.acquire(k, l, 1, t1)
			e.check(op+" (the key was only peeked at, at t0: as a key never used reports)", st,
				want{w.Allowed, w.Remaining, unixTime(w.ResetAt), unixTime(w.RetryAt)})
		}},
		{name: "ReportsFullKey", perStrategy: true, run: func(e *env) {
			t0 := e.burstStart()
			k, l := e.key("k"), e.burstLimit(5)
			acq, op := e.acquire(k, l, 5, t0)
			e.check(op, acq, want{true, 0, time.Time{}, t0})
			st, op := e.peek(k, l, 1, t0)
			e.check(op, st, want{false, 0, unixTime(acq.ResetAt), time.Time{}})
			if retry, reset := unixTime(st.RetryAt), unixTime(acq.ResetAt); !retry.After(t0) || retry.After(reset) {
				e.errorf("%s: RetryAt = %s, want after t0 and no later than ResetAt %s", op, e.rel(retry), e.rel(reset))
			}
		}},
		{name: "ExpiredKeyLooksMissing", perStrategy: true, run: func(e *env) {
			t0 := e.at(0)
			k, l := e.key("k"), perSecond(5)
			acq, op := e.acquire(k, l, 5, t0)
			e.check(op, acq, want{true, 0, time.Time{}, t0})
			ta := e.after(unixTime(acq.ResetAt))
			st, op := e.peek(k, l, 1, ta)
			e.check(op+" (at the reported ResetAt)", st, want{true, 5, ta, ta})
		}},
	}
}

// keyVariants are suffixes that differ from each other by one byte, or hold
// bytes some backends cannot store as is.
func keyVariants() []string {
	kb := strings.Repeat("0123456789abcdef", 64) // 1 KiB
	return []string{
		"k", "K", "k ", " k", "k\n", "k\r\n", "k\t", "k\x00", "k\xff",
		"k/x", "k:x", "k/", "k:", "/k", ":k", "k*", "k?", "k{x}",
		"kä", "ka\u0308", "日本語", "🙂",
		"a b c", "line1\nline2",
		kb, kb + "a", kb + "b", "x" + kb, kb[:512] + "X" + kb[513:],
	}
}

func keyRules() []rule {
	return []rule{
		{name: "StrategiesKeepSeparateState", run: func(e *env) {
			t0 := e.at(0)
			k, l := e.key("k"), perDay(10)
			used := e.separateAlgorithms()
			for i, a := range used {
				e.algo = a
				st, op := e.acquire(k, l, int64(i+1), t0)
				e.check(op+" (the key is also used by the other strategies)", st, want{true, 10 - int64(i+1), time.Time{}, t0})
			}
			for i, a := range used {
				e.algo = a
				st, op := e.peek(k, l, 1, t0)
				e.check(op+" (the key is also used by the other strategies)", st, want{true, 10 - int64(i+1), time.Time{}, t0})
			}
		}},
		{name: "IsolatedFromEachOther", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			t0 := e.at(0)
			l := perDay(20)
			variants := keyVariants()
			hits := func(i int) int64 { return 1 + int64(i%5) }
			for i, v := range variants {
				for range hits(i) {
					res, op := e.hit(st, e.key(v), l, 1, t0)
					if !res.Allowed {
						e.fatalf("%s rejected: keys collide", op)
					}
				}
			}
			for i, v := range variants {
				res, op := e.test(st, e.key(v), l, 1, t0)
				e.checkResult(op+fmt.Sprintf(" (key %d of %d, hit %d times)", i, len(variants), hits(i)), res, l, true, 20-hits(i), 0)
				raw, op := e.peek(e.key(v), l, 1, t0)
				e.check(op, raw, want{true, 20 - hits(i), time.Time{}, t0})
			}
		}},
	}
}

// separateAlgorithms returns the supported algorithms that keep state of
// their own: the two fixed-window strategies share one counter.
func (e *env) separateAlgorithms() []algorithm {
	var out []algorithm
	for _, a := range algorithms {
		if a.supported(e.caps) && a.strategy != limiter.StrategyFixedWindowElasticExpiry {
			out = append(out, a)
		}
	}
	return out
}

func clearRules() []rule {
	return []rule{
		{name: "ForgetsEveryStrategysState", run: func(e *env) {
			t0 := e.at(0)
			k, l := e.key("k"), perDay(1)
			used := e.separateAlgorithms()
			for _, a := range used {
				e.algo = a
				e.acquire(k, l, 1, t0)
			}
			for _, a := range used {
				e.algo = a
				st, op := e.peek(k, l, 1, t0)
				if st.Allowed {
					e.errorf("%s allowed before Clear, want the hit counted", op)
				}
			}
			e.must("Clear", e.s.Clear(e.ctx, k))
			for _, a := range used {
				e.algo = a
				st, op := e.peek(k, l, 1, t0)
				e.check(op+" (after Clear)", st, want{true, 1, t0, t0})
			}
		}},
		{name: "ForgetsPreviousSlidingWindow", needs: capSlidingWindow, run: clearForgetsPreviousSlidingWindow},
		{name: "MissingKeyIsNotAnError", run: func(e *env) {
			if err := e.s.Clear(e.ctx, e.key("never-used")); err != nil {
				e.errorf("Clear of a key never used = %v, want nil", err)
			}
		}},
		{name: "LeavesOtherKeysAlone", run: func(e *env) {
			t0 := e.at(0)
			l := perDay(5)
			names := []string{"c", "c:x", "c*", "cc", "c?", "C", "c "}
			// Every strategy's state, on every key: a backend may keep a
			// key's optional state under keys of its own.
			used := e.separateAlgorithms()
			for _, n := range names {
				for _, a := range used {
					e.algo = a
					st, op := e.acquire(e.key(n), l, 2, t0)
					e.check(op, st, want{true, 3, time.Time{}, t0})
				}
			}
			e.must("Clear", e.s.Clear(e.ctx, e.key("c")))
			e.must("Clear", e.s.Clear(e.ctx, e.key("c*")))
			for _, n := range names {
				remaining := int64(3)
				if n == "c" || n == "c*" {
					remaining = 5
				}
				for _, a := range used {
					e.algo = a
					st, op := e.peek(e.key(n), l, 1, t0)
					e.check(op+" (after clearing c and c*)", st, want{true, remaining, time.Time{}, t0})
				}
			}
		}},
	}
}

func resetAllRules() []rule {
	resetAll := func(e *env) int64 {
		e.t.Helper()
		n, err := e.s.(limiter.ResetAller).ResetAll(e.ctx)
		e.must("ResetAll", err)
		return n
	}
	return []rule{
		{name: "EmptyStorageCountsNothing", needs: capResetAll, run: func(e *env) {
			if n := resetAll(e); n != 0 && n != -1 {
				e.errorf("ResetAll on a fresh storage = %d, want 0 (or -1 for a backend that cannot count)", n)
			}
		}},
		{name: "CountsTheKeysRemoved", needs: capResetAll, run: func(e *env) {
			t0 := e.at(0)
			for i := range 7 {
				e.acquireFixed(e.key(fmt.Sprint(i)), perDay(5), 1, t0, false)
			}
			if n := resetAll(e); n != 7 && n != -1 {
				e.errorf("ResetAll after 7 fixed-window keys were hit = %d, want 7 (or -1 for a backend that cannot count)", n)
			}
			if n := resetAll(e); n != 0 && n != -1 {
				e.errorf("second ResetAll = %d, want 0 (or -1)", n)
			}
		}},
		{name: "RemovesEveryKey", needs: capResetAll, run: func(e *env) {
			t0 := e.at(0)
			l := perDay(1)
			made := 0
			for _, a := range algorithms {
				if !a.supported(e.caps) {
					continue
				}
				e.algo = a
				for i := range 3 {
					e.acquire(e.key(fmt.Sprint(a.strategy, i)), l, 1, t0)
					made++
				}
			}
			if n := resetAll(e); n != -1 && n < int64(made) {
				e.errorf("ResetAll after %d keys were hit = %d, want at least %d (or -1)", made, n, made)
			}
			for _, a := range algorithms {
				if !a.supported(e.caps) {
					continue
				}
				e.algo = a
				for i := range 3 {
					st, op := e.peek(e.key(fmt.Sprint(a.strategy, i)), l, 1, t0)
					e.check(op+" (after ResetAll)", st, want{true, 1, t0, t0})
				}
			}
		}},
	}
}

func checkRules() []rule {
	return []rule{
		{name: "HealthyWhileOpen", run: func(e *env) {
			if err := e.s.Check(e.ctx); err != nil {
				e.errorf("Check on an open storage = %v, want nil", err)
			}
			e.acquireFixed(e.key("k"), perSecond(1), 1, e.at(0), false)
			if err := e.s.Check(e.ctx); err != nil {
				e.errorf("Check after a hit = %v, want nil", err)
			}
		}},
	}
}

// clearForgetsPreviousSlidingWindow is Clear/ForgetsPreviousSlidingWindow:
// a sliding-window key keeps two counts, the current window's and the
// previous one's, and Clear forgets both. One key is hit in one window only,
// another in that window and the next; both are cleared in the next window.
func clearForgetsPreviousSlidingWindow(e *env) {
	e.algo = algorithms[3]
	l := perSecond(5)
	if !e.exact() {
		l = limiter.Limit{Amount: 5, Multiples: 2, Unit: limiter.Second}
	}
	w := l.Window()
	// Start at a window boundary; on real time, wait for one.
	w0 := alignUp(e.at(0), w)
	if !e.exact() {
		w0 = w0.Add(realMargin / 5)
	}
	e.stepTo(w0)
	prev, both := e.key("previous"), e.key("both")
	for _, k := range []string{prev, both} {
		st, op := e.acquire(k, l, 5, w0)
		e.check(op, st, want{true, 0, alignDown(w0, w).Add(2 * w), w0})
	}
	// A tenth into the next window the 5 weigh floor(5 × 0.9) = 4.
	t := w0.Add(w + w/10)
	if !e.exact() {
		t = t.Add(realMargin)
	}
	e.stepTo(t)
	st, op := e.acquire(both, l, 1, t)
	if !st.Allowed || st.Remaining >= 4 {
		e.errorf("%s (the previous window's 5 still weigh) = %s, want allowed with less than 4 remaining", op, e.showState(st))
	}
	st, op = e.peek(prev, l, 1, t)
	if st.Remaining >= 5 {
		e.errorf("%s (the previous window's 5 still weigh) = %s, want less than 5 remaining", op, e.showState(st))
	}
	for _, k := range []string{prev, both} {
		e.must("Clear", e.s.Clear(e.ctx, k))
		st, op := e.peek(k, l, 1, t)
		e.check(op+" (after Clear in the window after the hits)", st, want{true, 5, t, t})
		st, op = e.acquire(k, l, 5, t)
		e.check(op+" (after Clear in the window after the hits)", st, want{true, 0, alignDown(t, w).Add(2 * w), t})
	}
}

// countingOps calls every operation that counts or peeks, for every
// strategy the storage declares, on key and key2 at an instant, collecting
// each one's name and error. AcquireBatch, if declared, runs one step on
// each key.
func (e *env) countingOps(ctx context.Context, key, key2 string, at time.Time) (names []string, errs []error) {
	r := req(key, perSecond(5), 1, at)
	add := func(name string, err error) {
		names = append(names, name)
		errs = append(errs, err)
	}
	for _, a := range algorithms {
		if !a.supported(e.caps) {
			continue
		}
		_, err := a.acquire(ctx, e.s, r)
		add(a.acquireName, err)
		_, err = a.peek(ctx, e.s, r)
		add(a.peekName, err)
		if e.caps.Batch {
			if b, ok := e.s.(limiter.BatchStorage); ok {
				ops := []limiter.BatchOp{{Request: r}, {Request: req(key2, perSecond(5), 1, at)}}
				_, err := b.AcquireBatch(ctx, a.strategy, ops, make([]limiter.State, len(ops)))
				add(fmt.Sprintf("AcquireBatch(%q)", a.strategy), err)
			}
		}
	}
	return names, errs
}

// housekeepingOps calls Clear on key, Check, and ResetAll if declared,
// collecting each one's name and error.
func (e *env) housekeepingOps(ctx context.Context, key string) (names []string, errs []error) {
	add := func(name string, err error) {
		names = append(names, name)
		errs = append(errs, err)
	}
	add("Clear", e.s.Clear(ctx, key))
	add("Check", e.s.Check(ctx))
	if e.caps.ResetAll {
		if ra, ok := e.s.(limiter.ResetAller); ok {
			_, err := ra.ResetAll(ctx)
			add("ResetAll", err)
		}
	}
	return names, errs
}

// peekEvery checks that every strategy the storage declares sees key with
// the remaining count given, at an instant.
func (e *env) peekEvery(key string, remaining int64, at time.Time, when string) {
	e.t.Helper()
	for _, a := range e.separateAlgorithms() {
		e.algo = a
		st, op := e.peek(key, perDay(5), 1, at)
		e.check(op+" "+when, st, want{true, remaining, time.Time{}, at})
	}
}

func contextRules() []rule {
	return []rule{
		{name: "CanceledContextFails", run: func(e *env) {
			t0 := e.at(0)
			k, k2, kept := e.key("k"), e.key("k2"), e.key("kept")
			// A key every strategy counted on, with a live context, for
			// Clear and ResetAll to leave alone.
			for _, a := range e.separateAlgorithms() {
				e.algo = a
				e.acquire(kept, perDay(5), 1, t0)
			}
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			names, errs := e.countingOps(ctx, k, k2, t0)
			for i, err := range errs {
				e.wantErrIs(names[i]+" with a canceled context", err, context.Canceled)
			}
			// Peek before Clear and ResetAll run, which would hide a count.
			for _, a := range algorithms {
				if a.supported(e.caps) {
					e.algo = a
					for _, key := range []string{k, k2} {
						st, op := e.peek(key, perSecond(5), 1, t0)
						e.check(op+" (after canceled operations)", st, want{true, 5, t0, t0})
					}
				}
			}
			names, errs = e.housekeepingOps(ctx, kept)
			for i, err := range errs {
				e.wantErrIs(names[i]+" with a canceled context", err, context.Canceled)
			}
			e.peekEvery(kept, 4, t0, "(after a canceled Clear and ResetAll)")
		}},
	}
}

func closeRules() []rule {
	return []rule{
		{name: "EveryMethodFailsWithErrClosed", run: func(e *env) {
			t0 := e.at(0)
			k := e.key("k")
			e.acquireFixed(k, perSecond(5), 1, t0, false)
			if err := e.s.Close(); err != nil {
				e.fatalf("Close = %v, want nil", err)
			}
			names, errs := e.countingOps(e.ctx, k, e.key("k2"), t0)
			moreNames, moreErrs := e.housekeepingOps(e.ctx, k)
			names, errs = append(names, moreNames...), append(errs, moreErrs...)
			for i, err := range errs {
				e.wantErrIs(names[i]+" after Close", err, limiter.ErrClosed)
			}
			for _, a := range algorithms {
				if !a.supported(e.caps) {
					continue
				}
				st, err := limiter.NewStrategy(a.strategy, e.s)
				if err != nil {
					e.errorf("limiter.NewStrategy(%q) after Close: %v (construction needs no I/O)", a.strategy, err)
					continue
				}
				_, err = st.Hit(e.ctx, req(k, perSecond(5), 1, t0))
				e.wantErrIs(a.strategy+" Hit after Close", err, limiter.ErrClosed)
			}
		}},
		{name: "SecondCloseReturnsNil", run: func(e *env) {
			if err := e.s.Close(); err != nil {
				e.errorf("first Close = %v, want nil", err)
			}
			if err := e.s.Close(); err != nil {
				e.errorf("second Close = %v, want nil", err)
			}
		}},
	}
}
