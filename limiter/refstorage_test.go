package limiter

import (
	"context"
	"fmt"
	"sync"
)

// refStorage is the reference Storage the strategy tests run against: a
// mutex and one map per algorithm of the state types in algorithms.go. It
// implements Storage and every capability interface, and counts its calls
// so tests can check that a strategy makes exactly one per hit.
type refStorage struct {
	mu      sync.Mutex
	closed  bool
	fixed   map[string]FixedWindow
	moving  map[string]*MovingWindow
	sliding map[string]SlidingWindow
	bucket  map[string]TokenBucket
	calls   int
	fail    error // when set, every operation returns it
}

var (
	_ Storage              = (*refStorage)(nil)
	_ MovingWindowStorage  = (*refStorage)(nil)
	_ SlidingWindowStorage = (*refStorage)(nil)
	_ TokenBucketStorage   = (*refStorage)(nil)
	_ ResetAller           = (*refStorage)(nil)
)

func newRefStorage() *refStorage {
	return &refStorage{
		fixed:   make(map[string]FixedWindow),
		moving:  make(map[string]*MovingWindow),
		sliding: make(map[string]SlidingWindow),
		bucket:  make(map[string]TokenBucket),
	}
}

// enter locks s and reports why the operation cannot run, if it cannot.
// The caller unlocks.
func (s *refStorage) enter(ctx context.Context, op, key string) error {
	s.mu.Lock()
	s.calls++
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ref storage: %s %q: %w", op, key, err)
	}
	if s.closed {
		return fmt.Errorf("ref storage: %s %q: %w", op, key, ErrClosed)
	}
	if s.fail != nil {
		return fmt.Errorf("ref storage: %s %q: %w", op, key, s.fail)
	}
	return nil
}

func (s *refStorage) AcquireFixedWindow(ctx context.Context, r Request, elastic bool) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "acquire fixed window", r.Key); err != nil {
		return State{}, err
	}
	w := s.fixed[r.Key]
	st := w.Acquire(r, elastic)
	s.fixed[r.Key] = w
	return st, nil
}

func (s *refStorage) PeekFixedWindow(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "peek fixed window", r.Key); err != nil {
		return State{}, err
	}
	return s.fixed[r.Key].Peek(r), nil
}

func (s *refStorage) AcquireMovingWindow(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "acquire moving window", r.Key); err != nil {
		return State{}, err
	}
	w := s.moving[r.Key]
	if w == nil {
		w = new(MovingWindow)
		s.moving[r.Key] = w
	}
	return w.Acquire(r), nil
}

func (s *refStorage) PeekMovingWindow(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "peek moving window", r.Key); err != nil {
		return State{}, err
	}
	var w MovingWindow
	if p := s.moving[r.Key]; p != nil {
		w = *p
	}
	return w.Peek(r), nil
}

func (s *refStorage) AcquireSlidingWindow(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "acquire sliding window", r.Key); err != nil {
		return State{}, err
	}
	w := s.sliding[r.Key]
	st := w.Acquire(r)
	s.sliding[r.Key] = w
	return st, nil
}

func (s *refStorage) PeekSlidingWindow(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "peek sliding window", r.Key); err != nil {
		return State{}, err
	}
	return s.sliding[r.Key].Peek(r), nil
}

func (s *refStorage) AcquireTokenBucket(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "acquire token bucket", r.Key); err != nil {
		return State{}, err
	}
	b := s.bucket[r.Key]
	st := b.Acquire(r)
	s.bucket[r.Key] = b
	return st, nil
}

func (s *refStorage) PeekTokenBucket(ctx context.Context, r Request) (State, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "peek token bucket", r.Key); err != nil {
		return State{}, err
	}
	return s.bucket[r.Key].Peek(r), nil
}

func (s *refStorage) Clear(ctx context.Context, key string) error {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "clear", key); err != nil {
		return err
	}
	delete(s.fixed, key)
	delete(s.moving, key)
	delete(s.sliding, key)
	delete(s.bucket, key)
	return nil
}

func (s *refStorage) ResetAll(ctx context.Context) (int64, error) {
	defer s.mu.Unlock()
	if err := s.enter(ctx, "reset all", ""); err != nil {
		return 0, err
	}
	n := int64(len(s.fixed) + len(s.moving) + len(s.sliding) + len(s.bucket))
	clear(s.fixed)
	clear(s.moving)
	clear(s.sliding)
	clear(s.bucket)
	return n, nil
}

func (s *refStorage) Check(ctx context.Context) error {
	defer s.mu.Unlock()
	return s.enter(ctx, "check", "")
}

func (s *refStorage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// callCount returns how many operations s has been asked to perform.
func (s *refStorage) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fixedOnly hides every capability of a refStorage but the required
// Storage interface.
type fixedOnly struct{ Storage }

func newFixedOnly() fixedOnly { return fixedOnly{newRefStorage()} }
