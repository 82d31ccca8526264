package limiter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The names of the strategies, as accepted by [NewStrategy] and by
// Flask-Limiter's RATELIMIT_STRATEGY.
const (
	// StrategyFixedWindow keeps one counter per window; the window starts at
	// the first hit. Cheapest in memory; allows up to 2× Amount in a burst
	// that straddles a window boundary. The default.
	StrategyFixedWindow = "fixed-window"
	// StrategyFixedWindowElasticExpiry is fixed-window where every hit,
	// allowed or not, pushes the window's end out to now + window (never
	// earlier than it already is), so a client that keeps hammering stays
	// locked out.
	StrategyFixedWindowElasticExpiry = "fixed-window-elastic-expiry"
	// StrategyMovingWindow is an exact sliding log: at most Amount hits in
	// any interval of one window. Memory grows with Amount per key.
	StrategyMovingWindow = "moving-window"
	// StrategySlidingWindowCounter weights the previous fixed window's count
	// by how much of it still overlaps the sliding window: near-exact with
	// two counters per key.
	StrategySlidingWindowCounter = "sliding-window-counter"
	// StrategyTokenBucket is GCRA: a burst of up to Amount, refilled evenly
	// at Amount per window; one timestamp per key. A token refills every
	// window/Amount rounded down to a nanosecond (at least 1ns), so the
	// rate is off by up to 1 part in window/Amount ns: by over 0.1% above
	// a million per second ("700000000/second" refills at a billion), where
	// counting in larger units (kilobytes, not bytes) keeps it exact.
	StrategyTokenBucket = "token-bucket"
)

// Strategies returns the strategy names in the order of the constants above.
func Strategies() []string {
	return []string{StrategyFixedWindow, StrategyFixedWindowElasticExpiry, StrategyMovingWindow,
		StrategySlidingWindowCounter, StrategyTokenBucket}
}

// Result is a strategy's answer about one key under one limit: everything a
// response needs, from one storage operation.
type Result struct {
	// Allowed reports that the hit was counted (Hit) or would be (Test).
	Allowed bool
	// Limit is the limit the key was checked against.
	Limit Limit
	// Remaining is how many units the key may still take now.
	Remaining int64
	// ResetAt is when the key will be back to full capacity if no further
	// hits arrive; the instant for X-RateLimit-Reset (see [State.ResetAt]:
	// for the sliding window counter, a bound rather than the instant).
	ResetAt time.Time
	// RetryAfter is how long until a hit of the same cost could be allowed:
	// 0 when allowed, otherwise the value for a Retry-After header, the
	// time until capacity returns, not the window length. A hit that can
	// never be allowed (a Cost above the limit's Amount, as under a limit
	// of 0) reports the window, whatever the strategy and the storage, as
	// Flask-Limiter does, so that a client backs off instead of retrying at
	// once, forever.
	RetryAfter time.Duration
}

// A Strategy decides hits under one rate-limiting algorithm, over one
// storage. Strategies from [NewStrategy] are safe for concurrent use and
// hold no state of their own.
type Strategy interface {
	// Name returns the strategy's name, one of the Strategy constants.
	Name() string
	// Hit counts a hit of r.Cost on r.Key at r.Now, if the limit allows it.
	// A request no storage may be given is an error, wrapping
	// [ErrInvalidLimit] (r.Limit fails [Limit.Validate]), [ErrInvalidCost]
	// (r.Cost below 1) or [ErrInvalidTime] (r.Now outside the range
	// [Request.Now] allows); so is a storage failure.
	Hit(ctx context.Context, r Request) (Result, error)
	// Test reports whether a hit of r.Cost would be allowed, counting
	// nothing. It checks r as Hit does.
	Test(ctx context.Context, r Request) (Result, error)
	// Clear forgets everything counted on key, under every strategy's
	// state; the key names one limit's bucket when built with [Key], so the
	// same client's buckets under other limits stay as they are.
	Clear(ctx context.Context, key string) error
}

// NewStrategy returns the strategy called name over storage s. It fails
// with an error wrapping [ErrUnknownStrategy] for an unknown name and with
// one wrapping [ErrUnsupported] when s lacks the capability the strategy
// needs, so a misconfiguration shows at start-up rather than on a request.
func NewStrategy(name string, s Storage) (Strategy, error) {
	if s == nil {
		return nil, fmt.Errorf("limiter: strategy %q: nil storage", name)
	}
	st := &strategy{name: name, storage: s}
	var ok bool
	switch name {
	case StrategyFixedWindow:
		st.kind = kindFixedWindow
	case StrategyFixedWindowElasticExpiry:
		st.kind = kindElasticExpiry
	case StrategyMovingWindow:
		st.kind = kindMovingWindow
		if st.moving, ok = s.(MovingWindowStorage); !ok {
			return nil, missingCapability(name, "MovingWindowStorage", s)
		}
	case StrategySlidingWindowCounter:
		st.kind = kindSlidingWindow
		if st.sliding, ok = s.(SlidingWindowStorage); !ok {
			return nil, missingCapability(name, "SlidingWindowStorage", s)
		}
	case StrategyTokenBucket:
		st.kind = kindTokenBucket
		if st.tokens, ok = s.(TokenBucketStorage); !ok {
			return nil, missingCapability(name, "TokenBucketStorage", s)
		}
	default:
		return nil, fmt.Errorf("%w %q (want %s)", ErrUnknownStrategy, name, strings.Join(Strategies(), ", "))
	}
	return st, nil
}

// MustNewStrategy is like [NewStrategy] but panics on error.
func MustNewStrategy(name string, s Storage) Strategy {
	st, err := NewStrategy(name, s)
	if err != nil {
		panic(err)
	}
	return st
}

// strategyKind selects the storage method a strategy calls. Hit and Test
// switch on it and call the storage directly, with no closure in between:
// each layer copies the Request, and the hit path is hot.
type strategyKind uint8

const (
	kindFixedWindow strategyKind = iota
	kindElasticExpiry
	kindMovingWindow
	kindSlidingWindow
	kindTokenBucket
)

type strategy struct {
	name    string
	kind    strategyKind
	storage Storage
	moving  MovingWindowStorage  // set for kindMovingWindow
	sliding SlidingWindowStorage // set for kindSlidingWindow
	tokens  TokenBucketStorage   // set for kindTokenBucket
}

func (s *strategy) Name() string { return s.name }

func (s *strategy) Hit(ctx context.Context, r Request) (Result, error) {
	if err := checkRequest(&r, "hit"); err != nil {
		return Result{}, err
	}
	var st State
	var err error
	switch s.kind {
	case kindFixedWindow:
		st, err = s.storage.AcquireFixedWindow(ctx, r, false)
	case kindElasticExpiry:
		st, err = s.storage.AcquireFixedWindow(ctx, r, true)
	case kindMovingWindow:
		st, err = s.moving.AcquireMovingWindow(ctx, r)
	case kindSlidingWindow:
		st, err = s.sliding.AcquireSlidingWindow(ctx, r)
	default:
		st, err = s.tokens.AcquireTokenBucket(ctx, r)
	}
	if err != nil {
		return Result{}, s.storageError("hit", r.Key, err)
	}
	// newResult, written out: a Result does not fit in registers, and one
	// returned from a call is copied through memory again.
	return Result{Allowed: st.Allowed, Limit: r.Limit, Remaining: st.Remaining,
		ResetAt: timeAt(r.Now, st.ResetAt), RetryAfter: retryAfter(&r, st)}, nil
}

func (s *strategy) Test(ctx context.Context, r Request) (Result, error) {
	if err := checkRequest(&r, "test"); err != nil {
		return Result{}, err
	}
	var st State
	var err error
	switch s.kind {
	case kindFixedWindow, kindElasticExpiry:
		st, err = s.storage.PeekFixedWindow(ctx, r)
	case kindMovingWindow:
		st, err = s.moving.PeekMovingWindow(ctx, r)
	case kindSlidingWindow:
		st, err = s.sliding.PeekSlidingWindow(ctx, r)
	default:
		st, err = s.tokens.PeekTokenBucket(ctx, r)
	}
	if err != nil {
		return Result{}, s.storageError("test", r.Key, err)
	}
	// newResult, written out, as in Hit.
	return Result{Allowed: st.Allowed, Limit: r.Limit, Remaining: st.Remaining,
		ResetAt: timeAt(r.Now, st.ResetAt), RetryAfter: retryAfter(&r, st)}, nil
}

func (s *strategy) Clear(ctx context.Context, key string) error {
	if err := s.storage.Clear(ctx, key); err != nil {
		return fmt.Errorf("limiter: %s: clear %q: %w", s.name, key, err)
	}
	return nil
}

// checkRequest rejects what no storage may be given: an invalid limit, a
// cost below 1, or a Now outside the range [Request.Now] allows.
func checkRequest(r *Request, verb string) error {
	if err := r.Limit.Validate(); err != nil {
		return err
	}
	if r.Cost < 1 {
		return fmt.Errorf("%w: %s %q with cost %d", ErrInvalidCost, verb, r.Key, r.Cost)
	}
	if !nowInRange(r.Now) {
		return timeError(verb+" "+strconv.Quote(r.Key), r.Now)
	}
	return nil
}

// storageError wraps a storage failure with the strategy, the verb and the
// key.
func (s *strategy) storageError(verb, key string, err error) error {
	return fmt.Errorf("limiter: %s: %s %q: %w", s.name, verb, key, err)
}

// newResult turns the State a storage reported for r into a Result. Hit and
// Test write it out in their return statements.
func newResult(r *Request, st State) Result {
	return Result{Allowed: st.Allowed, Limit: r.Limit, Remaining: st.Remaining,
		ResetAt: timeAt(r.Now, st.ResetAt), RetryAfter: retryAfter(r, st)}
}

// timeAt returns the instant ns (Unix nanoseconds, from a State) as a time
// in now's location.
func timeAt(now time.Time, ns int64) time.Time {
	return time.Unix(0, ns).In(now.Location())
}

// retryAfter returns how long after r.Now a hit reported by st could be
// allowed: 0 when it was, the limit's window when it never can be
// ([Result.RetryAfter]). The storages report such a hit's RetryAt as its
// ResetAt, which is r.Now itself under an empty moving window, sliding
// window or token bucket.
func retryAfter(r *Request, st State) time.Duration {
	if st.Allowed {
		return 0
	}
	if r.Cost > r.Limit.Amount {
		return time.Duration(r.Limit.Multiples) * r.Limit.Unit.Duration()
	}
	return time.Duration(max(st.RetryAt-r.Now.UnixNano(), 0))
}
