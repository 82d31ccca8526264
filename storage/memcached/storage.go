package memcached

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// ErrContention is wrapped by the error of a compare-and-swap operation
// (token bucket, moving window, the elastic expiry of a fixed window, the
// stamping of a sliding window slot) that lost its race more times than it
// may retry. Nothing was counted: the storage never admits a hit it could
// not record, and it never guesses.
var ErrContention = errors.New("memcached storage: too much contention on key")

// ErrCorrupt is wrapped by the error of an operation that found a stored
// value it cannot read: a counter, sliding-window slot, token bucket or
// moving-window log that something else wrote under the storage's key, or
// that was damaged. Clear removes the key's state.
var ErrCorrupt = errors.New("memcached storage: corrupt value")

// maxAttempts bounds every retry loop. A compare-and-swap attempt fails only
// when another client's write succeeded in between, so running out means
// this many writes by others landed during one call. A variable so that
// tests can provoke contention.
var maxAttempts = 1000

// Storage is a [limiter.Storage] over memcached, through a gomemcache client
// that may spread keys over a pool of servers. It implements
// [limiter.SlidingWindowStorage], [limiter.TokenBucketStorage] and
// [limiter.MovingWindowStorage], and [limiter.LimitChecker] for the limits
// its items cannot hold; it does not implement [limiter.ResetAller] (see
// the package documentation).
//
// Every decision is taken from instants stored in memcached values and the
// Request's Now; the server's own expiry only reclaims memory, after the
// stored state is already dead plus a grace period ([WithExpiryGrace]).
//
// A Storage is safe for concurrent use by multiple goroutines and by
// multiple processes sharing the same servers and key prefix. Build one
// with [New] or [limiter.Open]; the zero value is not usable.
type Storage struct {
	client *memcache.Client
	owned  bool // Close closes the client's connections
	prefix string
	grace  time.Duration
	wall   func() time.Time // the real clock, for absolute expiry times only
	closed atomic.Bool
	// inflight counts the operations running on the client: gomemcache's
	// Close closes idle connections only, and a call that ends after it
	// puts its connection back, so the last one out closes them again.
	inflight atomic.Int64
}

var (
	_ limiter.Storage              = (*Storage)(nil)
	_ limiter.SlidingWindowStorage = (*Storage)(nil)
	_ limiter.TokenBucketStorage   = (*Storage)(nil)
	_ limiter.MovingWindowStorage  = (*Storage)(nil)
)

// New returns a storage over client, which stays owned by the caller: the
// storage never changes its settings and Close leaves it open. Operations
// are bounded by client.Timeout per round trip (see the package
// documentation on contexts). Options are [WithKeyPrefix] and
// [WithExpiryGrace]; [WithTimeout] and [WithMaxIdleConns] configure only
// clients that [limiter.Open] creates and are rejected here.
func New(client *memcache.Client, opts ...limiter.StorageOption) (*Storage, error) {
	if client == nil {
		return nil, fmt.Errorf("memcached storage: new: %w: nil client", limiter.ErrInvalidOption)
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, fmt.Errorf("memcached storage: new: %w", err)
	}
	if cfg.timeoutSet || cfg.maxIdleSet {
		return nil, fmt.Errorf("memcached storage: new: %w: WithTimeout and WithMaxIdleConns apply only to clients opened from a URI; set them on the memcache.Client you pass", limiter.ErrInvalidOption)
	}
	return newStorage(client, false, cfg), nil
}

func newStorage(client *memcache.Client, owned bool, cfg config) *Storage {
	return &Storage{client: client, owned: owned, prefix: cfg.prefix, grace: cfg.grace, wall: time.Now}
}

// Check pings every server in the pool; nil means all of them answered.
func (s *Storage) Check(ctx context.Context) error {
	_, err := run(ctx, s, func(context.Context) (struct{}, error) {
		return struct{}{}, s.client.Ping()
	})
	if err != nil {
		return fmt.Errorf("memcached storage: check: %w", err)
	}
	return nil
}

// CheckLimit implements [limiter.LimitChecker]: the limits whose hits
// fail with an error wrapping [limiter.ErrUnsupported], because an item
// cannot hold them, are sliding-window-counter amounts of 2³¹ and above and
// moving-window amounts above [MaxMovingWindowAmount].
func (s *Storage) CheckLimit(strategy string, l limiter.Limit) error {
	var err error
	switch {
	case strategy == limiter.StrategySlidingWindowCounter && l.Amount >= maxAmount:
		err = errAmount
	case strategy == limiter.StrategyMovingWindow && l.Amount > MaxMovingWindowAmount:
		err = errMovingAmount
	default:
		return nil
	}
	return fmt.Errorf("memcached storage: %s %s: %w", strategy, l, err)
}

// Close marks the storage closed, so every later call returns an error
// wrapping [limiter.ErrClosed], and closes the idle connections of a client
// that [limiter.Open] created. A client passed to [New] is left open.
// Calling Close again returns nil.
func (s *Storage) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.owned {
		if err := s.client.Close(); err != nil {
			return fmt.Errorf("memcached storage: close: %w", err)
		}
	}
	return nil
}

// Clear deletes every item stored under key by any strategy.
func (s *Storage) Clear(ctx context.Context, key string) error {
	_, err := run(ctx, s, func(ctx context.Context) (struct{}, error) {
		b := s.base(key)
		keys := []string{b + sufSlot0, b + sufSlot1, b + sufTokenBucket, b + sufMovingWindow}
		if it, err := s.client.Get(b + sufWindow); err == nil {
			if w, ok := decodeWindow(it.Value); ok {
				keys = append(keys, b+sufCounter+w.id)
			}
			keys = append(keys, b+sufWindow)
		} else if !errors.Is(err, memcache.ErrCacheMiss) {
			return struct{}{}, err
		}
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				return struct{}{}, err
			}
			if err := s.client.Delete(k); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("memcached storage: clear %q: %w", key, err)
	}
	return nil
}

// run performs op, which may take several round trips, on behalf of a
// caller whose context is ctx. It refuses to start after Close or once ctx
// is done. When ctx can end, op runs in its own goroutine and run returns
// ctx's error as soon as ctx ends; op then stops at its next safe point
// (it checks ctx before every step that needs no compensation, but always
// finishes an undo it has begun), so the goroutine outlives the call by at
// most a round trip or two, each bounded by the client's Timeout.
func run[T any](ctx context.Context, s *Storage, op func(context.Context) (T, error)) (T, error) {
	var zero T
	s.inflight.Add(1) // before the closed check: Close then sees it, or it sees Close
	if s.closed.Load() {
		s.opDone()
		return zero, limiter.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.opDone()
		return zero, err
	}
	if ctx.Done() == nil {
		defer s.opDone()
		return op(ctx)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer s.opDone()
		v, err := op(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// opDone ends an operation run counted in inflight. The last to end after
// Close closes an owned client's connections again: those that calls in
// flight during Close put back.
func (s *Storage) opDone() {
	if s.inflight.Add(-1) == 0 && s.closed.Load() && s.owned {
		_ = s.client.Close()
	}
}

// backoff pauses before retry attempt n (from 1) of a lost
// compare-and-swap: not at all for the first few, then a random span
// growing to at most a millisecond, so that racing clients fall out of step.
// It returns ctx's error if ctx ends first.
func backoff(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n < 4 {
		return nil
	}
	limit := min(time.Duration(1)<<min(n, 20)*time.Microsecond, time.Millisecond)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// incrOrAdd adds delta to the counter at key, creating it with expiry exp if
// it is missing; it returns the new value. A create that loses the race to
// another client's create is retried as an increment.
func (s *Storage) incrOrAdd(ctx context.Context, key string, delta uint64, exp int32) (uint64, error) {
	for range 4 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := s.client.Increment(key, delta)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, memcache.ErrCacheMiss) {
			return 0, fmt.Errorf("incr %s: %w", key, err)
		}
		err = s.client.Add(&memcache.Item{Key: key, Value: strconv.AppendUint(nil, delta, 10), Expiration: exp})
		if err == nil {
			return delta, nil
		}
		if !errors.Is(err, memcache.ErrNotStored) {
			return 0, fmt.Errorf("add %s: %w", key, err)
		}
	}
	return 0, fmt.Errorf("create counter %s: %w", key, ErrContention)
}

// undo takes back delta from the counter at key after a rejected increment.
// It runs even when the caller's context has ended, so a rejected hit never
// stays counted because its caller gave up.
func (s *Storage) undo(key string, delta uint64) error {
	if _, err := s.client.Decrement(key, delta); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("decr %s: %w", key, err)
	}
	return nil
}

// getOrNil returns the item at key, or nil if there is none.
func (s *Storage) getOrNil(key string) (*memcache.Item, error) {
	it, err := s.client.Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return it, nil
}

// store writes value at key: with add when prev is nil (the key was missing),
// else with compare-and-swap against prev. It reports false, with no error,
// when another client's write got there first.
func (s *Storage) store(key string, prev *memcache.Item, value []byte, exp int32) (bool, error) {
	var err error
	if prev == nil {
		err = s.client.Add(&memcache.Item{Key: key, Value: value, Expiration: exp})
	} else {
		err = s.client.CompareAndSwap(&memcache.Item{Key: key, Value: value, Expiration: exp, CasID: prev.CasID})
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCASConflict), errors.Is(err, memcache.ErrCacheMiss):
		return false, nil
	}
	return false, fmt.Errorf("store %s: %w", key, err)
}

// wrap prefixes err with the operation and the caller's key, keeping
// context and closed errors comparable.
func wrap(op, key string, err error) error {
	return fmt.Errorf("memcached storage: %s %q: %w", op, key, err)
}
