package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/redis/go-redis/v9"
)

// ErrUnexpectedReply is wrapped by errors about a script reply of the wrong
// shape, which means something other than this package's scripts answered.
var ErrUnexpectedReply = errors.New("redis storage: unexpected script reply")

// ErrShardDown is wrapped by [Storage.ResetAll] on a Ring with shards that
// go-redis holds down: their keys were not removed.
var ErrShardDown = errors.New("redis storage: ring shard down")

// Storage is a [limiter.Storage] on Redis with every optional capability:
// moving window, sliding window counter, token bucket and reset-all. Each
// Acquire or Peek is one Lua script, one round trip, that decides and
// reports atomically, so any number of application servers may share a
// bucket. Build one with [New] or open one with [limiter.Open].
//
// A Storage is safe for concurrent use. Its zero value is not usable.
type Storage struct {
	client  redis.UniversalClient
	cfg     config
	graceMS int64
	closed  atomic.Bool
	// crossSlot: the server refused a batch script over several slots (a
	// plain client on a cluster-enabled server); batches go step by step.
	crossSlot atomic.Bool
}

var (
	_ limiter.Storage              = (*Storage)(nil)
	_ limiter.MovingWindowStorage  = (*Storage)(nil)
	_ limiter.SlidingWindowStorage = (*Storage)(nil)
	_ limiter.TokenBucketStorage   = (*Storage)(nil)
	_ limiter.ResetAller           = (*Storage)(nil)
)

// New returns a Storage on client: a *redis.Client (standalone or Sentinel
// failover), a *redis.ClusterClient or a *redis.Ring. The client stays the
// caller's: Close leaves it open unless [WithOwnedClient] is given. For
// context deadlines to bound socket reads, the client's options should set
// ContextTimeoutEnabled, as [limiter.Open] does.
// Its MaxRetries should be -1, as [limiter.Open] sets it: go-redis retries
// a command whose connection broke, and a script whose reply was lost after
// it ran would then count the hit twice.
func New(client redis.UniversalClient, opts ...limiter.StorageOption) (*Storage, error) {
	if client == nil {
		return nil, fmt.Errorf("redis storage: New: nil client: %w", limiter.ErrInvalidOption)
	}
	s := &Storage{client: client, cfg: defaults()}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("redis storage: New: nil option: %w", limiter.ErrInvalidOption)
		}
		if err := opt(&s.cfg); err != nil {
			return nil, err
		}
	}
	s.graceMS = s.cfg.expiryGrace().Milliseconds()
	return s, nil
}

// Client returns the client the storage runs its commands on.
func (s *Storage) Client() redis.UniversalClient { return s.client }

// Script modes, the first argument of every step (see scripts.go).
const (
	modeAcquire = "a"
	modeElastic = "e"
	modePeek    = "p"
)

// AcquireFixedWindow implements [limiter.Storage].
func (s *Storage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	mode := modeAcquire
	if elastic {
		mode = modeElastic
	}
	return s.run(ctx, "acquire fixed window", fixedWindowScript, fixedWindowSuffix, r, mode)
}

// PeekFixedWindow implements [limiter.Storage].
func (s *Storage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "peek fixed window", fixedWindowScript, fixedWindowSuffix, r, modePeek)
}

// MaxMovingWindowAmount is the largest amount of a moving-window limit the
// storage holds. Its log keeps one list element per unit taken, and a hit
// pushes as many as it costs while the server waits: larger limits get an
// error wrapping [limiter.ErrUnsupported] ([Storage.CheckLimit] says so
// without a round trip).
const MaxMovingWindowAmount = 1 << 20

var errMovingAmount = fmt.Errorf("moving window supports amounts up to %d: %w", MaxMovingWindowAmount, limiter.ErrUnsupported)

// CheckLimit implements [limiter.LimitChecker]: moving-window limits above
// [MaxMovingWindowAmount] are refused.
func (s *Storage) CheckLimit(strategy string, l limiter.Limit) error {
	if strategy == limiter.StrategyMovingWindow && l.Amount > MaxMovingWindowAmount {
		return fmt.Errorf("redis storage: %s %s: %w", strategy, l, errMovingAmount)
	}
	return nil
}

// AcquireMovingWindow implements [limiter.MovingWindowStorage].
func (s *Storage) AcquireMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "acquire moving window", movingWindowScript, movingWindowSuffix, r, modeAcquire)
}

// PeekMovingWindow implements [limiter.MovingWindowStorage].
func (s *Storage) PeekMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "peek moving window", movingWindowScript, movingWindowSuffix, r, modePeek)
}

// AcquireSlidingWindow implements [limiter.SlidingWindowStorage].
func (s *Storage) AcquireSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "acquire sliding window", slidingWindowScript, slidingWindowSuffix, r, modeAcquire)
}

// PeekSlidingWindow implements [limiter.SlidingWindowStorage].
func (s *Storage) PeekSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "peek sliding window", slidingWindowScript, slidingWindowSuffix, r, modePeek)
}

// AcquireTokenBucket implements [limiter.TokenBucketStorage].
func (s *Storage) AcquireTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "acquire token bucket", tokenBucketScript, tokenBucketSuffix, r, modeAcquire)
}

// PeekTokenBucket implements [limiter.TokenBucketStorage].
func (s *Storage) PeekTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.run(ctx, "peek token bucket", tokenBucketScript, tokenBucketSuffix, r, modePeek)
}

// run evaluates one script for r and turns its reply into a State.
func (s *Storage) run(ctx context.Context, op string, script *script, suffix string, r limiter.Request, mode string) (limiter.State, error) {
	if s.closed.Load() {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %w", op, r.Key, limiter.ErrClosed)
	}
	if err := r.Limit.Validate(); err != nil {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %w", op, r.Key, err)
	}
	if r.Cost < 1 {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: cost %d: %w", op, r.Key, r.Cost, limiter.ErrInvalidCost)
	}
	if suffix == movingWindowSuffix && r.Limit.Amount > MaxMovingWindowAmount {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %w", op, r.Key, errMovingAmount)
	}
	if suffix == tokenBucketSuffix && r.Limit.Amount == 0 {
		// Nothing to store: every hit is rejected and nothing refills.
		now := r.Now.UnixNano()
		return limiter.State{ResetAt: now, RetryAt: now}, nil
	}
	args := s.appendScriptArgs(scriptArgs(redisKey(s.cfg.prefix, r.Key, suffix), tokenBucketArgs+2), &r, mode, suffix)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := script.run(ctx, s.client, args).Slice()
	if err != nil {
		err = s.callErr(ctx, err)
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %w", op, r.Key, err)
	}
	var buf [5]int64
	reply, ok := int64s(buf[:0], vals)
	if !ok {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %v: %w", op, r.Key, vals, ErrUnexpectedReply)
	}
	st, used, ok := decodeStep(reply, r.Now.UnixNano())
	if !ok || used != len(reply) {
		return limiter.State{}, fmt.Errorf("redis storage: %s %q: %d values: %w", op, r.Key, len(reply), ErrUnexpectedReply)
	}
	return st, nil
}

// appendScriptArgs appends the arguments of one script step for r (see
// scripts.go): the mode, the amount, the cost, the algorithm's own, and
// the request's instant when the storage uses the client clock.
func (s *Storage) appendScriptArgs(args []any, r *limiter.Request, mode, suffix string) []any {
	args = append(args, mode, r.Limit.Amount, r.Cost)
	window := r.Limit.Window()
	switch suffix {
	case fixedWindowSuffix:
		// The TTL of a window starting now: the window, rounded up past
		// now's microsecond, and the grace.
		args = append(args, window.Microseconds(), window.Milliseconds()+1+s.graceMS)
	case tokenBucketSuffix:
		// The emission interval, in nanoseconds, as the scripts'
		// (microseconds, nanoseconds) pair.
		interval := max(int64(window)/r.Limit.Amount, 1)
		args = append(args, interval/1000, interval%1000, s.graceMS)
	default:
		args = append(args, window.Microseconds(), s.graceMS)
	}
	if s.cfg.clientClock {
		args = append(args, r.Now.UnixMicro(), r.Now.Nanosecond()%1000)
	}
	return args
}

// decodeStep turns the values one script step replied (see scripts.go)
// into the State of a request made at now (Unix nanoseconds), and reports how many values it
// used: three, or five for a rejected hit whose retry instant is not its
// reset. ok is false if v is too short or the step's values are not last
// after a rejected hit.
func decodeStep(v []int64, now int64) (st limiter.State, used int, ok bool) {
	if len(v) < 3 {
		return limiter.State{}, 0, false
	}
	st = limiter.State{Allowed: v[0] >= 0, Remaining: v[0], ResetAt: now + offset(v[1], v[2]), RetryAt: now}
	if st.Allowed {
		return st, 3, true
	}
	st.Remaining = -1 - v[0]
	switch len(v) {
	case 3:
		st.RetryAt = st.ResetAt
		return st, 3, true
	case 5:
		st.RetryAt = now + offset(v[3], v[4])
		return st, 5, true
	}
	return limiter.State{}, 0, false
}

// offset returns u microseconds and f nanoseconds in nanoseconds.
func offset(u, f int64) int64 {
	return u*1000 + f
}

// callErr is the error of a call that failed: matching ctx's error when
// ctx caused it (see withContextErr), and [limiter.ErrClosed] when Close ran
// meanwhile, which on an owned client closes the connections in use: the
// caller then learns the storage was closed, not that Redis failed.
func (s *Storage) callErr(ctx context.Context, err error) error {
	err = withContextErr(ctx, err)
	if s.closed.Load() && !errors.Is(err, limiter.ErrClosed) {
		return fmt.Errorf("%w: %w", limiter.ErrClosed, err)
	}
	return err
}

// withContextErr makes a failure caused by ctx's deadline or cancellation
// comparable with errors.Is(err, context.DeadlineExceeded) (or Canceled):
// go-redis reports a read cut short by the deadline as the socket's i/o
// timeout.
func withContextErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil {
		// The socket's deadline is the context's, and may fire a moment
		// before the context's own timer marks it done.
		var ne net.Error
		if d, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(d) {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// bound gives ctx the storage's default deadline if it has none.
func (s *Storage) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.cfg.timeout <= 0 {
		return ctx, func() {}
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.timeout)
}

// Clear implements [limiter.Storage]: one DEL of every capability's key for
// key, all in one hash slot.
func (s *Storage) Clear(ctx context.Context, key string) error {
	if s.closed.Load() {
		return fmt.Errorf("redis storage: clear %q: %w", key, limiter.ErrClosed)
	}
	keys := make([]string, len(suffixes))
	for i, suffix := range suffixes {
		keys[i] = redisKey(s.cfg.prefix, key, suffix)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("redis storage: clear %q: %w", key, s.callErr(ctx, err))
	}
	return nil
}

// Check implements [limiter.Storage] with a PING.
func (s *Storage) Check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("redis storage: check: %w", limiter.ErrClosed)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis storage: check: %w", s.callErr(ctx, err))
	}
	return nil
}

// ResetAll implements [limiter.ResetAller]: it SCANs every master (every
// shard of a Ring) for keys of this storage's prefix and UNLINKs them, one
// command per key so no command spans hash slots. It returns how many keys
// it removed. The default timeout bounds each round trip, not the whole
// scan.
func (s *Storage) ResetAll(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("redis storage: reset all: %w", limiter.ErrClosed)
	}
	var removed atomic.Int64
	pattern := scanPattern(s.cfg.prefix)
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			var keys []string
			var err error
			func() {
				ctx, cancel := s.bound(ctx)
				defer cancel()
				defer func() {
					if err != nil {
						err = s.callErr(ctx, err)
					}
				}()
				keys, cursor, err = c.Scan(ctx, cursor, pattern, 1000).Result()
				if err != nil || len(keys) == 0 {
					return
				}
				cmds := make([]*redis.IntCmd, len(keys))
				_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i, k := range keys {
						cmds[i] = p.Unlink(ctx, k)
					}
					return nil
				})
				for _, cmd := range cmds {
					removed.Add(cmd.Val())
				}
			}()
			if err != nil {
				return err
			}
			if cursor == 0 {
				return nil
			}
		}
	}
	var err error
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	case *redis.Ring:
		// ForEachShard skips the shards it holds down, whose keys would
		// then outlive a reset reported as done: every shard must answer.
		var scanned atomic.Int64
		err = c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			scanned.Add(1)
			return scan(ctx, shard)
		})
		if want := int64(len(c.Options().Addrs)); err == nil && scanned.Load() < want {
			err = fmt.Errorf("%d of %d ring shards are down: %w", want-scanned.Load(), want, ErrShardDown)
		}
	default:
		err = scan(ctx, s.client)
	}
	if err != nil {
		return removed.Load(), fmt.Errorf("redis storage: reset all: %w", err)
	}
	return removed.Load(), nil
}

// Close implements [limiter.Storage]. It closes the client only if the
// storage owns it ([WithOwnedClient], or a storage from [limiter.Open]).
func (s *Storage) Close() error {
	if s.closed.Swap(true) || !s.cfg.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis storage: close: %w", err)
	}
	return nil
}
