package memcached

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// A fixed window is two items. The window item (suffix ":w") holds a random
// window id and the window's expiry instant, "<id> <unix ns>"; it is created
// with add and replaced, once dead, with compare-and-swap. The counter item
// (":c:<id>") holds the count for that window and is changed only with
// incr/decr, so concurrent hits never retry. A new window gets a new id and
// so a new counter that starts at zero: no counter is ever reset.
//
// A hit reads the window item, then increments the counter by the cost; if
// the new count exceeds the amount it decrements it back and rejects. That
// never admits more than the amount. It may reject a hit that would have
// fitted when another hit, itself rejected, has not yet taken its cost back:
// with cost 1 this cannot happen (an over-count means the window was full),
// with mixed costs it can, transiently.

// window is the decoded content of a window item.
type window struct {
	id        string // 16 hex digits
	expiresAt int64  // Unix nanoseconds
}

func encodeWindow(w window) []byte {
	b := make([]byte, 0, 40)
	b = append(b, w.id...)
	b = append(b, ' ')
	return strconv.AppendInt(b, w.expiresAt, 10)
}

func decodeWindow(v []byte) (window, bool) {
	id, exp, ok := bytes.Cut(v, []byte{' '})
	if !ok || len(id) != 16 {
		return window{}, false
	}
	e, err := strconv.ParseInt(string(exp), 10, 64)
	if err != nil {
		return window{}, false
	}
	return window{id: string(id), expiresAt: e}, true
}

func newWindowID() string {
	var b [8]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// AcquireFixedWindow counts a hit as [limiter.Storage] describes. It takes
// two round trips (get the window, incr its counter), three when the hit is
// rejected (decr), and for elastic expiry a compare-and-swap that moves the
// window's end to r.Now + window, plus a touch of the counter. Concurrent
// elastic hits keep the latest end any of them asked for.
func (s *Storage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		return s.acquireFixedWindow(ctx, r, elastic)
	})
	if err != nil {
		return limiter.State{}, wrap("acquire fixed window", r.Key, err)
	}
	return st, nil
}

func (s *Storage) acquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	now, length := r.Now.UnixNano(), int64(r.Limit.Window())
	b := s.base(r.Key)
	wk := b + sufWindow
	w, item, err := s.liveWindow(ctx, wk, now, length)
	if err != nil {
		return limiter.State{}, err
	}
	ck := b + sufCounter + w.id
	var before int64
	if r.Cost > r.Limit.Amount {
		// Never allowed: count nothing, just report.
		if before, err = s.count(ck); err != nil {
			return limiter.State{}, err
		}
	} else {
		n, err := s.incrOrAdd(ctx, ck, uint64(r.Cost), s.expiration(time.Duration(w.expiresAt-now)))
		if err != nil {
			return limiter.State{}, err
		}
		before = int64(n) - r.Cost
	}
	allowed := r.Cost <= r.Limit.Amount-before
	if r.Cost <= r.Limit.Amount && !allowed {
		if err := s.undo(ck, uint64(r.Cost)); err != nil {
			return limiter.State{}, err
		}
	}
	if elastic {
		if w.expiresAt, err = s.extend(ctx, wk, item, w, ck, now, now+length); err != nil {
			if allowed {
				err = errors.Join(err, s.undo(ck, uint64(r.Cost)))
			}
			return limiter.State{}, err
		}
	}
	fw := limiter.FixedWindow{Count: before, ExpiresAt: w.expiresAt}
	st := fw.Acquire(r, false)
	st.Remaining = max(st.Remaining, 0)
	return st, nil
}

// liveWindow returns the window live at now, creating one that ends at
// now + length if there is none or the stored one is dead. It returns the
// window item as read, for a later compare-and-swap, or nil for a window it
// created.
func (s *Storage) liveWindow(ctx context.Context, wk string, now, length int64) (window, *memcache.Item, error) {
	for attempt := range maxAttempts {
		if err := backoff(ctx, attempt); err != nil {
			return window{}, nil, err
		}
		item, err := s.getOrNil(wk)
		if err != nil {
			return window{}, nil, err
		}
		if item != nil {
			if w, ok := decodeWindow(item.Value); ok && now < w.expiresAt {
				return w, item, nil
			}
		}
		w := window{id: newWindowID(), expiresAt: now + length}
		value := encodeWindow(w)
		ok, err := s.store(wk, item, value, s.expiration(time.Duration(w.expiresAt-now)))
		if err != nil {
			return window{}, nil, err
		}
		if ok {
			// A new window ends at now + length already: elastic
			// expiry has nothing to move, so no CAS id is needed.
			return w, nil, nil
		}
	}
	return window{}, nil, fmt.Errorf("create window %s: %w", wk, ErrContention)
}

// extend moves the end of window w, whose item was last seen as item (nil
// if not known), to target unless it already ends at or after target, and
// keeps the counter ck alive as long. It returns the window's end.
func (s *Storage) extend(ctx context.Context, wk string, item *memcache.Item, w window, ck string, now, target int64) (int64, error) {
	for attempt := range maxAttempts {
		if w.expiresAt >= target {
			return w.expiresAt, nil
		}
		if item != nil {
			exp := s.expiration(time.Duration(target - now))
			ok, err := s.store(wk, item, encodeWindow(window{id: w.id, expiresAt: target}), exp)
			if err != nil {
				return 0, err
			}
			if ok {
				if err := s.client.Touch(ck, exp); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
					return 0, fmt.Errorf("touch %s: %w", ck, err)
				}
				return target, nil
			}
		}
		if err := backoff(ctx, attempt); err != nil {
			return 0, err
		}
		var err error
		if item, err = s.getOrNil(wk); err != nil {
			return 0, err
		}
		cur, ok := window{}, false
		if item != nil {
			cur, ok = decodeWindow(item.Value)
		}
		if !ok || cur.id != w.id {
			// The window was cleared or replaced since this hit was
			// counted in it: there is nothing left to extend.
			return target, nil
		}
		w = cur
	}
	return 0, fmt.Errorf("extend window %s: %w", wk, ErrContention)
}

// count returns the counter at ck, 0 if missing.
func (s *Storage) count(ck string) (int64, error) {
	item, err := s.getOrNil(ck)
	if err != nil || item == nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(item.Value)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("counter %s holds %q: %w: %w", ck, item.Value, ErrCorrupt, err)
	}
	return n, nil
}

// PeekFixedWindow reports the state of the fixed window at r.Key, as
// [limiter.Storage] describes, in one round trip when no window is live and
// two otherwise.
func (s *Storage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		now := r.Now.UnixNano()
		b := s.base(r.Key)
		item, err := s.getOrNil(b + sufWindow)
		if err != nil {
			return limiter.State{}, err
		}
		var w window
		ok := false
		if item != nil {
			w, ok = decodeWindow(item.Value)
		}
		if !ok || now >= w.expiresAt {
			now := r.Now.UnixNano()
			return limiter.State{Allowed: r.Cost <= r.Limit.Amount, Remaining: r.Limit.Amount, ResetAt: now, RetryAt: now}, nil
		}
		n, err := s.count(b + sufCounter + w.id)
		if err != nil {
			return limiter.State{}, err
		}
		st := limiter.FixedWindow{Count: n, ExpiresAt: w.expiresAt}.Peek(r)
		st.Remaining = min(max(st.Remaining, 0), r.Limit.Amount)
		return st, nil
	})
	if err != nil {
		return limiter.State{}, wrap("peek fixed window", r.Key, err)
	}
	return st, nil
}
