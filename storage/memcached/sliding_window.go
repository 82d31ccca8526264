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
// still holds an older window (counted as zero) from the live one. Window
// n's slot is n's parity, the window before it the other one, so a hit
// reads both in one get and Clear knows which keys to delete.
//
// A hit counts in the window of its Request.Now, or, when that is behind the
// newest window stored (the clock of the server that stored it is ahead of
// this one), in the newest window, as if at its start: the reference,
// [limiter.SlidingWindow], does the same rather than wiping or splitting the
// newer counts. Counting it in its own window instead would let two
// application servers whose clocks straddle a boundary by a millisecond
// each fill a window of their own. A newer window left with no counts (its
// hits undone) does not hold a hit: like the reference, the hit starts
// afresh in its own window.
//
// A hit reads both slots and rejects at once if the weighted count leaves
// no room. Otherwise it increments the slot of the window it counts in
// (creating it with add, or re-stamping a stale slot with compare-and-swap,
// once per window), then re-checks the weighted count with the value incr
// returned — the count including every concurrent hit — against the
// previous window's count it read, and undoes its increment if the limit is
// now exceeded. The previous count cannot change once a newer window is
// stamped (later hits count in the newer one), so the re-check is exact:
// the limit is never exceeded, and, as for the fixed window, a hit may be
// rejected transiently while a rejected hit of a larger cost undoes itself.
// (Re-checking with the current count read before the increment instead, as
// the Python limits library's memcached storage does, would admit every
// concurrent hit that passed the first check; TestConcurrentHitsAreExact
// catches that.) One race is left to clocks that straddle a boundary: a hit
// that read the slots just before the first hit of the newer window stamped
// its slot still counts in its own window, where the newer window weighs it
// by the part of the window not yet elapsed — nearly all of it, this close
// to the boundary.
//
// An undo is a decr, which memcached cannot make conditional on the stamp.
// If a client whose clock is two windows or more ahead re-stamped the slot
// between the increment and the undo (wiping the undone hit with its
// window), the decr lands on the newer window's count; the stamp decr
// returns shows it, and the amount is added back at once (see slotUndo),
// leaving the newer window short for one round trip instead of for good.

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

// slot is a slot item as read.
type slot struct {
	item  *memcache.Item // nil if missing
	stamp uint64
	count int64
	valid bool // present and stamped with a window of the slot's parity
}

// readSlot decodes the item read for slot number parity (0 or 1); item is
// nil if the slot is missing. A stamp of the other parity (never written, but left for
// a moment by a decr that borrowed from the stamp, see slotUndo) makes the
// slot invalid: it holds no window.
func readSlot(item *memcache.Item, parity uint64) (slot, error) {
	if item == nil {
		return slot{}, nil
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(item.Value)), 10, 64)
	if err != nil {
		return slot{}, fmt.Errorf("slot %s holds %q: %w: %w", item.Key, item.Value, ErrCorrupt, err)
	}
	stamp := v >> slotBits
	return slot{item: item, stamp: stamp, count: int64(v & slotMask), valid: stamp&1 == parity}, nil
}

// countAt returns the count sl holds for window stamp, 0 if it holds
// another window or none.
func (sl slot) countAt(stamp uint64) int64 {
	if !sl.valid || sl.stamp != stamp {
		return 0
	}
	return sl.count
}

// after returns how many windows the window sl holds comes after window n
// (negative for before it), reading stamps as n's within ±2³¹ windows of
// it (68 years of one-second windows).
func (sl slot) after(n int64) int64 {
	return int64(int32(uint32(sl.stamp) - uint32(n)))
}

// slidingState reads both slots for r and returns the state of the window
// a hit at r.Now counts in (r's window, or the newest stored one if r's
// clock is behind it), the key of that window's slot, its item as read, and
// its stamp.
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
	keys := [2]string{b + sufSlot0, b + sufSlot1}
	items, err := s.client.GetMulti(keys[:])
	if err != nil {
		return sw, "", nil, 0, fmt.Errorf("get %s %s: %w", keys[0], keys[1], err)
	}
	var slots [2]slot
	for i, k := range keys {
		if slots[i], err = readSlot(items[k], uint64(i)); err != nil {
			return sw, "", nil, 0, err
		}
	}
	// A hit counts in the newest window stored if that is ahead of r's and
	// holds counts (its own or its previous window's).
	newest := slots[0]
	if !newest.valid || slots[1].valid && slots[1].after(n) > newest.after(n) {
		newest = slots[1]
	}
	if d := newest.after(n); newest.valid && d > 0 {
		m := n + d
		if slots[m&1].countAt(uint64(m)&slotMask)+slots[(m+1)&1].countAt(uint64(m-1)&slotMask) > 0 {
			n, start = m, start+d*length
		}
	}
	stamp = uint64(n) & slotMask
	cur, prev := slots[n&1], slots[(n+1)&1]
	sw = limiter.SlidingWindow{Start: start, Current: cur.countAt(stamp), Previous: prev.countAt(uint64(n-1) & slotMask)}
	return sw, keys[n&1], cur.item, stamp, nil
}

// AcquireSlidingWindow counts a hit as [limiter.SlidingWindowStorage]
// describes: one round trip (a two-key get) when rejected, two when allowed
// (plus one the first time in a window, and one to undo when a concurrent
// hit took the room). A hit whose r.Now is behind the newest window stored
// counts in that window, as [limiter.SlidingWindow] counts it. Amounts of
// 2³¹ and above are refused with an error wrapping [limiter.ErrUnsupported].
func (s *Storage) AcquireSlidingWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		window := int64(r.Limit.Window())
		for attempt := range maxAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return limiter.State{}, err
			}
			sw, key, item, stamp, err := s.slidingState(r)
			if err != nil {
				return limiter.State{}, err
			}
			if st := sw.Peek(r); !st.Allowed {
				return st, nil
			}
			exp := s.expiration(time.Duration(sw.Start + 2*window - r.Now.UnixNano()))
			n, ok, err := s.slotIncr(key, item, stamp, uint64(r.Cost), exp)
			if err != nil {
				return limiter.State{}, err
			}
			if !ok {
				continue // the slot changed window: read both again
			}
			start := sw.Start
			sw.Current = n - r.Cost
			st := sw.Acquire(r)
			if !st.Allowed {
				if err := s.slotUndo(key, stamp, uint64(r.Cost)); err != nil {
					return limiter.State{}, err
				}
				return st, nil
			}
			// The hit is counted in the window starting at start, even
			// if concurrent undos left no other count for Acquire to
			// keep a newer window by.
			st.ResetAt = start + 2*window
			return st, nil
		}
		return limiter.State{}, fmt.Errorf("stamp slot: %w", ErrContention)
	})
	if err != nil {
		return limiter.State{}, wrap("acquire sliding window", r.Key, err)
	}
	return st, nil
}

// slotIncr adds delta to the count of the slot at key for window stamp and
// returns the new count. item is the slot as read (nil if missing); a slot
// holding another window is re-stamped with a count of delta, by add or
// compare-and-swap. It reports false, having counted nothing, when the slot
// changed since it was read (another client counted in another window, or
// re-stamped it, or it expired), so that the caller reads both slots again
// and decides afresh which window to count in.
func (s *Storage) slotIncr(key string, item *memcache.Item, stamp, delta uint64, exp int32) (int64, bool, error) {
	if item != nil {
		if v, err := strconv.ParseUint(string(bytes.TrimSpace(item.Value)), 10, 64); err == nil && v>>slotBits == stamp {
			n, err := s.client.Increment(key, delta)
			switch {
			case err == nil && n>>slotBits == stamp:
				return int64(n & slotMask), true, nil
			case err == nil:
				// Re-stamped by a client whose clock is windows apart
				// from ours: take ours back from its window.
				return 0, false, s.slotUndo(key, n>>slotBits, delta)
			case errors.Is(err, memcache.ErrCacheMiss):
				return 0, false, nil
			}
			return 0, false, fmt.Errorf("incr %s: %w", key, err)
		}
	}
	ok, err := s.store(key, item, slotValue(stamp, delta), exp)
	if !ok || err != nil {
		return 0, false, err
	}
	return int64(delta), true, nil
}

// slotUndo takes delta back from the slot at key after an increment that
// found it holding window stamp. A decr cannot be made conditional on the
// stamp: if the slot was re-stamped since the increment (by a client whose
// clock is two windows or more apart, wiping the increment with its
// window), the decr took delta from the newer window's count, or borrowed
// from its stamp when the count was smaller. The stamp decr returns tells,
// and the newer window gets delta back at once. Like undo, it runs even
// when the caller's context has ended.
func (s *Storage) slotUndo(key string, stamp, delta uint64) error {
	v, err := s.client.Decrement(key, delta)
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return nil
	case err != nil:
		return fmt.Errorf("decr %s: %w", key, err)
	case v>>slotBits == stamp:
		return nil
	}
	if _, err := s.client.Increment(key, delta); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("incr %s: %w", key, err)
	}
	return nil
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
