package conformance

import (
	"fmt"
	"testing"
	"time"
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
