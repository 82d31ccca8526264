package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// realMargin is how far from an edge the suite steps, and how far a reported
// instant may stray, when the storage keeps its own time (AcceptsClock is
// false): requests still carry exact nominal instants, but a server that
// expires keys by its own clock sees them a little late.
const realMargin = 250 * time.Millisecond

// clockStart is where the injected clock starts: a fixed instant, so a
// failure reproduces exactly, and off a whole second, so window alignment is
// exercised.
var clockStart = time.Date(2030, time.January, 2, 3, 4, 5, 600_000_000, time.UTC)

// An env is what one rule runs with: a fresh storage from a fresh harness,
// the time source, a key prefix unique to the rule's run, and the
// algorithm under test for rules that run once per strategy.
type env struct {
	t      *testing.T
	ctx    context.Context
	rule   string // the rule's name, as in failure messages
	s      limiter.Storage
	caps   Capabilities
	clock  *limiter.ManualClock // nil when the storage keeps its own time
	t0     time.Time            // the rule's starting instant
	prefix string
	algo   algorithm

	h            Harness       // the harness that made s
	storageClock limiter.Clock // the clock given to MakeStorage

	mu   sync.Mutex
	keys map[string]bool // every key handed out, cleared when the rule ends
	late time.Duration   // the most a call of the rule returned after its request's Now

	// On real time a loaded machine can make the suite reach an instant
	// too late for the rule to judge it, or a call reach a storage that
	// keeps its own time so late that the rule cannot judge what follows
	// (after widens its margin by the lateness, and can step past the
	// rule's next edge as well). Failures are then held in broken until the
	// attempt ends, so runRule can run the rule again when the schedule
	// slipped; with an injected clock they are reported at once.
	slipped time.Duration // the most stepTo arrived after its instant, or a call returned after its request's Now, beyond realMargin/2; guarded by mu
	broken  []string
}

// errStopRule stops an attempt of a rule on real time, as t.FailNow would.
var errStopRule = errors.New("conformance: rule stopped")

func newEnv(t *testing.T, rule string, newHarness HarnessMaker, info suiteInfo) *env {
	t.Helper()
	ctx := t.Context()
	h, err := newHarness(ctx, t)
	if err != nil {
		t.Fatalf("rule %s: make harness: %v", rule, err)
	}
	t.Cleanup(h.Close)
	e := &env{t: t, ctx: ctx, rule: rule, caps: info.caps, h: h}
	var clock limiter.Clock = limiter.SystemClock
	if info.acceptsClock {
		e.clock = limiter.NewManualClock(clockStart)
		clock = e.clock
	}
	e.storageClock = clock
	s, err := h.MakeStorage(ctx, clock)
	if err != nil {
		t.Fatalf("rule %s: make storage: %v", rule, err)
	}
	if s == nil {
		t.Fatalf("rule %s: MakeStorage returned a nil storage", rule)
	}
	// Cleanups run last-in first-out: the storage closes before its harness.
	t.Cleanup(func() { _ = s.Close() })
	e.s = s
	// Leave nothing behind in a backend shared between rules; on a closed
	// storage the calls fail, which is fine.
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for k := range e.keys {
			_ = s.Clear(context.Background(), k)
		}
	})
	var token [6]byte
	_, _ = rand.Read(token[:])
	e.prefix = "conformance:" + hex.EncodeToString(token[:]) + ":" + rule + ":"
	e.t0 = e.now()
	return e
}

// peer returns a second storage over the keys of e.s, from the harness's
// MakePeer, closed when the rule ends (before e.s). Only rules marked
// twoStorages call it.
func (e *env) peer() limiter.Storage {
	e.t.Helper()
	sh, ok := e.h.(SharingHarness)
	if !ok {
		e.t.Fatalf("rule %s: the harness does not implement conformance.SharingHarness", e.rule)
	}
	p, err := sh.MakePeer(e.ctx, e.storageClock, e.s)
	switch {
	case err != nil:
		e.t.Fatalf("rule %s: make peer storage: %v", e.rule, err)
	case p == nil:
		e.t.Fatalf("rule %s: MakePeer returned a nil storage", e.rule)
	case p == e.s:
		e.t.Fatalf("rule %s: MakePeer returned the storage it was given; want a second storage over its keys", e.rule)
	}
	e.t.Cleanup(func() { _ = p.Close() })
	return p
}

// exact reports whether the suite drives the storage's clock, so every
// instant and edge is exact.
func (e *env) exact() bool { return e.clock != nil }

// now returns the current instant of the suite's time source.
func (e *env) now() time.Time {
	if e.clock != nil {
		return e.clock.Now()
	}
	return time.Now()
}

// at moves time to t0 + d and returns that instant: the injected clock is
// set there, or the suite sleeps until it has passed.
func (e *env) at(d time.Duration) time.Time {
	t := e.t0.Add(d)
	e.stepTo(t)
	return t
}

// stepTo moves time to t, as at does.
func (e *env) stepTo(t time.Time) {
	if e.clock != nil {
		e.clock.Set(t)
		return
	}
	if late := time.Since(t); late > realMargin/2 {
		e.t.Logf("rule %s: running %v behind schedule; a storage that keeps its own time may see the wrong instant", e.rule, late)
		e.slip(late)
	}
	time.Sleep(time.Until(t))
}

// before moves time to just before edge: 1ns before with an injected clock,
// realMargin before otherwise. It returns the instant.
func (e *env) before(edge time.Time) time.Time {
	t := edge.Add(-time.Nanosecond)
	if !e.exact() {
		t = edge.Add(-realMargin)
	}
	e.stepTo(t)
	return t
}

// after moves time to edge itself (state is dead "from that instant on")
// with an injected clock, otherwise realMargin after it plus the most any
// call of the rule returned after its request's Now (an edge a storage on
// its own clock reported lies that much early at most). It returns the
// instant.
func (e *env) after(edge time.Time) time.Time {
	t := edge
	if !e.exact() {
		t = edge.Add(e.margin())
	}
	e.stepTo(t)
	return t
}

// key returns a key unique to this run of the rule.
func (e *env) key(name string) string {
	k := e.prefix + name
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.keys == nil {
		e.keys = make(map[string]bool)
	}
	e.keys[k] = true
	return k
}

// perSecond returns a limit of amount per one second.
func perSecond(amount int64) limiter.Limit {
	return limiter.Limit{Amount: amount, Multiples: 1, Unit: limiter.Second}
}

// burstWindow is the window of the limits rules send bursts against when
// the storage keeps its own time: long against the time a burst of calls
// takes on a loaded machine, so a storage whose clock runs on while the
// burst is sent sees no token come back and no count decay meanwhile.
const burstWindow = 5 * time.Second

// burstLimit returns the limit of a rule that sends several calls "at one
// instant" and counts exactly: amount per second with an injected clock,
// amount per burstWindow otherwise.
func (e *env) burstLimit(amount int64) limiter.Limit {
	if e.exact() {
		return perSecond(amount)
	}
	return limiter.Limit{Amount: amount, Multiples: int64(burstWindow / time.Second), Unit: limiter.Second}
}

// burstStart returns the instant a burst against a burstLimit starts at:
// t0 with an injected clock. On real time it first waits out the end of a
// window aligned to burstWindow if less than a quarter of it is left (a
// sliding window's count starts to decay the moment its window ends), and
// makes the instant it returns the rule's t0.
func (e *env) burstStart() time.Time {
	if e.exact() {
		return e.at(0)
	}
	now := time.Now()
	end := now.Truncate(burstWindow).Add(burstWindow)
	if end.Sub(now) < burstWindow/4 {
		time.Sleep(time.Until(end.Add(realMargin / 10)))
	}
	e.t0 = time.Now()
	return e.t0
}

// perDay returns a limit of amount per day, for rules that must not see a
// window end while they run.
func perDay(amount int64) limiter.Limit {
	return limiter.Limit{Amount: amount, Multiples: 1, Unit: limiter.Day}
}

func req(key string, l limiter.Limit, cost int64, at time.Time) limiter.Request {
	return limiter.Request{Key: key, Limit: l, Cost: cost, Now: at}
}

// errorf reports a broken rule, naming it.
func (e *env) errorf(format string, args ...any) {
	e.t.Helper()
	msg := fmt.Sprintf("rule %s broken: %s", e.rule, fmt.Sprintf(format, args...))
	if !e.exact() {
		e.broken = append(e.broken, msg)
		return
	}
	e.t.Error(msg)
}

// fatalf reports a broken rule, naming it, and stops the rule.
func (e *env) fatalf(format string, args ...any) {
	e.t.Helper()
	msg := fmt.Sprintf("rule %s broken: %s", e.rule, fmt.Sprintf(format, args...))
	if !e.exact() {
		e.broken = append(e.broken, msg)
		panic(errStopRule)
	}
	e.t.Fatal(msg)
}

// rel renders an instant relative to t0, the way failure messages show
// time.
func (e *env) rel(t time.Time) string {
	if t.IsZero() {
		return "(any)"
	}
	d := t.Sub(e.t0)
	if d < 0 {
		return "t0-" + (-d).String()
	}
	return "t0+" + d.String()
}

// slip notes that the attempt ran late behind its schedule.
func (e *env) slip(late time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.slipped = max(e.slipped, late)
}

// slippedBy returns the most the attempt ran behind its schedule, 0 if it
// kept to it.
func (e *env) slippedBy() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.slipped
}

// observe notes how late a call on r returned, measured from r.Now, when
// the storage keeps its own time. A call that returned more than
// realMargin/2 late counts as the schedule slipping, as stepTo arriving
// that late does: the storage may have decided that late (the first call
// of a rule on a client that has to connect or load its scripts, on a
// loaded machine), and the margin after then adds for it can take the
// suite past a later edge of the rule. In MovingWindow/ExactAtWindowEdge
// a first hit 200ms late makes after(t0+1s) step to t0+1.45s, where the
// hit taken at t0+400ms has left the window too.
func (e *env) observe(r limiter.Request) {
	if e.exact() {
		return
	}
	late := time.Since(r.Now)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.late = max(e.late, late)
	if late > realMargin/2 {
		e.slipped = max(e.slipped, late)
	}
}

// sameInstant compares a reported instant with the expected one: exactly
// with an injected clock, otherwise within realMargin plus the most any
// call of the rule so far returned after its request's Now. A storage on
// its own clock decides at some instant of the call, and reports instants
// relative to that one (or to an earlier call's, such as the start of a
// window a burst opened), so each is off by up to how late the calls ran.
func (e *env) sameInstant(got, want time.Time) bool {
	if e.exact() {
		return got.Equal(want)
	}
	margin := e.margin()
	d := got.Sub(want)
	return d <= margin && d >= -margin
}

// margin is how far sameInstant lets a reported instant stray on real time.
func (e *env) margin() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return realMargin + e.late
}

// within renders, for failure messages on real time, how far instants may
// stray.
func (e *env) within() string {
	if e.exact() {
		return ""
	}
	return fmt.Sprintf(" (instants within ±%v)", e.margin())
}

// sameDuration compares durations like sameInstant.
func (e *env) sameDuration(got, want time.Duration) bool {
	return e.sameInstant(e.t0.Add(got), e.t0.Add(want))
}

// want is an expected State; zero instants are not checked.
type want struct {
	allowed   bool
	remaining int64
	resetAt   time.Time
	retryAt   time.Time
}

func (e *env) showState(s limiter.State) string {
	return e.show(s.Allowed, s.Remaining, unixTime(s.ResetAt), unixTime(s.RetryAt))
}

func (e *env) show(allowed bool, remaining int64, resetAt, retryAt time.Time) string {
	return fmt.Sprintf("{Allowed:%v Remaining:%d ResetAt:%s RetryAt:%s}", allowed, remaining, e.rel(resetAt), e.rel(retryAt))
}

// unixTime returns a State's instant, Unix nanoseconds, as a time.
func unixTime(ns int64) time.Time { return time.Unix(0, ns) }

// check compares a State with what the rule expects.
func (e *env) check(op string, got limiter.State, w want) {
	e.t.Helper()
	ok := got.Allowed == w.allowed && got.Remaining == w.remaining &&
		(w.resetAt.IsZero() || e.sameInstant(unixTime(got.ResetAt), w.resetAt)) &&
		(w.retryAt.IsZero() || e.sameInstant(unixTime(got.RetryAt), w.retryAt))
	if !ok {
		e.errorf("%s = %s, want %s%s", op, e.showState(got),
			e.show(w.allowed, w.remaining, w.resetAt, w.retryAt), e.within())
	}
}

// describe renders a request for failure messages.
func (e *env) describe(verb string, r limiter.Request) string {
	return fmt.Sprintf("%s(key %q, %v, cost %d) at %s", verb, shorten(r.Key, e.prefix), r.Limit, r.Cost, e.rel(r.Now))
}

// shorten drops the rule's prefix from a key and elides long keys.
func shorten(key, prefix string) string {
	if len(key) >= len(prefix) && key[:len(prefix)] == prefix {
		key = "…" + key[len(prefix):]
	}
	if len(key) > 60 {
		key = key[:40] + fmt.Sprintf("…(%d bytes)", len(key))
	}
	return key
}

// must stops the rule on an unexpected backend error.
func (e *env) must(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.fatalf("%s: unexpected error: %v", what, err)
	}
}

// acquireFixed calls AcquireFixedWindow and fails the rule on error.
func (e *env) acquireFixed(key string, l limiter.Limit, cost int64, at time.Time, elastic bool) (limiter.State, string) {
	e.t.Helper()
	r := req(key, l, cost, at)
	op := e.describe(fmt.Sprintf("AcquireFixedWindow[elastic=%v]", elastic), r)
	st, err := e.s.AcquireFixedWindow(e.ctx, r, elastic)
	e.observe(r)
	e.must(op, err)
	return st, op
}

// peekFixed calls PeekFixedWindow and fails the rule on error.
func (e *env) peekFixed(key string, l limiter.Limit, cost int64, at time.Time) (limiter.State, string) {
	e.t.Helper()
	r := req(key, l, cost, at)
	op := e.describe("PeekFixedWindow", r)
	st, err := e.s.PeekFixedWindow(e.ctx, r)
	e.observe(r)
	e.must(op, err)
	return st, op
}

// acquire calls the raw acquire operation of the algorithm under test.
func (e *env) acquire(key string, l limiter.Limit, cost int64, at time.Time) (limiter.State, string) {
	e.t.Helper()
	return e.call(e.algo.acquire, e.algo.acquireName, key, l, cost, at)
}

// peek calls the raw peek operation of the algorithm under test.
func (e *env) peek(key string, l limiter.Limit, cost int64, at time.Time) (limiter.State, string) {
	e.t.Helper()
	return e.call(e.algo.peek, e.algo.peekName, key, l, cost, at)
}

func (e *env) call(op rawOp, name, key string, l limiter.Limit, cost int64, at time.Time) (limiter.State, string) {
	e.t.Helper()
	r := req(key, l, cost, at)
	desc := e.describe(name, r)
	st, err := op(e.ctx, e.s, r)
	e.observe(r)
	e.must(desc, err)
	return st, desc
}

// strategy builds the strategy under test over the storage.
func (e *env) strategy() limiter.Strategy {
	e.t.Helper()
	st, err := limiter.NewStrategy(e.algo.strategy, e.s)
	if err != nil {
		e.fatalf("limiter.NewStrategy(%q): %v", e.algo.strategy, err)
	}
	return st
}

// hit calls Strategy.Hit and fails the rule on error.
func (e *env) hit(st limiter.Strategy, key string, l limiter.Limit, cost int64, at time.Time) (limiter.Result, string) {
	e.t.Helper()
	r := req(key, l, cost, at)
	op := e.describe(st.Name()+" Hit", r)
	res, err := st.Hit(e.ctx, r)
	e.observe(r)
	e.must(op, err)
	return res, op
}

// test calls Strategy.Test and fails the rule on error.
func (e *env) test(st limiter.Strategy, key string, l limiter.Limit, cost int64, at time.Time) (limiter.Result, string) {
	e.t.Helper()
	r := req(key, l, cost, at)
	op := e.describe(st.Name()+" Test", r)
	res, err := st.Test(e.ctx, r)
	e.observe(r)
	e.must(op, err)
	return res, op
}

// anyDuration marks a RetryAfter the rule does not check.
const anyDuration = time.Duration(-1)

// checkResult compares a strategy's Result with what the rule expects.
func (e *env) checkResult(op string, got limiter.Result, l limiter.Limit, allowed bool, remaining int64, retryAfter time.Duration) {
	e.t.Helper()
	ok := got.Allowed == allowed && got.Remaining == remaining && got.Limit == l &&
		(retryAfter == anyDuration || e.sameDuration(got.RetryAfter, retryAfter))
	if !ok {
		ra := "(any)"
		if retryAfter != anyDuration {
			ra = retryAfter.String()
		}
		e.errorf("%s = {Allowed:%v Remaining:%d Limit:%v RetryAfter:%v}, want {Allowed:%v Remaining:%d Limit:%v RetryAfter:%s}%s",
			op, got.Allowed, got.Remaining, got.Limit, got.RetryAfter, allowed, remaining, l, ra, e.within())
	}
}

// wantErrIs checks that err wraps target.
func (e *env) wantErrIs(op string, err, target error) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.errorf("%s: error = %v, want one wrapping %v", op, err, target)
	}
}
