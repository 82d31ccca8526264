package limiter

import (
	"context"
	"fmt"
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
	// allowed or not, moves the window's end to now + window, so a client
	// that keeps hammering stays locked out.
	StrategyFixedWindowElasticExpiry = "fixed-window-elastic-expiry"
	// StrategyMovingWindow is an exact sliding log: at most Amount hits in
	// any interval of one window. Memory grows with Amount per key.
	StrategyMovingWindow = "moving-window"
	// StrategySlidingWindowCounter weights the previous fixed window's count
	// by how much of it still overlaps the sliding window: near-exact with
	// two counters per key.
	StrategySlidingWindowCounter = "sliding-window-counter"
	// StrategyTokenBucket is GCRA: a burst of up to Amount, refilled evenly
	// at Amount per window; one timestamp per key.
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
	// hits arrive; the instant for X-RateLimit-Reset.
	ResetAt time.Time
	// RetryAfter is how long until a hit of the same cost could be allowed:
	// 0 when allowed, otherwise the value for a Retry-After header. It is
	// the time until capacity returns, not the window length.
	RetryAfter time.Duration
}

// A Strategy decides hits under one rate-limiting algorithm, over one
// storage. Strategies from [NewStrategy] are safe for concurrent use and
// hold no state of their own.
type Strategy interface {
	// Name returns the strategy's name, one of the Strategy constants.
	Name() string
	// Hit counts a hit of r.Cost on r.Key at r.Now, if the limit allows it.
	Hit(ctx context.Context, r Request) (Result, error)
	// Test reports whether a hit of r.Cost would be allowed, counting
	// nothing.
	Test(ctx context.Context, r Request) (Result, error)
	// Clear forgets everything counted on key, under every limit.
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
	st := &strategy{name: name, clear: s.Clear}
	missing := func(iface string) error {
		return fmt.Errorf("limiter: strategy %q needs a storage implementing limiter.%s; %T does not: %w",
			name, iface, s, ErrUnsupported)
	}
	switch name {
	case StrategyFixedWindow:
		st.acquire = func(ctx context.Context, r Request) (State, error) { return s.AcquireFixedWindow(ctx, r, false) }
		st.peek = s.PeekFixedWindow
	case StrategyFixedWindowElasticExpiry:
		st.acquire = func(ctx context.Context, r Request) (State, error) { return s.AcquireFixedWindow(ctx, r, true) }
		st.peek = s.PeekFixedWindow
	case StrategyMovingWindow:
		mw, ok := s.(MovingWindowStorage)
		if !ok {
			return nil, missing("MovingWindowStorage")
		}
		st.acquire, st.peek = mw.AcquireMovingWindow, mw.PeekMovingWindow
	case StrategySlidingWindowCounter:
		sw, ok := s.(SlidingWindowStorage)
		if !ok {
			return nil, missing("SlidingWindowStorage")
		}
		st.acquire, st.peek = sw.AcquireSlidingWindow, sw.PeekSlidingWindow
	case StrategyTokenBucket:
		tb, ok := s.(TokenBucketStorage)
		if !ok {
			return nil, missing("TokenBucketStorage")
		}
		st.acquire, st.peek = tb.AcquireTokenBucket, tb.PeekTokenBucket
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

type strategy struct {
	name    string
	acquire func(context.Context, Request) (State, error)
	peek    func(context.Context, Request) (State, error)
	clear   func(context.Context, string) error
}

func (s *strategy) Name() string { return s.name }

func (s *strategy) Hit(ctx context.Context, r Request) (Result, error) {
	return s.do(ctx, r, s.acquire, "hit")
}

func (s *strategy) Test(ctx context.Context, r Request) (Result, error) {
	return s.do(ctx, r, s.peek, "test")
}

func (s *strategy) Clear(ctx context.Context, key string) error {
	if err := s.clear(ctx, key); err != nil {
		return fmt.Errorf("limiter: %s: clear %q: %w", s.name, key, err)
	}
	return nil
}

func (s *strategy) do(ctx context.Context, r Request, op func(context.Context, Request) (State, error), verb string) (Result, error) {
	if err := r.Limit.Validate(); err != nil {
		return Result{}, err
	}
	if r.Cost < 1 {
		return Result{}, fmt.Errorf("%w: %s %q with cost %d", ErrInvalidCost, verb, r.Key, r.Cost)
	}
	st, err := op(ctx, r)
	if err != nil {
		return Result{}, fmt.Errorf("limiter: %s: %s %q: %w", s.name, verb, r.Key, err)
	}
	res := Result{Allowed: st.Allowed, Limit: r.Limit, Remaining: st.Remaining, ResetAt: st.ResetAt}
	if !st.Allowed {
		res.RetryAfter = max(st.RetryAt.Sub(r.Now), 0)
	}
	return res, nil
}
