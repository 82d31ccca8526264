package chilimit

import (
	"sync"
	"testing"
)

// A bucket keeps its two newest entries; a third put drops the oldest.
func TestSlotsKeepTwoPerBucket(t *testing.T) {
	c := newSlots[int](8)
	holds := func(h uint64, v int) bool {
		a, b := c.load(h)
		return a != nil && *a == v || b != nil && *b == v
	}
	one, two, three := 1, 2, 3
	c.put(5, &one)
	c.put(9, &two) // 9 and 5 share bucket 1 of 4
	if !holds(5, 1) || !holds(9, 2) {
		t.Fatal("two entries of one bucket: want both held")
	}
	c.put(13, &three)
	if holds(5, 1) || !holds(9, 2) || !holds(13, 3) {
		t.Fatal("a third entry in a bucket: want the oldest dropped, the two newest held")
	}
	if a, b := c.load(6); a != nil || b != nil {
		t.Fatal("another bucket holds entries it was never given")
	}
}

// Readers and writers of one bucket race without a lock: every entry read
// is whole (run with -race).
func TestSlotsConcurrent(t *testing.T) {
	type entry struct{ h, v uint64 }
	c := newSlots[entry](4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range uint64(2000) {
				h := i % 8
				c.put(h, &entry{h, h * 3})
				if a, b := c.load(uint64(w)); a != nil && a.v != a.h*3 || b != nil && b.v != b.h*3 {
					t.Error("read a torn entry")
					return
				}
			}
		})
	}
	wg.Wait()
}
