package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/limits-go/limits/limiter"
)

// Storage is an in-process [limiter.Storage] implementing every capability:
// fixed window (plain and elastic expiry), moving window, sliding window
// counter, token bucket and reset-all.
//
// Keys are spread over shards by a seeded hash, each shard behind its own
// mutex, so goroutines hitting different keys rarely wait for each other and
// a hit on a key that already exists allocates nothing. A background sweeper
// removes expired state every sweep interval, so memory follows the number
// of live keys. Decisions act on each request's Now; the sweeper and
// ResetAll read the storage's clock (see [WithClock]).
//
// A Storage is safe for concurrent use by multiple goroutines. It must be
// made with [New] (or [limiter.Open] with a memory:// URI); after Close
// every method returns an error wrapping [limiter.ErrClosed].
type Storage struct {
	shards []shard
	mask   uint64
	seed   maphash.Seed
	clock  limiter.Clock
	closed atomic.Bool

	closeOnce sync.Once
	stop      chan struct{} // closed by Close to stop the sweeper
	done      chan struct{} // closed by the sweeper when it returns
}

var (
	_ limiter.Storage              = (*Storage)(nil)
	_ limiter.MovingWindowStorage  = (*Storage)(nil)
	_ limiter.SlidingWindowStorage = (*Storage)(nil)
	_ limiter.TokenBucketStorage   = (*Storage)(nil)
	_ limiter.ResetAller           = (*Storage)(nil)
)

// New returns an empty storage configured by opts: [WithClock],
// [WithSweepInterval] and [WithShards]. Options of other backends are
// rejected with an error wrapping [limiter.ErrInvalidOption]. Unless the
// sweep interval is 0, New starts the sweeper goroutine; Close stops it.
func New(opts ...limiter.StorageOption) (*Storage, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("memory storage: nil option: %w", limiter.ErrInvalidOption)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	n := 1 << bits.Len(uint(cfg.shards-1)) // round up to a power of two
	s := &Storage{
		shards: make([]shard, n),
		mask:   uint64(n - 1),
		seed:   maphash.MakeSeed(),
		clock:  cfg.clock,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].init()
	}
	if cfg.sweepInterval > 0 {
		go s.sweepEvery(cfg.sweepInterval)
	} else {
		close(s.done)
	}
	return s, nil
}

// shard returns the shard holding key.
func (s *Storage) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

// usable returns the error an operation named op on key must fail with: the
// storage is closed or ctx is done. It is nil on the hot path.
func (s *Storage) usable(ctx context.Context, op, key string) error {
	if s.closed.Load() {
		return fmt.Errorf("memory storage: %s %q: %w", op, key, limiter.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory storage: %s %q: %w", op, key, err)
	}
	return nil
}

// lock checks that the storage is usable for op on key, then locks key's
// shard and returns it. Close marks the storage closed before it empties
// each shard under its lock, so a call that takes a lock after Close
// emptied that shard sees the mark and adds nothing back.
func (s *Storage) lock(ctx context.Context, op, key string) (*shard, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	if s.closed.Load() || ctx.Err() != nil {
		sh.mu.Unlock()
		return nil, s.usable(ctx, op, key)
	}
	return sh, nil
}

// Clear removes everything stored under key by any strategy.
func (s *Storage) Clear(ctx context.Context, key string) error {
	sh, err := s.lock(ctx, "clear", key)
	if err != nil {
		return err
	}
	sh.clear(key)
	sh.mu.Unlock()
	return nil
}

// ResetAll removes every key and returns how many held live state at the
// storage clock's current instant: a key used by several strategies counts
// once per strategy, and expired state not yet swept is removed but not
// counted.
func (s *Storage) ResetAll(ctx context.Context) (int64, error) {
	// Not usable: its message would name a key, and ResetAll has none.
	if s.closed.Load() {
		return 0, fmt.Errorf("memory storage: reset all: %w", limiter.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memory storage: reset all: %w", err)
	}
	now := s.clock.Now().UnixNano()
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.live(now)
		sh.init()
		sh.mu.Unlock()
	}
	return n, nil
}

// Len returns how many keys hold state, live or expired but not yet swept. A
// key counted under several strategies counts once per strategy.
func (s *Storage) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.len()
		sh.mu.Unlock()
	}
	return n
}

// Check reports whether the storage is usable: nil until it is closed.
func (s *Storage) Check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("memory storage: check: %w", limiter.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory storage: check: %w", err)
	}
	return nil
}

// Close stops the sweeper, waits for it to return and drops every key.
// Later calls do nothing and return nil.
func (s *Storage) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.init()
			sh.mu.Unlock()
		}
	})
	return nil
}
