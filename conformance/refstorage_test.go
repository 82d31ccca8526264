package conformance_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/limiter"
)

// A fault is a deliberate bug the suite's own tests plant in the reference
// storage, to prove the suite catches it.
type fault string

const (
	faultNone         fault = ""
	faultOffByOne     fault = "off-by-one"        // the fixed-window counter allows Amount+1
	faultNoExpiry     fault = "no-expiry"         // fixed-window counters never expire
	faultNonAtomic    fault = "non-atomic"        // read, pause, write: concurrent hits lose updates
	faultTruncateKeys fault = "truncate-keys"     // keys cut to 250 bytes, as a careless memcached backend would
	faultHiddenCap    fault = "hidden-capability" // declares every capability, implements only Storage
	faultCoarseClock  fault = "coarse-clock"      // decides on whole seconds, as a server reading only the seconds of its clock would
	faultBatchNoStop  fault = "batch-no-stop"     // a batch runs every step, even after a rejected one
	faultBatchPeeks   fault = "batch-peeks-count" // a batch acquires at its peek steps
	faultBatchFixed   fault = "batch-fixed"       // a batch counts fixed windows whatever the strategy
	faultClearCurrent fault = "clear-current"     // Clear zeroes a sliding window's stored current count and keeps the previous one
	faultOneUnit      fault = "one-unit"          // a limit's window is one unit long, whatever its Multiples
	faultPeekCreates  fault = "peek-creates"      // a fixed-window peek on a missing key creates an empty counter, starting the window
	faultBucketWindow fault = "bucket-window"     // the token bucket holds a whole window of time, not Amount intervals
	faultClearGlob    fault = "clear-glob"        // Clear removes the other strategies' state of every key the cleared one begins
	faultProcessLock  fault = "process-lock"      // atomic by a lock of each storage's own over a non-atomic shared backend
	faultSplitRMW     fault = "split-rmw"         // read, write in a second critical section at once: no pause between them
	faultProcessSplit fault = "process-split"     // faultProcessLock over a backend with faultSplitRMW: a fast backend's race
	faultElasticLast  fault = "elastic-last"      // an elastic hit moves the window's end to its own instant's, earlier too
)

// refStorage is a deliberately simple Storage: one mutex and one map per
// algorithm of the limiter package's state types, with an optional fault.
// A batch holds the mutex throughout.
// With serverClock it decides on the system clock, as a server keeping its
// own time does, and reports instants relative to each request's Now. With
// lag every call on a window shorter than an hour waits that long before it
// reads the clock, as a call to a server on a loaded machine does; calls on
// longer windows (those the concurrency rules hammer) do not, so the run
// stays short.
type refStorage struct {
	fault       fault
	serverClock bool
	lag         time.Duration

	mu      sync.Mutex
	closed  bool
	fixed   map[string]limiter.FixedWindow
	moving  map[string]limiter.MovingWindow
	sliding map[string]limiter.SlidingWindow
	tokens  map[string]limiter.TokenBucket
}

var (
	_ limiter.Storage              = (*refStorage)(nil)
	_ limiter.MovingWindowStorage  = (*refStorage)(nil)
	_ limiter.SlidingWindowStorage = (*refStorage)(nil)
	_ limiter.TokenBucketStorage   = (*refStorage)(nil)
	_ limiter.ResetAller           = (*refStorage)(nil)
	_ limiter.BatchStorage         = (*refStorage)(nil)
)

func newRefStorage(f fault, serverClock bool, lag time.Duration) *refStorage {
	s := &refStorage{fault: f, serverClock: serverClock, lag: lag}
	s.reset()
	return s
}

func (s *refStorage) reset() {
	s.fixed = make(map[string]limiter.FixedWindow)
	s.moving = make(map[string]limiter.MovingWindow)
	s.sliding = make(map[string]limiter.SlidingWindow)
	s.tokens = make(map[string]limiter.TokenBucket)
}

// stepFunc is one operation on the state at key, under the lock.
type stepFunc func(r limiter.Request, key string) limiter.State

// do runs f under the lock on the storage's idea of the request, and maps
// the State's instants back to the request's Now.
func (s *refStorage) do(ctx context.Context, op string, r limiter.Request, f stepFunc) (limiter.State, error) {
	if err := ctx.Err(); err != nil {
		return limiter.State{}, fmt.Errorf("ref storage: %s %q: %w", op, r.Key, err)
	}
	if s.lag > 0 && r.Limit.Window() < time.Hour {
		time.Sleep(s.lag)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return limiter.State{}, fmt.Errorf("ref storage: %s %q: %w", op, r.Key, limiter.ErrClosed)
	}
	return s.step(r, f), nil
}

// step runs f on the storage's idea of the request, and maps the State's
// instants back to the request's Now. The caller holds s.mu.
func (s *refStorage) step(r limiter.Request, f stepFunc) limiter.State {
	if s.fault == faultOneUnit {
		r.Limit.Multiples = 1
	}
	asked := r.Now
	if s.serverClock {
		r.Now = time.Now()
	}
	if s.fault == faultCoarseClock {
		r.Now = r.Now.Truncate(time.Second)
	}
	st := f(r, s.key(r.Key))
	if !r.Now.Equal(asked) {
		shift := asked.UnixNano() - r.Now.UnixNano()
		st.ResetAt += shift
		st.RetryAt += shift
	}
	return st
}

func (s *refStorage) key(k string) string {
	if s.fault == faultTruncateKeys && len(k) > 250 {
		return k[:250]
	}
	return k
}

// pause lets other goroutines in between a read and a write when the
// storage is non-atomic. The caller holds s.mu.
func (s *refStorage) pause() {
	if s.fault == faultNonAtomic {
		s.mu.Unlock()
		time.Sleep(20 * time.Microsecond)
		s.mu.Lock()
	}
	if s.fault == faultSplitRMW {
		s.mu.Unlock()
		runtime.Gosched() // no pause, but room for another call
		s.mu.Lock()
	}
}

func (s *refStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	return s.do(ctx, "acquire fixed window", r, s.acquireFixed(elastic))
}

func (s *refStorage) acquireFixed(elastic bool) stepFunc {
	return func(r limiter.Request, k string) limiter.State {
		w := s.fixedWindow(r, k)
		s.pause()
		if s.fault == faultOffByOne {
			r.Limit.Amount++
		}
		st := w.Acquire(r, elastic)
		if elastic && s.fault == faultElasticLast {
			w.ExpiresAt = r.Now.UnixNano() + int64(r.Limit.Window())
			st.ResetAt = w.ExpiresAt
			if !st.Allowed {
				st.RetryAt = st.ResetAt
			}
		}
		s.fixed[k] = w
		return st
	}
}

// fixedWindow returns the counter at k. With faultNoExpiry a counter whose
// window has passed lives on, keeping its count, as one whose expiry was
// never set would.
func (s *refStorage) fixedWindow(r limiter.Request, k string) limiter.FixedWindow {
	w, ok := s.fixed[k]
	if !ok {
		return limiter.FixedWindow{Count: -1}
	}
	if now := r.Now.UnixNano(); s.fault == faultNoExpiry && !w.Live(now) {
		w.ExpiresAt = now + 1
	}
	return w
}

func (s *refStorage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "peek fixed window", r, s.peekFixed)
}

func (s *refStorage) peekFixed(r limiter.Request, k string) limiter.State {
	w := s.fixedWindow(r, k)
	if now := r.Now.UnixNano(); s.fault == faultPeekCreates && (!w.Live(now) || w.Count == 0) {
		// As a backend that creates the counter (SET NX with the window as
		// its expiry) before reading it would. A counter holding nothing
		// reports what a missing one does (ResetAt = RetryAt = r.Now), so
		// every peek looks right; only a later hit shows the early start.
		st := limiter.FixedWindow{Count: -1}.Peek(r)
		if !w.Live(now) {
			s.fixed[k] = limiter.FixedWindow{ExpiresAt: now + int64(r.Limit.Window())}
		}
		return st
	}
	return w.Peek(r)
}

func (s *refStorage) AcquireMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "acquire moving window", r, s.acquireMoving)
}

func (s *refStorage) acquireMoving(r limiter.Request, k string) limiter.State {
	w := limiter.MovingWindow{Times: slices.Clone(s.moving[k].Times)}
	s.pause()
	st := w.Acquire(r)
	s.moving[k] = w
	return st
}

func (s *refStorage) PeekMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "peek moving window", r, s.peekMoving)
}

func (s *refStorage) peekMoving(r limiter.Request, k string) limiter.State {
	return s.moving[k].Peek(r)
}

func (s *refStorage) AcquireSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "acquire sliding window", r, s.acquireSliding)
}

func (s *refStorage) acquireSliding(r limiter.Request, k string) limiter.State {
	w := s.sliding[k]
	s.pause()
	st := w.Acquire(r)
	s.sliding[k] = w
	return st
}

func (s *refStorage) PeekSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "peek sliding window", r, s.peekSliding)
}

func (s *refStorage) peekSliding(r limiter.Request, k string) limiter.State {
	return s.sliding[k].Peek(r)
}

func (s *refStorage) AcquireTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "acquire token bucket", r, s.acquireTokens)
}

func (s *refStorage) acquireTokens(r limiter.Request, k string) limiter.State {
	b, ok := s.tokens[k]
	if !ok {
		b.TAT = math.MinInt64
	}
	s.pause()
	if s.fault == faultBucketWindow {
		st, tat := windowBucket(b, r, true)
		if st.Allowed {
			b.TAT = tat
		}
		s.tokens[k] = b
		return st
	}
	st := b.Acquire(r)
	s.tokens[k] = b
	return st
}

// windowBucket is limiter.TokenBucket's arithmetic with the fault
// faultBucketWindow: a hit is allowed when max(TAT, now) + Cost × interval
// − now ≤ window, instead of ≤ Amount × interval, as a backend would that
// compares with the window it was given; Remaining is still counted from
// Amount × interval. When Amount does not divide the window by a wide
// margin (interval rounds down by a large fraction), a burst then exceeds
// Amount.
func windowBucket(b limiter.TokenBucket, r limiter.Request, take bool) (limiter.State, int64) {
	now := r.Now.UnixNano()
	amount := r.Limit.Amount
	if amount == 0 {
		return limiter.State{ResetAt: now, RetryAt: now}, b.TAT
	}
	interval := max(int64(r.Limit.Window())/amount, 1)
	capacity := interval * amount
	tat := max(b.TAT, now)
	remaining := func(t int64) int64 { return max((capacity-(t-now))/interval, 0) }
	next := tat + r.Cost*interval
	if r.Cost <= amount && next-now <= int64(r.Limit.Window()) {
		after := next
		if !take {
			after = tat
		}
		return limiter.State{Allowed: true, Remaining: remaining(after), ResetAt: after, RetryAt: now}, next
	}
	st := limiter.State{Remaining: remaining(tat), ResetAt: tat, RetryAt: next - capacity}
	if r.Cost > amount {
		st.RetryAt = st.ResetAt
	}
	return st, b.TAT
}

func (s *refStorage) PeekTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "peek token bucket", r, s.peekTokens)
}

func (s *refStorage) peekTokens(r limiter.Request, k string) limiter.State {
	b, ok := s.tokens[k]
	if !ok {
		b.TAT = math.MinInt64
	}
	if s.fault == faultBucketWindow {
		st, _ := windowBucket(b, r, false)
		return st
	}
	return b.Peek(r)
}

// stepFor returns the operation a batch step runs under strategy.
func (s *refStorage) stepFor(strategy string, peek bool) (stepFunc, error) {
	if s.fault == faultBatchPeeks {
		peek = false
	}
	if s.fault == faultBatchFixed {
		strategy = limiter.StrategyFixedWindow
	}
	switch {
	case strategy == limiter.StrategyFixedWindow || strategy == limiter.StrategyFixedWindowElasticExpiry:
		if peek {
			return s.peekFixed, nil
		}
		return s.acquireFixed(strategy == limiter.StrategyFixedWindowElasticExpiry), nil
	case strategy == limiter.StrategyMovingWindow && peek:
		return s.peekMoving, nil
	case strategy == limiter.StrategyMovingWindow:
		return s.acquireMoving, nil
	case strategy == limiter.StrategySlidingWindowCounter && peek:
		return s.peekSliding, nil
	case strategy == limiter.StrategySlidingWindowCounter:
		return s.acquireSliding, nil
	case strategy == limiter.StrategyTokenBucket && peek:
		return s.peekTokens, nil
	case strategy == limiter.StrategyTokenBucket:
		return s.acquireTokens, nil
	}
	return nil, fmt.Errorf("ref storage: %w %q", limiter.ErrUnknownStrategy, strategy)
}

// AcquireBatch runs the whole batch under one hold of the lock, so it is
// atomic across its keys.
func (s *refStorage) AcquireBatch(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("ref storage: acquire batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("ref storage: acquire batch: %w", limiter.ErrClosed)
	}
	for i := range ops {
		f, err := s.stepFor(strategy, ops[i].Peek)
		if err != nil {
			return 0, err
		}
		states[i] = s.step(ops[i].Request, f)
		if !states[i].Allowed && s.fault != faultBatchNoStop {
			return i + 1, nil
		}
	}
	return len(ops), nil
}

func (s *refStorage) Clear(ctx context.Context, key string) error {
	_, err := s.do(ctx, "clear", limiter.Request{Key: key}, func(_ limiter.Request, k string) limiter.State {
		delete(s.fixed, k)
		if s.fault == faultClearGlob {
			// As a backend keeping a key's optional state under several
			// keys, and deleting them by a pattern (key + "*") that
			// catches every key the cleared one begins.
			for other := range s.moving {
				if strings.HasPrefix(other, k) {
					delete(s.moving, other)
				}
			}
			for other := range s.sliding {
				if strings.HasPrefix(other, k) {
					delete(s.sliding, other)
				}
			}
			for other := range s.tokens {
				if strings.HasPrefix(other, k) {
					delete(s.tokens, other)
				}
			}
			return limiter.State{}
		}
		delete(s.moving, k)
		if w, ok := s.sliding[k]; ok && s.fault == faultClearCurrent {
			// As a backend keeping the two windows under two keys and
			// deleting only the current one would.
			w.Current = 0
			s.sliding[k] = w
		} else {
			delete(s.sliding, k)
		}
		delete(s.tokens, k)
		return limiter.State{}
	})
	return err
}

func (s *refStorage) ResetAll(ctx context.Context) (int64, error) {
	var n int64
	_, err := s.do(ctx, "reset all", limiter.Request{}, func(limiter.Request, string) limiter.State {
		n = int64(len(s.fixed) + len(s.moving) + len(s.sliding) + len(s.tokens))
		s.reset()
		return limiter.State{}
	})
	return n, err
}

func (s *refStorage) Check(ctx context.Context) error {
	_, err := s.do(ctx, "check", limiter.Request{}, func(limiter.Request, string) limiter.State { return limiter.State{} })
	return err
}

func (s *refStorage) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// fixedOnly exposes only the required interface of a refStorage, as a
// backend without any optional capability would.
type fixedOnly struct{ s *refStorage }

func (f fixedOnly) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	return f.s.AcquireFixedWindow(ctx, r, elastic)
}
func (f fixedOnly) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return f.s.PeekFixedWindow(ctx, r)
}
func (f fixedOnly) Clear(ctx context.Context, key string) error { return f.s.Clear(ctx, key) }
func (f fixedOnly) Check(ctx context.Context) error             { return f.s.Check(ctx) }
func (f fixedOnly) Close() error                                { return f.s.Close() }

// fixedOnlyBatch adds batches to a fixedOnly, as a backend that can batch
// but has no optional strategy would: batches under the other strategies
// fail with limiter.ErrUnsupported.
type fixedOnlyBatch struct{ fixedOnly }

func (f fixedOnlyBatch) AcquireBatch(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
	if strategy != limiter.StrategyFixedWindow && strategy != limiter.StrategyFixedWindowElasticExpiry {
		return 0, fmt.Errorf("ref storage: acquire batch under %q: %w", strategy, limiter.ErrUnsupported)
	}
	return f.s.AcquireBatch(ctx, strategy, ops, states)
}

// refHarness makes reference storages for the suite.
type refHarness struct {
	fault        fault
	acceptsClock bool
	serverClock  bool
	lag          time.Duration
	fixedOnly    bool
	batch        bool // with fixedOnly: a fixedOnlyBatch
}

func (h refHarness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	s := newRefStorage(h.fault, h.serverClock, h.lag)
	switch {
	case h.fixedOnly && h.batch:
		return fixedOnlyBatch{fixedOnly{s}}, nil
	case h.fixedOnly || h.fault == faultHiddenCap:
		return fixedOnly{s}, nil
	}
	return s, nil
}

func (h refHarness) AcceptsClock() bool { return h.acceptsClock }

func (h refHarness) Capabilities() conformance.Capabilities {
	if h.fixedOnly {
		return conformance.Capabilities{Batch: h.batch}
	}
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true, ResetAll: true, Batch: true}
}

func (h refHarness) Close() {}

func (h refHarness) maker() conformance.HarnessMaker {
	return func(context.Context, *testing.T) (conformance.Harness, error) { return h, nil }
}

// processLocal is a storage in front of a backend that other processLocal
// storages share, as the storages of several processes share a server:
// every call holds a lock of this storage's own. Over an atomic backend
// that is correct; over a non-atomic one (faultNonAtomic) it is atomic in
// one process only, a fault no rule over one storage can see. It offers
// the required interface only.
type processLocal struct {
	mu      sync.Mutex
	closed  bool
	backend *refStorage
}

// lock takes the storage's own lock, or fails once it is closed.
func (p *processLocal) lock() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("process-local storage: %w", limiter.ErrClosed)
	}
	return nil
}

func (p *processLocal) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	if err := p.lock(); err != nil {
		return limiter.State{}, err
	}
	defer p.mu.Unlock()
	return p.backend.AcquireFixedWindow(ctx, r, elastic)
}

func (p *processLocal) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if err := p.lock(); err != nil {
		return limiter.State{}, err
	}
	defer p.mu.Unlock()
	return p.backend.PeekFixedWindow(ctx, r)
}

func (p *processLocal) Clear(ctx context.Context, key string) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	return p.backend.Clear(ctx, key)
}

func (p *processLocal) Check(ctx context.Context) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.mu.Unlock()
	return p.backend.Check(ctx)
}

// Close closes this storage, not the backend the others still use.
func (p *processLocal) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// sharingHarness makes processLocal storages, each over a fresh backend
// with fault, and peers over the backend of the storage given.
type sharingHarness struct{ fault fault }

func (h sharingHarness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	return &processLocal{backend: newRefStorage(h.fault, false, 0)}, nil
}

func (h sharingHarness) MakePeer(_ context.Context, _ limiter.Clock, s limiter.Storage) (limiter.Storage, error) {
	p, ok := s.(*processLocal)
	if !ok {
		return nil, fmt.Errorf("sharing harness: a peer of %T", s)
	}
	return &processLocal{backend: p.backend}, nil
}

func (sharingHarness) AcceptsClock() bool                     { return true }
func (sharingHarness) Capabilities() conformance.Capabilities { return conformance.Capabilities{} }
func (sharingHarness) Close()                                 {}

func (h sharingHarness) maker() conformance.HarnessMaker {
	return func(context.Context, *testing.T) (conformance.Harness, error) { return h, nil }
}
