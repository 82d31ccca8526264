// Package ownstorage is a storage written outside limits-go, to show what a
// third party implements and how it runs the conformance suite (see
// examples_test.go). It keeps fixed-window counters in a map behind one
// mutex, and implements only the required limiter.Storage interface, so it
// runs the fixed-window and fixed-window-elastic-expiry strategies; the
// suite skips the rules of the capabilities it does not declare.
package ownstorage

import (
	"context"
	"fmt"
	"sync"

	"github.com/limits-go/limits/limiter"
)

// Storage is a map of fixed-window counters. Its zero value is not usable;
// call New. It is safe for concurrent use. Expired counters are replaced
// when next hit, never swept: fine for a demonstration, not for production.
type Storage struct {
	mu      sync.Mutex
	windows map[string]limiter.FixedWindow
	closed  bool
}

var _ limiter.Storage = (*Storage)(nil)

// New returns an empty storage.
func New() *Storage {
	return &Storage{windows: make(map[string]limiter.FixedWindow)}
}

// AcquireFixedWindow counts a hit with the arithmetic of
// limiter.FixedWindow, which implements the contract's rules.
func (s *Storage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	if err := s.ready(ctx, "acquire", r.Key); err != nil {
		return limiter.State{}, err
	}
	defer s.mu.Unlock()
	w := s.windows[r.Key]
	st := w.Acquire(r, elastic)
	s.windows[r.Key] = w
	return st, nil
}

// PeekFixedWindow reports what AcquireFixedWindow would do.
func (s *Storage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if err := s.ready(ctx, "peek", r.Key); err != nil {
		return limiter.State{}, err
	}
	defer s.mu.Unlock()
	return s.windows[r.Key].Peek(r), nil
}

// Clear forgets key.
func (s *Storage) Clear(ctx context.Context, key string) error {
	if err := s.ready(ctx, "clear", key); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.windows, key)
	return nil
}

// Check reports whether the storage is open.
func (s *Storage) Check(ctx context.Context) error {
	if err := s.ready(ctx, "check", ""); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close drops every counter; later calls fail with limiter.ErrClosed.
func (s *Storage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.windows = true, nil
	return nil
}

// ready checks the context and that the storage is open, and returns with
// the mutex held when it reports nil.
func (s *Storage) ready(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ownstorage: %s %q: %w", op, key, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("ownstorage: %s %q: %w", op, key, limiter.ErrClosed)
	}
	return nil
}
