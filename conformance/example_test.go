package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/limiter"
)

// counterStorage is the storage under test: fixed-window counters in a map,
// with the arithmetic of limiter.FixedWindow. It implements only the
// required limiter.Storage, and is safe for concurrent use.
type counterStorage struct {
	mu       sync.Mutex
	closed   bool
	counters map[string]limiter.FixedWindow
}

// do runs f under the lock, unless ctx is done or the storage closed.
func (s *counterStorage) do(ctx context.Context, op, key string, f func() limiter.State) (limiter.State, error) {
	if err := ctx.Err(); err != nil {
		return limiter.State{}, fmt.Errorf("counter storage: %s %q: %w", op, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return limiter.State{}, fmt.Errorf("counter storage: %s %q: %w", op, key, limiter.ErrClosed)
	}
	return f(), nil
}

func (s *counterStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	return s.do(ctx, "acquire", r.Key, func() limiter.State {
		w := s.counters[r.Key] // the zero FixedWindow is no live counter
		st := w.Acquire(r, elastic)
		s.counters[r.Key] = w
		return st
	})
}

func (s *counterStorage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	return s.do(ctx, "peek", r.Key, func() limiter.State { return s.counters[r.Key].Peek(r) })
}

func (s *counterStorage) Clear(ctx context.Context, key string) error {
	_, err := s.do(ctx, "clear", key, func() limiter.State {
		delete(s.counters, key)
		return limiter.State{}
	})
	return err
}

func (s *counterStorage) Check(ctx context.Context) error {
	_, err := s.do(ctx, "check", "", func() limiter.State { return limiter.State{} })
	return err
}

func (s *counterStorage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// counterHarness tells the suite how to make counterStorages and what they
// can do.
type counterHarness struct{}

// MakeStorage returns a new, empty storage for one rule.
func (counterHarness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	return &counterStorage{counters: make(map[string]limiter.FixedWindow)}, nil
}

// AcceptsClock is true: the storage keeps time only through Request.Now, so
// the suite steps a manual clock and checks every edge exactly, instantly.
func (counterHarness) AcceptsClock() bool { return true }

// Capabilities declares no optional interface: the rules of the other
// strategies, and of ResetAll and batches, are skipped with the reason.
func (counterHarness) Capabilities() conformance.Capabilities { return conformance.Capabilities{} }

// Close has nothing to release: no server, no client.
func (counterHarness) Close() {}

// newCounterHarness is the conformance.HarnessMaker the storage's tests hand
// to conformance.Run.
func newCounterHarness(context.Context, *testing.T) (conformance.Harness, error) {
	return counterHarness{}, nil
}

// ExampleRun checks a storage against the suite. Its test is one line, in
// a _test.go file of the storage's package (this package's
// TestExampleHarness runs exactly that on the counterStorage above):
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, newCounterHarness)
//	}
//
// Run needs that test's *testing.T, so the example itself plays what Run
// does for one rule: it makes a harness and a storage on the clock the
// suite steps, uses the storage, and closes both.
func ExampleRun() {
	ctx := context.Background()
	h := counterHarness{}
	defer h.Close()
	clock := limiter.NewManualClock(time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC))
	s, err := h.MakeStorage(ctx, clock)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	fixed, err := limiter.NewStrategy(limiter.StrategyFixedWindow, s)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := limiter.MustParse("2 per minute")
	hit := func(what string) {
		res, err := fixed.Hit(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: clock.Now()})
		switch {
		case err != nil:
			fmt.Println(what, err)
		case res.Allowed:
			fmt.Printf("%s: allowed, %d left\n", what, res.Remaining)
		default:
			fmt.Printf("%s: rejected, retry after %v\n", what, res.RetryAfter)
		}
	}
	hit("hit 1")
	hit("hit 2")
	clock.Advance(20 * time.Second)
	hit("hit 3, 20s later")
	clock.Advance(40 * time.Second)
	hit("hit 4, at the end of the window")

	// A strategy whose capability the storage lacks fails at construction;
	// Run skips its rules.
	_, err = limiter.NewStrategy(limiter.StrategyMovingWindow, s)
	fmt.Println("moving window unsupported:", errors.Is(err, limiter.ErrUnsupported))
	// Output:
	// hit 1: allowed, 1 left
	// hit 2: allowed, 0 left
	// hit 3, 20s later: rejected, retry after 40s
	// hit 4, at the end of the window: allowed, 1 left
	// moving window unsupported: true
}
