package memcached

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// The moving window is one item (":mw") holding the log of
// [limiter.MovingWindow] in a compact binary form: runs of equal instants,
// each the varint difference from the run before (the first from zero) and
// the uvarint length of the run. Hits go through the same read, decide,
// compare-and-swap loop as the token bucket: exact, rejected hits write
// nothing, ErrContention after maxAttempts lost races.
//
// The log holds up to Amount instants, and memcached items are at most 1MB
// by default, so amounts above MaxMovingWindowAmount are refused.

// MaxMovingWindowAmount is the largest amount the moving-window strategy
// accepts on this storage; larger limits get an error wrapping
// [limiter.ErrUnsupported] (a log of that many distinct instants may not fit
// in one memcached item).
const MaxMovingWindowAmount = 65536

func encodeLog(times []int64) []byte {
	b := make([]byte, 0, 8+len(times))
	var prev int64
	for i := 0; i < len(times); {
		j := i + 1
		for j < len(times) && times[j] == times[i] {
			j++
		}
		b = binary.AppendVarint(b, times[i]-prev)
		b = binary.AppendUvarint(b, uint64(j-i))
		prev = times[i]
		i = j
	}
	return b
}

func decodeLog(item *memcache.Item) (limiter.MovingWindow, error) {
	var w limiter.MovingWindow
	if item == nil {
		return w, nil
	}
	v := item.Value
	var prev int64
	for len(v) > 0 {
		d, n := binary.Varint(v)
		if n <= 0 {
			return w, fmt.Errorf("moving window %s: %w: undecodable log", item.Key, ErrCorrupt)
		}
		v = v[n:]
		run, m := binary.Uvarint(v)
		if m <= 0 || run > MaxMovingWindowAmount-uint64(len(w.Times)) {
			return w, fmt.Errorf("moving window %s: %w: undecodable log", item.Key, ErrCorrupt)
		}
		v = v[m:]
		prev += d
		for range run {
			w.Times = append(w.Times, prev)
		}
	}
	return w, nil
}

var errMovingAmount = fmt.Errorf("moving window supports amounts up to %d: %w", MaxMovingWindowAmount, limiter.ErrUnsupported)

// AcquireMovingWindow counts a hit as [limiter.MovingWindowStorage]
// describes: a get, and for an allowed hit a compare-and-swap of the pruned
// log (add for a new key), repeated if another client wrote in between.
func (s *Storage) AcquireMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		if r.Limit.Amount > MaxMovingWindowAmount {
			return limiter.State{}, errMovingAmount
		}
		key := s.base(r.Key) + sufMovingWindow
		for attempt := range maxAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return limiter.State{}, err
			}
			item, err := s.getOrNil(key)
			if err != nil {
				return limiter.State{}, err
			}
			w, err := decodeLog(item)
			if err != nil {
				return limiter.State{}, err
			}
			st := w.Acquire(r)
			if !st.Allowed {
				return st, nil
			}
			ok, err := s.store(key, item, encodeLog(w.Times), s.expiration(time.Duration(st.ResetAt-r.Now.UnixNano())))
			if err != nil {
				return limiter.State{}, err
			}
			if ok {
				return st, nil
			}
		}
		return limiter.State{}, ErrContention
	})
	if err != nil {
		return limiter.State{}, wrap("acquire moving window", r.Key, err)
	}
	return st, nil
}

// PeekMovingWindow reports what AcquireMovingWindow would, in one round
// trip.
func (s *Storage) PeekMovingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		if r.Limit.Amount > MaxMovingWindowAmount {
			return limiter.State{}, errMovingAmount
		}
		item, err := s.getOrNil(s.base(r.Key) + sufMovingWindow)
		if err != nil {
			return limiter.State{}, err
		}
		w, err := decodeLog(item)
		if err != nil {
			return limiter.State{}, err
		}
		return w.Peek(r), nil
	})
	if err != nil {
		return limiter.State{}, wrap("peek moving window", r.Key, err)
	}
	return st, nil
}
