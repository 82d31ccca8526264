package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// recorder is a testing.TB that keeps the errors reported to it instead of
// failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }

// TestRuleRetriedWhenScheduleSlipped runs rules on real time whose attempts
// fail, and checks when retryRule runs them again: only after an attempt
// that fell behind schedule, at most realAttempts times, reporting the
// last attempt's failures by the rule's name.
func TestRuleRetriedWhenScheduleSlipped(t *testing.T) {
	cases := []struct {
		name         string
		failAttempts int  // attempts that fail, from the first
		slip         bool // whether failing attempts fall behind schedule
		stop         bool // fail with fatalf rather than errorf
		wantRuns     int
		wantErrors   []string
	}{
		{name: "passes", wantRuns: 1},
		{name: "fails on time", failAttempts: 1, wantRuns: 1,
			wantErrors: []string{"rule Probe/probe broken: attempt 1 failed"}},
		{name: "stops on time", failAttempts: 1, stop: true, wantRuns: 1,
			wantErrors: []string{"rule Probe/probe broken: attempt 1 stopped"}},
		{name: "slips once then passes", failAttempts: 1, slip: true, wantRuns: 2},
		{name: "slips and stops once then passes", failAttempts: 1, slip: true, stop: true, wantRuns: 2},
		{name: "slips every time", failAttempts: 99, slip: true, wantRuns: realAttempts,
			wantErrors: []string{fmt.Sprintf("rule Probe/probe broken: attempt %d failed", realAttempts)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := 0
			run := func(e *env) {
				runs++
				if runs > c.failAttempts {
					return
				}
				if c.slip {
					e.stepTo(time.Now().Add(-realMargin))
				}
				if c.stop {
					e.fatalf("attempt %d stopped", runs)
					panic("fatalf returned")
				}
				e.errorf("attempt %d failed", runs)
			}
			rec := &recorder{TB: t}
			// clock is nil: the env runs on real time.
			retryRule(rec, "Probe/probe", func() *env { return &env{t: t, rule: "Probe/probe"} }, run)
			if runs != c.wantRuns || fmt.Sprint(rec.errors) != fmt.Sprint(c.wantErrors) {
				t.Errorf("rule ran %d times reporting %q; want %d times reporting %q", runs, rec.errors, c.wantRuns, c.wantErrors)
			}
		})
	}
}

// TestRuleRetriedAfterLateCall: a call that returned long after its
// request's instant slips the schedule as a late step does, so a rule that
// then fails runs again.
func TestRuleRetriedAfterLateCall(t *testing.T) {
	runs := 0
	run := func(e *env) {
		runs++
		if runs > 1 {
			return
		}
		// A call whose request was made at now - realMargin returns now.
		e.observe(limiter.Request{Now: time.Now().Add(-realMargin)})
		e.errorf("attempt %d failed", runs)
	}
	rec := &recorder{TB: t}
	retryRule(rec, "Probe/probe", func() *env { return &env{t: t, rule: "Probe/probe"} }, run)
	if runs != 2 || len(rec.errors) != 0 {
		t.Errorf("rule ran %d times reporting %q; want 2 times reporting nothing", runs, rec.errors)
	}
}

// firstCallLags is a moving-window storage on its own clock, as a server
// is, whose first call of all lags: as on a loaded machine the first call
// over a shared client can, which must dial and load its scripts.
type firstCallLags struct {
	limiter.Storage // nil: only the moving window is implemented
	lag             *atomic.Bool
	mu              sync.Mutex
	logs            map[string]*limiter.MovingWindow
}

func (s *firstCallLags) AcquireMovingWindow(_ context.Context, r limiter.Request) (limiter.State, error) {
	if s.lag.Swap(false) {
		time.Sleep(300 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.logs[r.Key]
	if w == nil {
		w = &limiter.MovingWindow{}
		s.logs[r.Key] = w
	}
	asked := r.Now
	r.Now = time.Now()
	st := w.Acquire(r)
	shift := asked.UnixNano() - r.Now.UnixNano()
	st.ResetAt += shift
	st.RetryAt += shift
	return st, nil
}

func (s *firstCallLags) PeekMovingWindow(context.Context, limiter.Request) (limiter.State, error) {
	panic("not used")
}

func (s *firstCallLags) Clear(context.Context, string) error { return nil }
func (s *firstCallLags) Close() error                        { return nil }

type firstCallLagsHarness struct{ lag *atomic.Bool }

func (h firstCallLagsHarness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	return &firstCallLags{lag: h.lag, logs: map[string]*limiter.MovingWindow{}}, nil
}
func (firstCallLagsHarness) AcceptsClock() bool { return false }
func (firstCallLagsHarness) Capabilities() Capabilities {
	return Capabilities{MovingWindow: true}
}
func (firstCallLagsHarness) Close() {}

// TestExactAtWindowEdgeAfterLateFirstCall runs MovingWindow/ExactAtWindowEdge
// on real time against a correct storage whose first call decides 300ms
// late (seen on Redis Cluster under load): after then steps 550ms past
// the first hit's window edge, where the hit at t0+400ms has left the
// window too, and the attempt fails. The late call slipped the schedule:
// the rule runs again, without the lag, and passes.
func TestExactAtWindowEdgeAfterLateFirstCall(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	var r rule
	for _, rr := range movingWindowRules() {
		if rr.name == "ExactAtWindowEdge" {
			r = rr
		}
	}
	lag := new(atomic.Bool)
	lag.Store(true)
	maker := func(context.Context, *testing.T) (Harness, error) { return firstCallLagsHarness{lag}, nil }
	info := suiteInfo{caps: Capabilities{MovingWindow: true}}
	const name = "MovingWindow/ExactAtWindowEdge"
	rec := &recorder{TB: t}
	retryRule(rec, name, func() *env { return newEnv(t, name, maker, info) }, r.run)
	if len(rec.errors) != 0 {
		t.Errorf("a correct storage whose first call lagged failed the rule: %q", rec.errors)
	}
	if lag.Load() {
		t.Errorf("the storage's first call did not lag")
	}
}
