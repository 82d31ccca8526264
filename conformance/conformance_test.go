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
	"time"

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
	t.Parallel()
	conformance.Run(t, refHarness{}.maker())
}

// A storage that decides on its own clock, like a server, passes with real
// time: the suite's margins absorb the difference from the request's Now.
func TestServerClockStorageOnRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps through one-second windows; skipped with -short")
	}
	t.Parallel()
	conformance.Run(t, refHarness{serverClock: true}.maker())
}

// A storage on its own clock whose calls each take 40ms, as calls to a
// server on a loaded machine do, passes too: the rules that send bursts use
// windows long against the time the burst takes.
func TestLaggingServerClockStorageOnRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps through one-second windows; skipped with -short")
	}
	t.Parallel()
	conformance.Run(t, refHarness{serverClock: true, lag: 40 * time.Millisecond}.maker())
}

// A storage with no optional capability passes: their rules are skipped and
// the strategies that need them fail at construction.
func TestStorageWithoutCapabilities(t *testing.T) {
	conformance.Run(t, refHarness{acceptsClock: true, fixedOnly: true}.maker())
}

// The storage of ExampleRun passes, with the one-line test its
// documentation shows.
func TestExampleHarness(t *testing.T) {
	conformance.Run(t, newCounterHarness)
}

// Storages over one backend, as two processes', pass the rules that hit
// through both.
func TestSharingStorages(t *testing.T) {
	conformance.Run(t, sharingHarness{}.maker())
}

// A storage that batches but has no optional strategy passes: its batches
// under the other strategies fail with limiter.ErrUnsupported.
func TestBatchStorageWithoutCapabilities(t *testing.T) {
	conformance.Run(t, refHarness{acceptsClock: true, fixedOnly: true, batch: true}.maker())
}

// brokenEnv names the fault TestBrokenSuite plants, and brokenRealTimeEnv
// (set to 1) makes the broken storage keep its own time; only the child
// process started by TestBrokenStoragesFailByRuleName sets them.
const (
	brokenEnv         = "CONFORMANCE_SELFTEST_FAULT"
	brokenRealTimeEnv = "CONFORMANCE_SELFTEST_REAL_TIME"
)

// TestBrokenSuite runs the suite against a broken storage. It is meant to
// fail: TestBrokenStoragesFailByRuleName runs it in a child process and
// reads which rules failed.
func TestBrokenSuite(t *testing.T) {
	f := fault(os.Getenv(brokenEnv))
	if f == faultNone {
		t.Skip("run by TestBrokenStoragesFailByRuleName in a child process")
	}
	if f == faultProcessLock {
		conformance.Run(t, sharingHarness{fault: faultNonAtomic}.maker())
		return
	}
	if f == faultProcessSplit {
		conformance.Run(t, sharingHarness{fault: faultSplitRMW}.maker())
		return
	}
	if os.Getenv(brokenRealTimeEnv) == "1" {
		conformance.Run(t, refHarness{fault: f, serverClock: true}.maker())
		return
	}
	conformance.Run(t, refHarness{fault: f, acceptsClock: true}.maker())
}

var failLine = regexp.MustCompile(`^\s*--- FAIL: TestBrokenSuite/(\S+)`)

func TestBrokenStoragesFailByRuleName(t *testing.T) {
	t.Parallel()
	all := limiter.Strategies()
	each := func(rule string) []string {
		var out []string
		for _, s := range all {
			out = append(out, rule+"/"+s)
		}
		return out
	}
	tests := []struct {
		fault    fault
		realTime bool     // the storage keeps its own time
		want     []string // rules that must fail
		keep     []string // rules that must still pass
	}{
		{faultOffByOne, false,
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/fixed-window",
				"Strategy/AllowsAmountThenRejects/fixed-window-elastic-expiry", "Concurrency/OneKey100Goroutines/fixed-window",
				"Concurrency/OneKey8Goroutines1000Hits/fixed-window"},
			[]string{"Strategy/AllowsAmountThenRejects/moving-window", "Keys/IsolatedFromEachOther/token-bucket", "Close/SecondCloseReturnsNil"}},
		{faultNoExpiry, false,
			[]string{"FixedWindow/ExpirySetOnceOnCreation", "FixedWindow/ExpiredCounterStartsAfresh",
				"Peek/ExpiredKeyLooksMissing/fixed-window", "Strategy/FullCapacityByResetAt/fixed-window",
				"FixedWindow/PlainWindowEndsDespiteHammering"},
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/FullCapacityByResetAt/moving-window"}},
		{faultNonAtomic, false,
			slices.Concat(each("Concurrency/OneKey100Goroutines"), each("Concurrency/OneKey8Goroutines1000Hits")),
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/token-bucket"}},
		{faultTruncateKeys, false,
			each("Keys/IsolatedFromEachOther"),
			[]string{"FixedWindow/CountsUpToAmount", "Clear/LeavesOtherKeysAlone"}},
		{faultHiddenCap, false,
			[]string{"Capabilities/DeclarationMatchesStorage", "MovingWindow/ExactAtWindowEdge",
				"Strategy/AllowsAmountThenRejects/token-bucket"},
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/fixed-window"}},
		{faultCoarseClock, false,
			[]string{"SlidingWindow/BucketShiftAndDecay", "TokenBucket/RefillsEvenly", "MovingWindow/ExactAtWindowEdge"},
			[]string{"FixedWindow/CountsUpToAmount", "Keys/IsolatedFromEachOther/token-bucket"}},
		{faultOneUnit, false,
			each("Windows/MultiplesScaleTheWindow"),
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/token-bucket"}},
		{faultBatchNoStop, false,
			each("Batch/StopsAtFirstRejection"),
			[]string{"Batch/PeekStepsDoNotCount/fixed-window", "FixedWindow/CountsUpToAmount"}},
		{faultBatchPeeks, false,
			slices.Concat(each("Batch/PeekStepsDoNotCount"), each("Batch/MatchesSingleKeyCalls")),
			[]string{"Peek/DoesNotCount/fixed-window", "Strategy/TestDoesNotCount/token-bucket"}},
		{faultBatchFixed, false,
			[]string{"Batch/MatchesSingleKeyCalls/moving-window", "Batch/MatchesSingleKeyCalls/sliding-window-counter",
				"Batch/MatchesSingleKeyCalls/token-bucket"},
			[]string{"Batch/MatchesSingleKeyCalls/fixed-window", "Batch/StopsAtFirstRejection/fixed-window"}},
		{faultClearCurrent, false,
			[]string{"Clear/ForgetsPreviousSlidingWindow"},
			[]string{"Clear/ForgetsEveryStrategysState", "Strategy/ClearForgets/sliding-window-counter"}},
		{faultPeekCreates, false,
			[]string{"Peek/DoesNotStartWindow/fixed-window"},
			[]string{"Peek/DoesNotCount/fixed-window", "Peek/MissingKey/fixed-window", "Peek/DoesNotStartWindow/moving-window"}},
		{faultBucketWindow, false,
			[]string{"TokenBucket/BurstNeverExceedsAmount"},
			[]string{"TokenBucket/RefillsEvenly", "Strategy/AllowsAmountThenRejects/token-bucket"}},
		{faultClearGlob, false,
			[]string{"Clear/LeavesOtherKeysAlone"},
			[]string{"Clear/ForgetsEveryStrategysState", "Strategy/ClearForgets/moving-window"}},
		{faultElasticLast, false,
			[]string{"FixedWindow/ElasticExpiryNeverMovesEarlier"},
			[]string{"FixedWindow/ElasticExpiryExtendsOnEveryHit", "FixedWindow/ElasticHammeringStaysLockedOut"}},
		// Atomic within one storage only: the rules over one storage
		// pass, the one through two fails.
		{faultProcessLock, false,
			[]string{"Concurrency/TwoStoragesOneKey/fixed-window"},
			[]string{"Concurrency/OneKey100Goroutines/fixed-window", "Concurrency/OneKey8Goroutines1000Hits/fixed-window",
				"FixedWindow/CountsUpToAmount"}},
		// The same over a backend that answers at once: only the first
		// few of a burst's hits can race, so the rule must also send
		// many that each count.
		{faultProcessSplit, false,
			[]string{"Concurrency/TwoStoragesOneKey/fixed-window"},
			[]string{"Concurrency/OneKey100Goroutines/fixed-window", "Concurrency/OneKey8Goroutines1000Hits/fixed-window",
				"FixedWindow/CountsUpToAmount"}},
		// On real time the same faults still fail by name.
		{faultOffByOne, true,
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/fixed-window",
				"Strategy/AllowsAmountThenRejects/fixed-window-elastic-expiry"},
			[]string{"Strategy/AllowsAmountThenRejects/token-bucket", "SlidingWindow/BucketShiftAndDecay"}},
		{faultNoExpiry, true,
			[]string{"FixedWindow/ExpirySetOnceOnCreation", "FixedWindow/ExpiredCounterStartsAfresh",
				"Peek/ExpiredKeyLooksMissing/fixed-window", "Strategy/FullCapacityByResetAt/fixed-window"},
			[]string{"FixedWindow/CountsUpToAmount", "TokenBucket/RefillsEvenly"}},
		{faultCoarseClock, true,
			[]string{"SlidingWindow/BucketShiftAndDecay", "TokenBucket/RefillsEvenly"},
			[]string{"FixedWindow/CountsUpToAmount", "Strategy/AllowsAmountThenRejects/token-bucket"}},
		{faultOneUnit, true,
			each("Windows/LongerThan30Days"),
			[]string{"FixedWindow/CountsUpToAmount", "Clear/LeavesOtherKeysAlone"}},
		{faultBatchNoStop, true,
			each("Batch/StopsAtFirstRejection"),
			[]string{"Batch/PeekStepsDoNotCount/fixed-window", "FixedWindow/CountsUpToAmount"}},
		{faultPeekCreates, true,
			[]string{"Peek/DoesNotStartWindow/fixed-window"},
			[]string{"Peek/DoesNotCount/fixed-window", "Peek/DoesNotStartWindow/token-bucket"}},
		{faultClearCurrent, true,
			[]string{"Clear/ForgetsPreviousSlidingWindow"},
			[]string{"Clear/ForgetsEveryStrategysState", "Strategy/ClearForgets/sliding-window-counter"}},
	}
	for _, tt := range tests {
		name := string(tt.fault)
		if tt.realTime {
			if testing.Short() {
				continue
			}
			name += "/real-time"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenSuite$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+string(tt.fault))
			if tt.realTime {
				cmd.Env = append(cmd.Env, brokenRealTimeEnv+"=1")
			}
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
