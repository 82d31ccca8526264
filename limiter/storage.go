package limiter

import (
	"context"
	"fmt"
	"time"
)

// A Request asks a storage to count, or to look at, hits on one key under one
// limit at one instant. Strategies build Requests; storages must not retain
// them.
type Request struct {
	// Key identifies the bucket, as built by [Key]. Storages treat it as an
	// opaque byte string: every distinct Key is a distinct bucket.
	Key string
	// Limit is the limit the key is counted against. It has passed
	// [Limit.Validate].
	Limit Limit
	// Cost is how many units one hit takes; at least 1.
	Cost int64
	// Now is the instant the operation acts on. Storages that keep time
	// themselves (a server clock shared by several application servers) may
	// act on their own clock instead, and say so in their documentation, but
	// must still report instants in [State] relative to Now: an instant
	// their clock puts d after its own present is reported as Now + d.
	//
	// Now lies from 1970-01-01 (inclusive) to 2150-01-01 (exclusive), UTC.
	// Strategies and [HitBatch] refuse any other instant with an error
	// wrapping [ErrInvalidTime]: the zero time.Time, above all, which a
	// Request whose Now was never set carries, and which as Unix
	// nanoseconds (defined from 1678 to 2262 only) would land in 1754 and
	// quietly start every limit afresh. The range keeps every instant the
	// algorithms reach, Now plus two windows of at most [MaxWindow], within
	// Unix nanoseconds, and differences between two instants within a
	// time.Duration.
	Now time.Time
}

// The range of [Request.Now] in Unix seconds: [minNowUnix, maxNowUnix).
// Checking a Request costs one time.Time.Unix call and two comparisons.
const (
	minNowUnix = 0             // 1970-01-01T00:00:00Z
	maxNowUnix = 5_680_281_600 // 2150-01-01T00:00:00Z
)

// nowInRange reports whether t may be a [Request.Now].
func nowInRange(t time.Time) bool {
	s := t.Unix()
	return s >= minNowUnix && s < maxNowUnix
}

// timeError describes a Request.Now outside the range, for the operation
// named by what.
func timeError(what string, now time.Time) error {
	return fmt.Errorf("%w: %s at %s (Request.Now must lie from 1970 to 2149; is it set?)",
		ErrInvalidTime, what, now.Format(time.RFC3339Nano))
}

// State is what a storage reports about a key after one operation. All four
// fields come from the same atomic operation, so a strategy answers a hit,
// with its response headers, from a single call (one round trip on a network
// backend).
//
// Instants are Unix nanoseconds rather than [time.Time] values. A State
// crosses the Storage interface on every hit; four integers stay in
// registers, while a State holding two time.Time values is spilled and
// copied through memory at each call, and those copies stall the CPU (a
// third of an in-memory decision). The strategy turns the instants back into
// times in r.Now's location.
type State struct {
	// Allowed reports, for an Acquire call, that Cost units were taken; for
	// a Peek call, that an Acquire of Cost at the same instant would take
	// them. A Cost above Limit.Amount is never allowed.
	Allowed bool
	// Remaining is how many units are left under the limit after the
	// operation, between 0 and Limit.Amount.
	Remaining int64
	// ResetAt is the instant, in Unix nanoseconds, at which the key will be
	// back to full capacity (Remaining == Limit.Amount) if no further hits
	// arrive. It is r.Now when the key holds nothing (a fixed window that a
	// rejected hit started holds a window: ResetAt is its end). The sliding
	// window counter reports the end of the window after the one holding
	// its last count, when both counts have left it: capacity is full
	// sooner, once the previous count's weight rounds down to nothing.
	ResetAt int64
	// RetryAt is the earliest instant, in Unix nanoseconds, at which a hit
	// of Cost could be allowed: r.Now when it is allowed now, and ResetAt
	// when Cost exceeds Limit.Amount (such a hit is never allowed).
	RetryAt int64
}

// Storage is the contract every backend fulfils: a fixed-window counter with
// expiry, plus housekeeping. It is all the fixed-window and
// fixed-window-elastic-expiry strategies need. The other strategies need the
// optional capabilities [MovingWindowStorage], [SlidingWindowStorage] and
// [TokenBucketStorage], discovered by type assertion; [ResetAller] adds
// clearing everything.
//
// Implementations must be safe for concurrent use by multiple goroutines, and
// by multiple processes sharing one backend: every Acquire is atomic, so N
// concurrent hits of cost 1 on a limit of L allow exactly min(N, L).
// Every method honours its context's deadline and cancellation. Errors mean
// the backend failed ("limited" is a State, never an error); they should wrap
// the backend's error with the operation and the key. After Close, every
// method returns an error wrapping [ErrClosed].
//
// The conformance module's Run function checks an implementation against
// every rule written here; atomicity across processes, through a harness
// that opens a second storage on the same backend (SharingHarness).
type Storage interface {
	// AcquireFixedWindow counts a hit on the fixed-window counter at
	// r.Key. If no live counter exists at r.Now (never created, cleared, or
	// expired: a counter created at t expires at t + window and is dead from
	// that instant on), a counter of 0 expiring at r.Now + window is created
	// first. The hit is allowed when count + r.Cost ≤ r.Limit.Amount, and
	// then the count grows by r.Cost; a rejected hit leaves the count as it
	// was. If elastic is true the counter's expiry is moved to
	// r.Now + window on every call, allowed or not, unless it is already
	// later (a call from a clock behind another's never shortens the
	// window); otherwise it is set only when the counter is created.
	//
	// The State reports Remaining = Amount − count, ResetAt = the counter's
	// expiry, and RetryAt = r.Now if allowed, else the expiry.
	AcquireFixedWindow(ctx context.Context, r Request, elastic bool) (State, error)

	// PeekFixedWindow reports the State AcquireFixedWindow would act on,
	// without changing anything: Allowed says whether a hit of r.Cost would
	// be allowed at r.Now. For a missing or expired counter it reports
	// Remaining = Amount and ResetAt = RetryAt = r.Now (Allowed unless
	// r.Cost > Amount).
	PeekFixedWindow(ctx context.Context, r Request) (State, error)

	// Clear removes everything stored under key by any capability, so the
	// next hit on it starts afresh. Clearing a missing key is not an error.
	Clear(ctx context.Context, key string) error

	// Check reports whether the backend is reachable and working; nil means
	// healthy. It is used for health checks and fallback recovery and
	// should be cheap.
	Check(ctx context.Context) error

	// Close releases the storage's resources (connections it owns,
	// background goroutines). It is safe to call more than once; later
	// calls return nil. A storage built around a caller-owned client
	// leaves that client open.
	Close() error
}

// MovingWindowStorage is the optional capability behind the moving-window
// strategy: an exact sliding log. A unit taken at instant t counts against
// the key at every instant now with now − t < window, so at most Amount
// units are taken in any interval of length window. A rejected hit changes
// nothing, not even by dropping units that have left the window at its
// instant: they still count for a later hit from a clock behind it.
type MovingWindowStorage interface {
	// AcquireMovingWindow allows the hit when the units counted at r.Now
	// plus r.Cost are at most Amount, and then records r.Cost units at
	// r.Now. The State reports Remaining = Amount − units counted after the
	// operation; ResetAt = the newest counted unit's time + window (r.Now if
	// none); RetryAt, when rejected, is the instant enough old units have
	// left the window for r.Cost to fit.
	AcquireMovingWindow(ctx context.Context, r Request) (State, error)
	// PeekMovingWindow reports the log as it is at r.Now, without
	// recording anything: Allowed says whether AcquireMovingWindow would
	// allow r.Cost, Remaining = Amount − units counted, ResetAt and RetryAt
	// as above.
	PeekMovingWindow(ctx context.Context, r Request) (State, error)
}

// SlidingWindowStorage is the optional capability behind the
// sliding-window-counter strategy: two fixed windows, the current and the
// previous, aligned to multiples of the window length since the Unix epoch.
// At an instant elapsed into the current window the weighted count is
//
//	floor(previous × (window − elapsed) / window) + current
//
// and a hit is allowed when weighted + Cost ≤ Amount, adding Cost to current.
// A rejected hit changes nothing: the stored windows stay where the allowed
// hits left them, so a later hit from a clock behind it counts where it
// would have without it.
// [SlidingWindow] implements the arithmetic for backends that keep the two
// counts themselves.
type SlidingWindowStorage interface {
	// AcquireSlidingWindow counts a hit as described on the interface. The
	// State reports Remaining = Amount − weighted count after the
	// operation; ResetAt = the end of the window after the current one if
	// current > 0, else the end of the current window if previous > 0, else
	// r.Now; RetryAt, when rejected, the first instant the weighted count
	// leaves room for r.Cost.
	AcquireSlidingWindow(ctx context.Context, r Request) (State, error)
	// PeekSlidingWindow reports the counts as they are at r.Now, without
	// counting: Allowed says whether AcquireSlidingWindow would allow
	// r.Cost, Remaining = Amount − weighted count, ResetAt and RetryAt as
	// above.
	PeekSlidingWindow(ctx context.Context, r Request) (State, error)
}

// TokenBucketStorage is the optional capability behind the token-bucket
// strategy, implemented as GCRA (the generic cell rate algorithm): a bucket
// of Amount tokens that refills one token every interval = window/Amount
// (rounded down to a nanosecond, at least 1ns), stored as one theoretical
// arrival time (TAT) per key. A hit of Cost is allowed when
// max(TAT, now) + Cost × interval − now ≤ Amount × interval (the window,
// when Amount divides it; never more, so a burst never exceeds Amount), and
// then TAT moves to that sum. Remaining is (Amount × interval −
// (max(TAT, now) − now)) / interval rounded down, and at least 0 (so
// Amount for a TAT already past, never more). A rejected hit
// leaves the TAT as it was, even one already past at its instant. [TokenBucket]
// implements the arithmetic.
type TokenBucketStorage interface {
	// AcquireTokenBucket takes r.Cost tokens if the bucket holds them. The
	// State reports Remaining = whole tokens left; ResetAt = the instant the
	// bucket is full again: the TAT after the operation, or r.Now when that
	// TAT is already past (a rejected hit on a full bucket, a cost above
	// Amount); RetryAt, when rejected, the instant
	// r.Cost tokens will be there. A limit of Amount 0 rejects every hit.
	AcquireTokenBucket(ctx context.Context, r Request) (State, error)
	// PeekTokenBucket reports the bucket as it is at r.Now, without taking
	// tokens: Allowed says whether AcquireTokenBucket would take r.Cost,
	// Remaining = whole tokens in the bucket, ResetAt = max(TAT, r.Now),
	// RetryAt as above.
	PeekTokenBucket(ctx context.Context, r Request) (State, error)
}

// ResetAller is the optional capability to clear every key the storage
// holds for this limiter, as Flask-Limiter's reset(). Keys other applications
// keep in the same backend are left alone.
type ResetAller interface {
	// ResetAll removes every limiter key and returns how many it removed
	// (backends that cannot count return -1).
	ResetAll(ctx context.Context) (int64, error)
}

// LimitChecker is the optional capability to say, without a round trip,
// which limits the storage can hold: a storage whose items bound a limit's
// amount (memcached's moving-window log holds at most 65,536 instants)
// refuses the hits on a larger one with an error wrapping [ErrUnsupported],
// and implements LimitChecker so that applications can refuse such a limit
// when they start instead. [CheckLimit] calls it.
type LimitChecker interface {
	// CheckLimit returns nil when hits under the strategy called strategy
	// (one of the Strategy constants) on limit l, which has passed
	// [Limit.Validate], can succeed, and otherwise the error wrapping
	// [ErrUnsupported] that those hits would return. It must agree with
	// the hits.
	CheckLimit(strategy string, l Limit) error
}

// CheckLimit reports whether hits under the strategy called strategy on
// limit l can succeed on s: the error of [Limit.Validate], else that of
// [NewStrategy] (an unknown strategy, or one s lacks the capability for),
// else that of s's [LimitChecker] if it implements one, else nil. Run it
// on the limits an application knows when it starts.
func CheckLimit(s Storage, strategy string, l Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if _, err := NewStrategy(strategy, s); err != nil {
		return err
	}
	if c, ok := s.(LimitChecker); ok {
		return c.CheckLimit(strategy, l)
	}
	return nil
}

// A BatchOp is one step of a batch: a request, and whether to only peek at
// its key (as the strategy's Test method would) instead of acquiring.
type BatchOp struct {
	Request
	// Peek makes the step look at its key without counting, as the
	// strategy's Test method would.
	Peek bool
}

// BatchStorage is the optional capability to run several steps, on
// different keys and limits, as one operation: one round trip on a network
// backend, however many limits a request must pass. [HitBatch] uses it when
// the storage has it and runs the steps one by one otherwise, with the same
// results.
type BatchStorage interface {
	// AcquireBatch runs ops in order under the strategy called strategy
	// (one of the Strategy constants), each exactly as the single-key
	// Acquire or Peek method of that strategy would at its own r.Now, and
	// stops after the first step whose State is not Allowed, a peek step's
	// included: that step counts nothing (it does what the single-key call
	// does when it rejects, which under fixed-window-elastic-expiry may
	// still move the expiry later), and the steps after it are not run.
	// states[i] receives the State of ops[i] for every step run; it returns
	// how many ran (len(ops) when all were allowed). len(states) ≥ len(ops).
	//
	// A backend that cannot run some batch as one operation (a Redis
	// Cluster whose keys hash to different slots) may run it in several,
	// as long as each step stays atomic and the results are the same. On
	// an error it returns how many steps ran before it (their states set,
	// their counts standing): 0 for an atomic batch.
	// A strategy the backend lacks a capability for returns an error
	// wrapping [ErrUnsupported].
	AcquireBatch(ctx context.Context, strategy string, ops []BatchOp, states []State) (int, error)
}
