package memcached

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// The sliding window counter keeps two slot items per key, one for
// even-numbered windows (":s0") and one for odd-numbered ones (":s1"),
// window number n = start / window length. A slot holds one decimal number,
// stamp × 2³² + count, where stamp is n mod 2³²: memcached's incr adds to
// the count and leaves the stamp alone, and a reader can tell a slot that
// still holds an older window (counted as zero) from the live one. The
// current window's slot is n's, the previous window's the other one, so a
// hit reads both in one get and Clear knows which keys to delete.
//
// A hit reads both slots and rejects at once if the weighted count leaves
// no room. Otherwise it increments the current slot (creating it with add,
// or re-stamping a stale slot with compare-and-swap, once per window), then
// re-checks the weighted count with the value incr returned — the count
// including every concurrent hit — against the previous window's count it
// read, and undoes its increment if the limit is now exceeded. The previous
// count cannot change once its window is over, so the re-check is exact:
// the limit is never exceeded, and, as for the fixed window, a hit may be
// rejected transiently while a rejected hit of a larger cost undoes itself.
// (Re-checking with the current count read before the increment instead, as
// the Python limits library's memcached storage does, would admit every
// concurrent hit that passed the first check; TestConcurrentHitsAreExact
// catches that.)

const (
	slotBits  = 32
	slotMask  = 1<<slotBits - 1
	maxAmount = 1 << 31 // counts must stay clear of the stamp bits
)

// errAmount refuses limits whose counts could overflow a slot's count bits.
var errAmount = fmt.Errorf("sliding window counter supports amounts below %d: %w", maxAmount, limiter.ErrUnsupported)

func slotValue(stamp, count uint64) []byte {
	return strconv.AppendUint(nil, stamp<<slotBits|count, 10)
}

// slotCount returns the count a slot item holds for window stamp, 0 if it
// is missing or holds another window.
func slotCount(item *memcache.Item, stamp uint64) (int64, error) {
	if item == nil {
		return 0, nil
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(item.Value)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("slot %s holds %q: %w", item.Key, item.Value, err)
	}
	if v>>slotBits != stamp {
		return 0, nil
	}
	return int64(v & slotMask), nil
}

// slidingState reads both slots for r and returns the state before the hit,
// the current slot's key, its item as read, and its stamp.
func (s *Storage) slidingState(r limiter.Request) (sw limiter.SlidingWindow, key string, item *memcache.Item, stamp uint64, err error) {
	if r.Limit.Amount >= maxAmount {
		return sw, "", nil, 0, errAmount
	}
	now, length := r.Now.UnixNano(), int64(r.Limit.Window())
	start := now - now%length
	if now%length < 0 {
		start -= length
	}
	n := start / length
	b := s.base(r.Key)
	slots := [2]string{b + sufSlot0, b + sufSlot1}
	cur, prev := slots[n&1], slots[(n+1)&1]
	items, err := s.client.GetMulti([]string{cur, prev})
	if err != nil {
		return sw, "", nil, 0, fmt.Errorf("get %s %s: %w", cur, prev, err)
	}
	stamp = uint64(n) & slotMask
	sw.Start = start
	if sw.Current, err = slotCount(items[cur], stamp); err != nil {
		return sw, "", nil, 0, err
	}
	if sw.Previous, err = slotCount(items[prev], uint64(n-1)&slotMask); err != nil {
		return sw, "", nil, 0, err
	}
	return sw, cur, items[cur], stamp, nil
}

// AcquireSlidingWindow counts a hit as [limiter.SlidingWindowStorage]
// describes: one round trip (a two-key get) when rejected, two when allowed
// (plus one the first time in a window, and one to undo when a concurrent
// hit took the room). Amounts of 2³¹ and above are refused with an error
// wrapping [limiter.ErrUnsupported].
func (s *Storage) AcquireSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		sw, key, item, stamp, err := s.slidingState(r)
		if err != nil {
			return limiter.State{}, err
		}
		if st := sw.Peek(r); !st.Allowed {
			return st, nil
		}
		exp := s.expiration(time.Duration(sw.Start + 2*int64(r.Limit.Window()) - r.Now.UnixNano()))
		n, err := s.slotIncr(ctx, key, item, stamp, uint64(r.Cost), exp)
		if err != nil {
			return limiter.State{}, err
		}
		sw.Current = n - r.Cost
		st := sw.Acquire(r)
		if !st.Allowed {
			if err := s.undo(key, uint64(r.Cost)); err != nil {
				return limiter.State{}, err
			}
		}
		return st, nil
	})
	if err != nil {
		return limiter.State{}, wrap("acquire sliding window", r.Key, err)
	}
	return st, nil
}

// slotIncr adds delta to the count of the slot at key for window stamp and
// returns the new count. item is the slot as last read (nil if missing); a
// slot holding another window is re-stamped with a count of delta.
func (s *Storage) slotIncr(ctx context.Context, key string, item *memcache.Item, stamp, delta uint64, exp int32) (int64, error) {
	for attempt := range maxAttempts {
		if err := backoff(ctx, attempt); err != nil {
			return 0, err
		}
		if item != nil {
			if v, err := strconv.ParseUint(string(bytes.TrimSpace(item.Value)), 10, 64); err == nil && v>>slotBits == stamp {
				n, err := s.client.Increment(key, delta)
				switch {
				case err == nil && n>>slotBits == stamp:
					return int64(n & slotMask), nil
				case err == nil:
					// Re-stamped by a client whose clock is windows
					// apart from ours: take ours back, read again.
					if err := s.undo(key, delta); err != nil {
						return 0, err
					}
				case !errors.Is(err, memcache.ErrCacheMiss):
					return 0, fmt.Errorf("incr %s: %w", key, err)
				}
				if item, err = s.getOrNil(key); err != nil {
					return 0, err
				}
				continue
			}
		}
		ok, err := s.store(key, item, slotValue(stamp, delta), exp)
		if err != nil {
			return 0, err
		}
		if ok {
			return int64(delta), nil
		}
		if item, err = s.getOrNil(key); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("stamp slot %s: %w", key, ErrContention)
}

// PeekSlidingWindow reports what AcquireSlidingWindow would, in one round
// trip.
func (s *Storage) PeekSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		sw, _, _, _, err := s.slidingState(r)
		if err != nil {
			return limiter.State{}, err
		}
		return sw.Peek(r), nil
	})
	if err != nil {
		return limiter.State{}, wrap("peek sliding window", r.Key, err)
	}
	return st, nil
}
