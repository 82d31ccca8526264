package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/limits-go/limits/limiter"
)

// suiteInfo is what the suite learns from the first harness: which rules
// apply and how time is kept.
type suiteInfo struct {
	caps         Capabilities
	acceptsClock bool
	sharing      bool // the harness is a SharingHarness
}

// Run checks the storages made by newHarness against every rule of the
// [limiter.Storage] contract and of every strategy the storage supports.
// Each rule is a subtest with a stable name, such as
// "FixedWindow/ExpirySetOnceOnCreation" or
// "Concurrency/OneKey100Goroutines/moving-window", and every failure message
// starts with "rule <name> broken:".
//
// Run first calls newHarness once to read the capabilities and the clock
// mode (closing that harness straight away), then once per rule, closing the
// storage and the harness when the rule ends. Rules for a capability the
// harness does not declare are skipped with the reason. With a harness whose
// AcceptsClock is false the rules run concurrently on real time with windows
// of one to five seconds (the Keys and Concurrency groups, which send many
// calls, after the others), so a run against a real server takes about ten
// seconds; with an injected clock they run one after another and take no
// time at all.
func Run(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	h, err := newHarness(t.Context(), t)
	if err != nil {
		t.Fatalf("conformance: make harness: %v", err)
	}
	_, sharing := h.(SharingHarness)
	info := suiteInfo{caps: h.Capabilities(), acceptsClock: h.AcceptsClock(), sharing: sharing}
	h.Close()
	// On real time, every rule runs at once so their waits overlap. Calling
	// t.Run from several goroutines does that without t.Parallel, whose
	// concurrency -parallel (GOMAXPROCS by default) would cap.
	each := func(n int, f func(i int)) {
		if info.acceptsClock {
			for i := range n {
				f(i)
			}
			return
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { f(i) })
		}
		wg.Wait()
	}
	// On real time, the groups that send many calls run after the others,
	// so the load they make does not delay the calls of rules that count on
	// time.
	var phases [][]group
	if info.acceptsClock {
		phases = [][]group{suite()}
	} else {
		var timed, heavy []group
		for _, g := range suite() {
			if g.heavy {
				heavy = append(heavy, g)
			} else {
				timed = append(timed, g)
			}
		}
		phases = [][]group{timed, heavy}
	}
	for _, groups := range phases {
		runGroups(t, groups, each, newHarness, info)
	}
}

// runGroups runs groups as subtests of t, through each.
func runGroups(t *testing.T, groups []group, each func(n int, f func(i int)), newHarness HarnessMaker, info suiteInfo) {
	t.Helper()
	each(len(groups), func(i int) {
		g := groups[i]
		t.Run(g.name, func(t *testing.T) {
			each(len(g.rules), func(i int) {
				r := g.rules[i]
				t.Run(r.name, func(t *testing.T) {
					if !r.perStrategy {
						runRule(t, g.name+"/"+r.name, r, algorithm{}, newHarness, info)
						return
					}
					each(len(algorithms), func(i int) {
						a := algorithms[i]
						t.Run(a.strategy, func(t *testing.T) {
							runRule(t, g.name+"/"+r.name+"/"+a.strategy, r, a, newHarness, info)
						})
					})
				})
			})
		})
	})
}

func runRule(t *testing.T, name string, r rule, a algorithm, newHarness HarnessMaker, info suiteInfo) {
	t.Helper()
	if r.perStrategy && !r.anyStrategy && !a.supported(info.caps) {
		t.Skipf("rule %s does not apply: the storage does not implement limiter.%s (Capabilities().%s is false)", name, a.capability, a.capabilityField)
	}
	if r.needs != nil && !r.needs.has(info.caps) {
		t.Skipf("rule %s does not apply: the storage does not implement limiter.%s (Capabilities().%s is false)", name, r.needs.iface, r.needs.field)
	}
	if r.exactOnly && !info.acceptsClock {
		t.Skipf("rule %s needs an injected clock; the harness's AcceptsClock is false", name)
	}
	if r.twoStorages && !info.sharing {
		t.Skipf("rule %s needs two storages over the same keys; the harness does not implement conformance.SharingHarness", name)
	}
	retryRule(t, name, func() *env {
		e := newEnv(t, name, newHarness, info)
		e.algo = a
		return e
	}, r.run)
}

// retryRule runs a rule on a fresh env from newEnv. When the rule fails on
// real time after the suite fell behind its schedule, it runs it again, up
// to realAttempts times, and reports the failures of the last attempt.
func retryRule(t testing.TB, name string, newEnv func() *env, run func(*env)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		e := newEnv()
		attemptRule(run, e)
		if len(e.broken) == 0 {
			return
		}
		slipped := e.slippedBy()
		if slipped == 0 || attempt == realAttempts {
			for _, msg := range e.broken {
				t.Error(msg)
			}
			return
		}
		t.Logf("rule %s: attempt %d of %d ran up to %v behind schedule and failed (%s); running it again",
			name, attempt, realAttempts, slipped, e.broken[0])
	}
}

// realAttempts is how many times a rule runs on real time when each run
// fails after the suite fell behind its schedule: a loaded machine, not the
// storage, may have broken it.
const realAttempts = 3

// attemptRule runs a rule once, returning when it ends or stops with
// errStopRule.
func attemptRule(run func(*env), e *env) {
	defer func() {
		if p := recover(); p != nil && p != errStopRule {
			panic(p)
		}
	}()
	run(e)
}

// A group is a set of rules about one part of the contract; its name is the
// first element of the rules' names.
type group struct {
	name  string
	rules []rule
	heavy bool // sends many calls, and none of its rules is sensitive to timing
}

// A rule is one checked statement of the contract.
type rule struct {
	name string
	// perStrategy runs the rule once per strategy, as subtests named after
	// the strategies; those whose capability is missing are skipped unless
	// anyStrategy is set (the rule is about the missing capability).
	perStrategy bool
	anyStrategy bool
	needs       *capability // the optional interface the rule needs, if any
	exactOnly   bool        // needs an injected clock
	twoStorages bool        // needs a SharingHarness (env.peer)
	run         func(e *env)
}

// A capability is an optional storage interface.
type capability struct {
	iface string // the limiter interface's name
	field string // the Capabilities field declaring it
	has   func(Capabilities) bool
	impl  func(limiter.Storage) bool
}

var (
	capMovingWindow = &capability{"MovingWindowStorage", "MovingWindow",
		func(c Capabilities) bool { return c.MovingWindow },
		func(s limiter.Storage) bool { _, ok := s.(limiter.MovingWindowStorage); return ok }}
	capSlidingWindow = &capability{"SlidingWindowStorage", "SlidingWindow",
		func(c Capabilities) bool { return c.SlidingWindow },
		func(s limiter.Storage) bool { _, ok := s.(limiter.SlidingWindowStorage); return ok }}
	capTokenBucket = &capability{"TokenBucketStorage", "TokenBucket",
		func(c Capabilities) bool { return c.TokenBucket },
		func(s limiter.Storage) bool { _, ok := s.(limiter.TokenBucketStorage); return ok }}
	capResetAll = &capability{"ResetAller", "ResetAll",
		func(c Capabilities) bool { return c.ResetAll },
		func(s limiter.Storage) bool { _, ok := s.(limiter.ResetAller); return ok }}
	capBatch = &capability{"BatchStorage", "Batch",
		func(c Capabilities) bool { return c.Batch },
		func(s limiter.Storage) bool { _, ok := s.(limiter.BatchStorage); return ok }}
	capabilities = []*capability{capMovingWindow, capSlidingWindow, capTokenBucket, capResetAll, capBatch}
)

// rawOp is one raw storage operation of an algorithm.
type rawOp func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error)

// An algorithm ties a strategy name to its raw storage operations.
type algorithm struct {
	strategy        string
	capability      string // the limiter interface it needs, for skip messages
	capabilityField string
	needs           *capability // nil for the required interface
	acquire, peek   rawOp
	acquireName     string
	peekName        string
}

func (a algorithm) supported(c Capabilities) bool { return a.needs == nil || a.needs.has(c) }

// unsupported is the error a raw operation returns when the storage lacks
// the interface the harness declared.
func unsupported(s limiter.Storage, iface string) error {
	return fmt.Errorf("conformance: %T does not implement limiter.%s although the harness declares it: %w", s, iface, limiter.ErrUnsupported)
}

var algorithms = []algorithm{
	{
		strategy: limiter.StrategyFixedWindow, capability: "Storage", capabilityField: "-",
		acquire: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			return s.AcquireFixedWindow(ctx, r, false)
		},
		peek: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			return s.PeekFixedWindow(ctx, r)
		},
		acquireName: "AcquireFixedWindow[elastic=false]", peekName: "PeekFixedWindow",
	},
	{
		strategy: limiter.StrategyFixedWindowElasticExpiry, capability: "Storage", capabilityField: "-",
		acquire: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			return s.AcquireFixedWindow(ctx, r, true)
		},
		peek: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			return s.PeekFixedWindow(ctx, r)
		},
		acquireName: "AcquireFixedWindow[elastic=true]", peekName: "PeekFixedWindow",
	},
	{
		strategy: limiter.StrategyMovingWindow, capability: capMovingWindow.iface, capabilityField: capMovingWindow.field, needs: capMovingWindow,
		acquire: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.MovingWindowStorage); ok {
				return m.AcquireMovingWindow(ctx, r)
			}
			return limiter.State{}, unsupported(s, capMovingWindow.iface)
		},
		peek: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.MovingWindowStorage); ok {
				return m.PeekMovingWindow(ctx, r)
			}
			return limiter.State{}, unsupported(s, capMovingWindow.iface)
		},
		acquireName: "AcquireMovingWindow", peekName: "PeekMovingWindow",
	},
	{
		strategy: limiter.StrategySlidingWindowCounter, capability: capSlidingWindow.iface, capabilityField: capSlidingWindow.field, needs: capSlidingWindow,
		acquire: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.SlidingWindowStorage); ok {
				return m.AcquireSlidingWindow(ctx, r)
			}
			return limiter.State{}, unsupported(s, capSlidingWindow.iface)
		},
		peek: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.SlidingWindowStorage); ok {
				return m.PeekSlidingWindow(ctx, r)
			}
			return limiter.State{}, unsupported(s, capSlidingWindow.iface)
		},
		acquireName: "AcquireSlidingWindow", peekName: "PeekSlidingWindow",
	},
	{
		strategy: limiter.StrategyTokenBucket, capability: capTokenBucket.iface, capabilityField: capTokenBucket.field, needs: capTokenBucket,
		acquire: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.TokenBucketStorage); ok {
				return m.AcquireTokenBucket(ctx, r)
			}
			return limiter.State{}, unsupported(s, capTokenBucket.iface)
		},
		peek: func(ctx context.Context, s limiter.Storage, r limiter.Request) (limiter.State, error) {
			if m, ok := s.(limiter.TokenBucketStorage); ok {
				return m.PeekTokenBucket(ctx, r)
			}
			return limiter.State{}, unsupported(s, capTokenBucket.iface)
		},
		acquireName: "AcquireTokenBucket", peekName: "PeekTokenBucket",
	},
}

// suite returns every group of rules, in the order they run.
func suite() []group {
	return []group{
		{"Capabilities", capabilityRules(), false},
		{"FixedWindow", fixedWindowRules(), false},
		{"Peek", peekRules(), false},
		{"Strategy", strategyRules(), false},
		{"MovingWindow", movingWindowRules(), false},
		{"SlidingWindow", slidingWindowRules(), false},
		{"TokenBucket", tokenBucketRules(), false},
		{"Windows", windowRules(), false},
		{"Batch", batchRules(), false},
		{"Keys", keyRules(), true},
		{"Clear", clearRules(), false},
		{"ResetAll", resetAllRules(), false},
		{"Check", checkRules(), false},
		{"Context", contextRules(), false},
		{"Close", closeRules(), false},
		{"Concurrency", concurrencyRules(), true},
	}
}
