// Package conformance is the test suite every limits-go storage passes:
// [Run] checks each rule of the limiter.Storage contract and each strategy
// the storage supports, with stable subtest names, in the manner of
// gocloud.dev's drivertest. Third parties run it against their own storage.
//
// # Writing a harness
//
// A [Harness] makes fresh storages, says which optional capabilities they
// have and whether they keep time only through the clock they are given. A
// test hands [Run] a [HarnessMaker]:
//
//	type harness struct {
//		srv    *myServer
//		prefix string // this rule's namespace on the shared server
//	}
//
//	func (h harness) MakeStorage(ctx context.Context, clock limiter.Clock) (limiter.Storage, error) {
//		return mystore.New(h.srv.Client(), mystore.WithKeyPrefix(h.prefix))
//	}
//	// MakePeer is a second process's storage: its own client, the same prefix.
//	func (h harness) MakePeer(ctx context.Context, clock limiter.Clock, _ limiter.Storage) (limiter.Storage, error) {
//		return mystore.New(h.srv.Client(), mystore.WithKeyPrefix(h.prefix))
//	}
//	func (harness) AcceptsClock() bool { return false } // the server expires keys by its own clock
//	func (harness) Capabilities() conformance.Capabilities {
//		return conformance.Capabilities{MovingWindow: true, ResetAll: true}
//	}
//	func (h harness) Close() {}
//
//	func TestConformance(t *testing.T) {
//		srv := startServer(t) // once: every rule's storage gets a prefix of its own on it
//		conformance.Run(t, func(ctx context.Context, t *testing.T) (conformance.Harness, error) {
//			return harness{srv: srv, prefix: uniquePrefix()}, nil
//		})
//	}
//
// [Run]'s example is a complete, passing harness for a small map-based
// storage that implements only the required interface; the limits-go
// repository has another in examples/ownstorage, whose README shows it.
//
// Run calls the maker once up front to read the capabilities, then once per
// rule (over a hundred times, all at once on real time); it closes each
// storage and then its harness when the rule ends. Start servers once, in the
// test, rather than in the maker. MakeStorage must return a storage that
// holds no keys: when several rules share one server, give each storage its
// own namespace (a fresh key prefix). The suite also makes every key unique
// to the rule's run and clears the keys it used when the rule ends.
//
// A storage over a server should also implement [SharingHarness], as the
// harness above does: its MakePeer opens a second storage on the same keys,
// as another process of the application would (its own client, the same
// prefix), and the suite checks that hits through the two are atomic
// together.
//
// A storage that decides on its server's clock still reports every instant
// relative to the request's Now (see limiter.Request): an instant its clock
// puts d after its own now is reported as Request.Now + d. Otherwise a
// server clock a few seconds off the application's would show in every
// ResetAt and RetryAt, and the rules would fail by that much.
//
// # Rules
//
// Every rule is a subtest named "<Group>/<Rule>", or
// "<Group>/<Rule>/<strategy>" for rules checked once per strategy (through
// the public limiter.Strategy, the raw Storage calls, or both), and every
// failure message begins "rule <name> broken:". The names are stable: a
// harness may skip a rule it knowingly breaks with go test -skip.
//
//	Capabilities/DeclarationMatchesStorage          declared capabilities are implemented, and implemented ones declared
//	Capabilities/StrategyConstructionMatchesCapabilities/*  limiter.NewStrategy succeeds, or fails with ErrUnsupported
//	FixedWindow/FirstHitCreatesCounter              a counter expiring at now + window
//	FixedWindow/CountsUpToAmount                    Amount hits allowed, then rejected with RetryAt = expiry
//	FixedWindow/RejectedHitLeavesCountUnchanged     a rejected hit takes nothing
//	FixedWindow/ExpirySetOnceOnCreation             later hits, allowed or not, do not move the expiry
//	FixedWindow/ExpiredCounterStartsAfresh          dead from the expiry instant on; the next hit makes a new counter
//	FixedWindow/ElasticExpiryExtendsOnEveryHit      elastic: every hit, even a rejected one, moves the expiry
//	FixedWindow/ElasticExpiryNeverMovesEarlier      elastic: a hit from a clock behind leaves a later end where it is
//	                                                (injected clock only)
//	FixedWindow/ElasticHammeringStaysLockedOut      elastic strategy: a client that keeps hitting stays rejected
//	FixedWindow/PlainWindowEndsDespiteHammering     plain strategy: the window ends whatever the client does
//	Peek/MissingKey/*                               full capacity, ResetAt = RetryAt = now
//	Peek/DoesNotCount/*                             peeking takes nothing and reports the current state
//	Peek/DoesNotStartWindow/*                       a peek at a missing key leaves it missing: a later hit starts afresh
//	Peek/ReportsFullKey/*                           rejected, with a RetryAt between now and ResetAt
//	Peek/ExpiredKeyLooksMissing/*                   at the reported ResetAt the key is as if missing
//	Strategy/AllowsAmountThenRejects/*              Amount hits, then a rejection with a RetryAfter
//	Strategy/TestDoesNotCount/*                     Strategy.Test takes nothing
//	Strategy/CostAboveOne/*                         a cost takes that many units, or none
//	Strategy/CostAboveAmountNeverAllowed/*          a cost above the amount is rejected and takes nothing
//	Strategy/ZeroAmountRejectsEveryHit/*            a limit of 0 rejects everything
//	Strategy/FullCapacityByResetAt/*                the reported ResetAt is when capacity is full again
//	Strategy/RetryAfterIsExact/*                    rejected just before the reported retry instant, allowed at it
//	Strategy/ClearForgets/*                         Strategy.Clear resets the key
//	Strategy/LimitCheckAgreesWithHits/*             amounts up to limiter.MaxAmount: a fresh key's hit is allowed, or fails
//	                                                with ErrUnsupported exactly where limiter.CheckLimit says so
//	MovingWindow/ExactAtWindowEdge                  a unit counts until exactly one window after it was taken
//	MovingWindow/RejectedHitKeepsLog                a rejected hit drops no unit: a hit from a clock behind still meets
//	                                                them (injected clock only)
//	MovingWindow/RetryAtWaitsForEnoughUnits         RetryAt waits for as many units as the cost needs
//	SlidingWindow/BucketShiftAndDecay               epoch-aligned windows; the previous count decays linearly
//	TokenBucket/RejectedHitKeepsTAT                 a rejected hit keeps even a past TAT, for a hit from a clock behind
//	                                                (injected clock only)
//	TokenBucket/RefillsEvenly                       one token every window/Amount
//	TokenBucket/BurstNeverExceedsAmount             however long the bucket idles, and when window/Amount rounds
//	                                                down far (the bucket holds Amount intervals, not the window;
//	                                                injected clock only)
//	Windows/MultiplesScaleTheWindow/*               "2 per 10 seconds": every instant reported counts the whole window,
//	                                                not one unit, up to full capacity again (injected clock only)
//	Windows/LongerThan30Days/*                      "2 per 12 months" likewise: state outlives 30 days (memcached reads
//	                                                longer expiries as dates); on real time, without waiting
//	Batch/StopsAtFirstRejection/*                   AcquireBatch stops after the first step not allowed, a peek's too:
//	                                                that step counts nothing, later steps do not run
//	Batch/MatchesSingleKeyCalls/*                   each step's State is the single-key Acquire's or Peek's, at its own Now
//	Batch/PeekStepsDoNotCount/*                     peek steps take nothing
//	Batch/StrategyWithoutCapabilityFails            a batch under a strategy the storage lacks wraps limiter.ErrUnsupported
//	Keys/StrategiesKeepSeparateState                one key under several strategies: separate state
//	Keys/IsolatedFromEachOther/*                    keys differing by one byte, with spaces, newlines, NUL, "/", ":",
//	                                                glob characters, unicode, 1 KiB of text: all separate buckets
//	Clear/ForgetsEveryStrategysState                Clear removes the key's state under every capability
//	Clear/ForgetsPreviousSlidingWindow              cleared in the window after its hits, a sliding-window key is fresh
//	Clear/MissingKeyIsNotAnError
//	Clear/LeavesOtherKeysAlone                      including keys that extend the cleared one or look like patterns,
//	                                                under every strategy
//	ResetAll/EmptyStorageCountsNothing              0 (or -1 for a backend that cannot count)
//	ResetAll/CountsTheKeysRemoved                   exactly the keys hit (or -1)
//	ResetAll/RemovesEveryKey                        every key of every strategy is fresh afterwards
//	Check/HealthyWhileOpen
//	Context/CanceledContextFails                    every method fails with an error wrapping context.Canceled, counting
//	                                                nothing, and Clear and ResetAll removing nothing
//	Close/EveryMethodFailsWithErrClosed             every method and every strategy's Hit wrap limiter.ErrClosed
//	Close/SecondCloseReturnsNil
//	Concurrency/OneKey100Goroutines/*               100 goroutines, one key, a limit of 5: exactly 5 allowed
//	Concurrency/OneKey8Goroutines1000Hits/*         8 × 1000 hits, one key, a limit of 4000: exactly 4000 allowed
//	Concurrency/TwoStoragesOneKey/*                 100 goroutines on a limit of 5, then 8 × 250 hits on a limit of 1000,
//	                                                through two storages sharing the keys, as two processes
//	                                                (a SharingHarness only)
//	Concurrency/ManyKeysIndependent/*               20 keys hit concurrently: exactly their amount each
//
// "*" stands for each strategy name (fixed-window, moving-window, …). The
// concurrency rules also check that the allowed hits reported every
// Remaining count from Amount−1 down to 0 exactly once, so two hits never
// saw the same count. Rules for a capability the harness does not declare
// are skipped with the reason.
//
// # Time
//
// When AcceptsClock reports true, the suite drives a [limiter.ManualClock]
// (given to MakeStorage, and the source of every Request.Now), so every edge
// is checked exactly — one nanosecond before it and at it — and the suite
// takes no time. Otherwise the rules run on real time, all at once so their
// waits overlap, except that the Keys and Concurrency groups, which send
// many calls, run after the others (a run takes about ten seconds). The
// rules then hold for a storage that decides on its own clock, which runs
// on while a rule sends its calls: requests still carry exact instants, but
// edges are approached 250ms before and after (after: plus the most any
// call of the rule returned after its request's instant); reported instants
// may be off by 250ms plus that lateness; rules that send bursts "at one
// instant" and count exactly use windows of five seconds (and start a burst
// early enough in a sliding window's aligned window); and the token-bucket
// and sliding-window arithmetic is checked on windows of two to four
// seconds, just after each expected count begins, half a second or more
// before it changes. Limits that must not expire while a rule runs are per
// day. A loaded machine can make the suite reach an instant too late to
// judge it (it logs "behind schedule"): a rule that fails after that runs
// again on a fresh storage, up to three times, and only the last attempt's
// failures are reported. A rule that fails on schedule fails at once.
//
// # Benchmarks
//
// [RunBenchmarks] measures Strategy.Hit for every supported strategy on one
// key and on 10,000 keys, serially and in parallel, with a
// [BenchHarnessMaker] (the *testing.B counterpart of HarnessMaker).
//
// # The suite's own tests
//
// The suite proves it can fail: its tests run it, in a child process,
// against a reference storage with planted bugs (a counter off by one, an
// expiry never set, a non-atomic read-then-write, keys truncated to 250
// bytes, a wrapper hiding capabilities it declares, a clock read in whole
// seconds, a window of one unit whatever the limit's multiples, a token
// bucket holding a whole window rather than Amount intervals, a Clear that
// keeps a sliding window's previous count, a Clear that removes the keys the
// cleared one begins, a peek that starts a fixed window, batches that run on
// past a rejection, count their peek steps or count fixed windows under
// every strategy) and check that the rules each bug breaks fail, by name,
// while others pass; some of the bugs also on real time, in a storage
// deciding on its own clock. A storage on its own clock whose every call
// takes 40ms passes.
package conformance
