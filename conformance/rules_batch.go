package conformance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
)

// This file holds the rules of the optional limiter.BatchStorage: a batch
// runs its steps in order, each exactly as the single-key Acquire or Peek
// method of the strategy would, and stops after the first step that is not
// allowed, which counts nothing; the steps after it do not run.

func batchRules() []rule {
	return []rule{
		{name: "StopsAtFirstRejection", perStrategy: true, needs: capBatch, run: batchStopsAtFirstRejection},
		{name: "MatchesSingleKeyCalls", perStrategy: true, needs: capBatch, run: batchMatchesSingleKeyCalls},
		{name: "PeekStepsDoNotCount", perStrategy: true, needs: capBatch, run: batchPeekStepsDoNotCount},
		{name: "StrategyWithoutCapabilityFails", needs: capBatch, run: batchStrategyWithoutCapabilityFails},
	}
}

// step is one step of a batch the rules send.
type step struct {
	key  string
	l    limiter.Limit
	cost int64
	peek bool
	at   time.Time
}

// batch runs steps through AcquireBatch under the strategy under test and
// fails the rule on error, or when the count of steps run is impossible.
// It returns the States of the steps run and a description of the call.
func (e *env) batch(steps ...step) ([]limiter.State, string) {
	e.t.Helper()
	ops := make([]limiter.BatchOp, len(steps))
	parts := make([]string, len(steps))
	for i, s := range steps {
		ops[i] = limiter.BatchOp{Request: req(s.key, s.l, s.cost, s.at), Peek: s.peek}
		verb := "acquire"
		if s.peek {
			verb = "peek"
		}
		parts[i] = fmt.Sprintf("%d: %s", i, e.describe(verb, ops[i].Request))
	}
	op := fmt.Sprintf("AcquireBatch(%q, [%s])", e.algo.strategy, strings.Join(parts, "; "))
	states := make([]limiter.State, len(ops))
	n, err := e.batchStorage().AcquireBatch(e.ctx, e.algo.strategy, ops, states)
	for i := range ops {
		e.observe(ops[i].Request)
	}
	e.must(op, err)
	if n < 1 || n > len(ops) {
		e.fatalf("%s ran %d steps, want 1 to %d", op, n, len(ops))
	}
	return states[:n], op
}

// batchStorage returns the storage as a limiter.BatchStorage, or stops the
// rule if it is not one although the harness declares it.
func (e *env) batchStorage() limiter.BatchStorage {
	e.t.Helper()
	b, ok := e.s.(limiter.BatchStorage)
	if !ok {
		e.fatalf("%T does not implement limiter.BatchStorage although the harness declares it", e.s)
	}
	return b
}

// single runs steps one by one through the single-key methods of the
// strategy under test, stopping after the first that is not allowed, as
// AcquireBatch must.
func (e *env) single(steps ...step) []limiter.State {
	e.t.Helper()
	var out []limiter.State
	for _, s := range steps {
		var st limiter.State
		if s.peek {
			st, _ = e.peek(s.key, s.l, s.cost, s.at)
		} else {
			st, _ = e.acquire(s.key, s.l, s.cost, s.at)
		}
		out = append(out, st)
		if !st.Allowed {
			break
		}
	}
	return out
}

// wantRun checks how many steps of a batch ran.
func (e *env) wantRun(op string, states []limiter.State, n int) {
	e.t.Helper()
	if len(states) != n {
		e.errorf("%s ran %d steps, want %d (a batch stops after the first step not allowed)", op, len(states), n)
	}
}

func batchStopsAtFirstRejection(e *env) {
	t0 := e.burstStart()
	l := e.burstLimit(5)
	a, b, c, d := e.key("a"), e.key("b"), e.key("c"), e.key("d")
	st, op := e.acquire(b, l, 4, t0)
	e.check(op, st, want{true, 1, time.Time{}, t0})

	// The second step takes more than remains: it counts nothing, and the
	// third and fourth do not run.
	states, op := e.batch(step{a, l, 1, false, t0}, step{b, l, 2, false, t0}, step{c, l, 1, false, t0}, step{d, l, 1, true, t0})
	e.wantRun(op, states, 2)
	if len(states) >= 2 {
		e.check(op+": step 0", states[0], want{true, 4, time.Time{}, t0})
		e.check(op+": step 1", states[1], want{false, 1, time.Time{}, time.Time{}})
	}
	after := func(when string, remaining map[string]int64) {
		e.t.Helper()
		for _, k := range []string{a, b, c} {
			st, op := e.peek(k, l, 1, t0)
			e.check(op+" "+when, st, want{true, remaining[k], time.Time{}, t0})
		}
	}
	after("(after a batch rejected at step 1)", map[string]int64{a: 4, b: 1, c: 5})

	// A peek step that is not allowed stops the batch too.
	states, op = e.batch(step{c, l, 1, false, t0}, step{b, l, 2, true, t0}, step{a, l, 1, false, t0})
	e.wantRun(op, states, 2)
	if len(states) >= 2 {
		e.check(op+": step 0", states[0], want{true, 4, time.Time{}, t0})
		e.check(op+": step 1", states[1], want{false, 1, time.Time{}, time.Time{}})
	}
	after("(after a batch stopped by a peek at step 1)", map[string]int64{a: 4, b: 1, c: 4})

	// A first step rejected runs nothing else.
	states, op = e.batch(step{b, l, 2, false, t0}, step{a, l, 1, false, t0}, step{c, l, 1, false, t0})
	e.wantRun(op, states, 1)
	if len(states) >= 1 {
		e.check(op+": step 0", states[0], want{false, 1, time.Time{}, time.Time{}})
	}
	after("(after a batch rejected at step 0)", map[string]int64{a: 4, b: 1, c: 4})
}

func batchMatchesSingleKeyCalls(e *env) {
	t0 := e.burstStart()
	la, lb := e.burstLimit(3), e.burstLimit(5)
	lc := limiter.Limit{Amount: 4, Multiples: 1, Unit: limiter.Day}
	if e.exact() {
		lc = limiter.Limit{Amount: 4, Multiples: 10, Unit: limiter.Second}
	}
	// Each batch runs on keys of its own ("batch:…") and, step by step
	// through the single-key methods, on others ("single:…"), at the same
	// instants: the two must report the same States.
	type planStep struct {
		key  string // a suffix of the key
		l    limiter.Limit
		cost int64
		peek bool
		off  time.Duration // from the batch's instant (with an injected clock)
	}
	type plan struct {
		at    time.Duration // when the batch runs, from t0 (with an injected clock)
		steps []planStep
	}
	ms := time.Millisecond
	plans := []plan{
		{0, []planStep{{"a", la, 1, false, 0}, {"b", lb, 2, false, 0}, {"c", lc, 1, true, 0}, {"c2", lc, 3, false, 0}}},
		{0, []planStep{{"a", la, 2, true, 0}, {"a2", la, 3, false, 0}, {"b", lb, 3, false, 0}, {"c", lc, 1, true, 0}}},
		{0, []planStep{{"c", lc, 1, false, 0}, {"a2", la, 1, false, 0}, {"b", lb, 1, false, 0}}},
		{0, []planStep{{"c2", lc, 1, false, 0}, {"a", la, 3, false, 0}, {"c", lc, 1, false, 0}}},
		// With an injected clock, later batches see windows end, tokens
		// come back and counts decay, and the steps of one batch act at
		// instants of their own.
		{300 * ms, []planStep{{"a", la, 1, false, 0}, {"b", lb, 1, true, 10 * ms}, {"a2", la, 1, false, 20 * ms}}},
		{1100 * ms, []planStep{{"a2", la, 1, false, 0}, {"b", lb, 2, false, 0}, {"c2", lc, 1, false, 50 * ms}, {"a", la, 2, false, 100 * ms}}},
		{1700 * ms, []planStep{{"a", la, 1, true, 0}, {"a2", la, 3, false, 0}, {"b", lb, 5, false, 0}, {"c2", lc, 1, true, 0}}},
	}
	for i, p := range plans {
		at := t0
		if p.at != 0 {
			if !e.exact() {
				break // on real time the batches run at t0 only
			}
			at = e.at(p.at)
		}
		batched := make([]step, len(p.steps))
		single := make([]step, len(p.steps))
		for j, s := range p.steps {
			when := at
			if e.exact() {
				when = at.Add(s.off)
			}
			batched[j] = step{e.key("batch:" + s.key), s.l, s.cost, s.peek, when}
			single[j] = step{e.key("single:" + s.key), s.l, s.cost, s.peek, when}
		}
		got, op := e.batch(batched...)
		wantStates := e.single(single...)
		if len(got) != len(wantStates) {
			e.errorf("batch %d: %s ran %d steps; the same steps one by one ran %d", i, op, len(got), len(wantStates))
		}
		for j := range min(len(got), len(wantStates)) {
			w := wantStates[j]
			e.check(fmt.Sprintf("batch %d: %s: step %d (as the single-key call reported)", i, op, j), got[j],
				want{w.Allowed, w.Remaining, unixTime(w.ResetAt), unixTime(w.RetryAt)})
		}
	}
}

func batchPeekStepsDoNotCount(e *env) {
	t0 := e.burstStart()
	l := e.burstLimit(3)
	a, b := e.key("a"), e.key("b")
	for range 3 {
		states, op := e.batch(step{a, l, 1, true, t0}, step{b, l, 3, true, t0})
		e.wantRun(op, states, 2)
		for i, st := range states {
			e.check(fmt.Sprintf("%s: step %d", op, i), st, want{true, 3, t0, t0})
		}
	}
	acq, op := e.acquire(a, l, 1, t0)
	e.check(op+" (after three batches of peeks)", acq, want{true, 2, time.Time{}, t0})
	for range 3 {
		states, op := e.batch(step{a, l, 1, true, t0}, step{b, l, 1, true, t0})
		e.wantRun(op, states, 2)
		if len(states) == 2 {
			e.check(op+": step 0", states[0], want{true, 2, unixTime(acq.ResetAt), t0})
			e.check(op+": step 1", states[1], want{true, 3, t0, t0})
		}
	}
	st, op := e.peek(b, l, 1, t0)
	e.check(op+" (after six batches of peeks)", st, want{true, 3, t0, t0})
	st, op = e.peek(a, l, 1, t0)
	e.check(op+" (after six batches of peeks and one hit)", st, want{true, 2, unixTime(acq.ResetAt), t0})
}

func batchStrategyWithoutCapabilityFails(e *env) {
	t0 := e.at(0)
	l := perDay(5)
	checked := 0
	for _, a := range algorithms {
		if a.supported(e.caps) {
			continue
		}
		checked++
		ops := []limiter.BatchOp{{Request: req(e.key("a"), l, 1, t0)}, {Request: req(e.key("b"), l, 1, t0)}}
		_, err := e.batchStorage().AcquireBatch(e.ctx, a.strategy, ops, make([]limiter.State, len(ops)))
		if !errors.Is(err, limiter.ErrUnsupported) {
			e.errorf("AcquireBatch(%q) on a storage without limiter.%s: error = %v, want one wrapping limiter.ErrUnsupported",
				a.strategy, a.capability, err)
		}
	}
	if checked == 0 {
		e.t.Skip("the storage has every strategy's capability")
	}
}
