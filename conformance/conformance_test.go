package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/limiter"
)

func TestReferenceStorageWithInjectedClock(t *testing.T) {
	conformance.Run(t, refHarness{acceptsClock: true}.maker())
}

func TestReferenceStorageOnRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps through one-second windows; skipped with -short")
	}
	conformance.Run(t, refHarness{}.maker())
}

// A storage that decides on its own clock, like a server, passes with real
// time: the suite's margins absorb the difference from the request's Now.
func TestServerClockStorageOnRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps through one-second windows; skipped with -short")
	}
	conformance.Run(t, refHarness{serverClock: true}.maker())
}

// A storage with no optional capability passes: their rules are skipped and
// the strategies that need them fail at construction.
func TestStorageWithoutCapabilities(t *testing.T) {
	conformance.Run(t, refHarness{acceptsClock: true, fixedOnly: true}.maker())
}

// brokenEnv names the fault TestBrokenSuite plants; only the child process
// started by TestBrokenStoragesFailByRuleName sets it.
const brokenEnv = "CONFORMANCE_SELFTEST_FAULT"

// TestBrokenSuite runs the suite against a broken storage. It is meant to
// fail: TestBrokenStoragesFailByRuleName runs it in a child process and
// reads which rules failed.
func TestBrokenSuite(t *testing.T) {
	f := fault(os.Getenv(brokenEnv))
	if f == faultNone {
		t.Skip("run by TestBrokenStoragesFailByRuleName in a child process")
	}
	conformance.Run(t, refHarness{fault: f, acceptsClock: true}.maker())
}

var failLine = regexp.MustCompile(`^\s*--- FAIL: TestBrokenSuite/(\S+)`)

func TestBrokenStoragesFailByRuleName(t *testing.T) {
	all := limiter.Strategies()
	each := func(rule string) []string {
		var out []string
		for _, s := range all {
			out = append(out, rule+"/"+s)
		}
		return out
	}
	tests := []struct {
		fault fault
		want  []string // rules that must fail
		keep  []string // rules that must still pass
	}{
		{faultOffByOne,
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/fixed-window",
				"Strategy/AllowsAmountThenRejects/fixed-window-elastic-expiry", "Concurrency/OneKey100Goroutines/fixed-window",
				"Concurrency/OneKey8Goroutines1000Hits/fixed-window"},
			[]string{"Strategy/AllowsAmountThenRejects/moving-window", "Keys/IsolatedFromEachOther/token-bucket", "Close/SecondCloseReturnsNil"}},
		{faultNoExpiry,
			[]string{"FixedWindow/ExpirySetOnceOnCreation", "FixedWindow/ExpiredCounterStartsAfresh",
				"Peek/ExpiredKeyLooksMissing/fixed-window", "Strategy/FullCapacityByResetAt/fixed-window",
				"FixedWindow/PlainWindowEndsDespiteHammering"},
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/FullCapacityByResetAt/moving-window"}},
		{faultNonAtomic,
			slices.Concat(each("Concurrency/OneKey100Goroutines"), each("Concurrency/OneKey8Goroutines1000Hits")),
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/token-bucket"}},
		{faultTruncateKeys,
			each("Keys/IsolatedFromEachOther"),
			[]string{"FixedWindow/CountsUpToAmount", "Clear/LeavesOtherKeysAlone"}},
		{faultHiddenCap,
			[]string{"Capabilities/DeclarationMatchesStorage", "MovingWindow/ExactAtWindowEdge",
				"Strategy/AllowsAmountThenRejects/token-bucket"},
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/fixed-window"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenSuite$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+string(tt.fault))
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a storage with fault %q; output:\n%s", tt.fault, out)
			}
			failed := make(map[string]bool)
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if m := failLine.FindStringSubmatch(sc.Text()); m != nil {
					failed[m[1]] = true
				}
			}
			for _, rule := range tt.want {
				if !failed[rule] {
					t.Errorf("fault %q: rule %s did not fail", tt.fault, rule)
				}
				if !strings.Contains(string(out), "rule "+rule+" broken") && !strings.Contains(string(out), "rule "+rule+": ") {
					t.Errorf("fault %q: no failure message names rule %s", tt.fault, rule)
				}
			}
			for _, rule := range tt.keep {
				if failed[rule] {
					t.Errorf("fault %q: rule %s failed, but the fault does not break it", tt.fault, rule)
				}
			}
			if t.Failed() {
				names := make([]string, 0, len(failed))
				for n := range failed {
					names = append(names, n)
				}
				slices.Sort(names)
				t.Logf("rules that failed: %s", strings.Join(names, ", "))
			}
		})
	}
}

func BenchmarkReferenceStorage(b *testing.B) {
	conformance.RunBenchmarks(b, func(context.Context, *testing.B) (conformance.Harness, error) {
		return refHarness{acceptsClock: true}, nil
	})
}
