package memcached

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// TestSlidingUndoSparesRestampedSlot plays, step by step, a hit whose
// re-check fails and which must undo its increment after a client whose
// clock is two windows ahead has re-stamped the same slot (same parity) and
// counted two hits there. The undo must leave the newer window's count as
// it is, whether the undone cost is smaller than that count (a plain decr
// takes it from the newer window) or larger (a plain decr borrows from the
// stamp, leaving a slot of the wrong window with a count near 2³²).
func TestSlidingUndoSparesRestampedSlot(t *testing.T) {
	c := memcache.New(servers.Memcached(t))
	defer c.Close()
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Second}
	t0 := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, cost := range []int64{1, 5} {
		t.Run(fmt.Sprintf("cost %d", cost), func(t *testing.T) {
			s, err := New(c, WithKeyPrefix("undo-"+crand.Text()[:12]+":"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			behind := limiter.Request{Key: "restamped", Limit: l, Cost: cost, Now: t0}
			ahead := limiter.Request{Key: "restamped", Limit: l, Cost: 1, Now: t0.Add(2 * time.Second)}

			// The lagging hit reads the slots and counts in its window.
			_, slotKey, item, stamp, err := s.slidingState(behind)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := s.slotIncr(slotKey, item, stamp, uint64(cost), 60); err != nil || !ok {
				t.Fatalf("slotIncr = %v, %v", ok, err)
			}
			// The client ahead re-stamps the slot and counts two hits.
			for range 2 {
				if st, err := s.AcquireSlidingWindow(t.Context(), ahead); err != nil || !st.Allowed {
					t.Fatalf("hit from the clock ahead = %+v, %v", st, err)
				}
			}
			// The lagging hit's re-check failed: it takes its cost back.
			if err := s.slotUndo(slotKey, stamp, uint64(cost)); err != nil {
				t.Fatal(err)
			}
			st, err := s.PeekSlidingWindow(t.Context(), ahead)
			if err != nil {
				t.Fatal(err)
			}
			if st.Remaining != l.Amount-2 {
				t.Errorf("undo of cost %d after a re-stamp: the newer window has %d remaining, want %d", cost, st.Remaining, l.Amount-2)
			}
			it, err := c.Get(slotKey)
			if err != nil {
				t.Fatal(err)
			}
			if want := slotValue(stamp+2, 2); string(bytes.TrimSpace(it.Value)) != string(want) {
				t.Errorf("undo of cost %d after a re-stamp: slot %s = %q, want %q", cost, slotKey, it.Value, want)
			}
		})
	}
}

// TestSlidingIncrSparesNewerWindow: a hit that read its slot just before a
// client whose clock is two windows ahead re-stamped it finds, on
// incrementing, a newer window there. It must take its increment back and
// read again, then count in the newer window as a lagging hit, never
// re-stamp the slot back to its own window (wiping the newer counts).
func TestSlidingIncrSparesNewerWindow(t *testing.T) {
	c := memcache.New(servers.Memcached(t))
	defer c.Close()
	s, err := New(c, WithKeyPrefix("incr-"+crand.Text()[:12]+":"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Second}
	t0 := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	behind := limiter.Request{Key: "newer", Limit: l, Cost: 3, Now: t0}
	ahead := limiter.Request{Key: "newer", Limit: l, Cost: 1, Now: t0.Add(2 * time.Second)}

	if st, err := s.AcquireSlidingWindow(t.Context(), behind); err != nil || !st.Allowed {
		t.Fatalf("first hit = %+v, %v", st, err)
	}
	_, slotKey, item, stamp, err := s.slidingState(behind)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if st, err := s.AcquireSlidingWindow(t.Context(), ahead); err != nil || !st.Allowed {
			t.Fatalf("hit from the clock ahead = %+v, %v", st, err)
		}
	}
	if _, ok, err := s.slotIncr(slotKey, item, stamp, uint64(behind.Cost), 60); err != nil || ok {
		t.Fatalf("slotIncr on a re-stamped slot = %v, %v; want false, nil", ok, err)
	}
	if st, err := s.PeekSlidingWindow(t.Context(), ahead); err != nil || st.Remaining != 8 {
		t.Fatalf("after the stale increment: %+v, %v; want 8 remaining", st, err)
	}
	// Read afresh, the lagging hit counts in the newer window.
	if st, err := s.AcquireSlidingWindow(t.Context(), behind); err != nil || !st.Allowed || st.Remaining != 5 {
		t.Errorf("lagging hit of cost 3 = %+v, %v; want allowed, 5 remaining", st, err)
	}
	if st, err := s.PeekSlidingWindow(t.Context(), ahead); err != nil || st.Remaining != 5 {
		t.Errorf("newer window after the lagging hit: %+v, %v; want 5 remaining", st, err)
	}
}
