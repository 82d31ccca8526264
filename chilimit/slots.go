package chilimit

import (
	"math/bits"
	"sync/atomic"
)

// slots is a fixed-size cache of immutable entries found by a 64-bit hash,
// for the caches every request reads (keys, routes): a hash picks a bucket
// of two slots, each read with one atomic load, so a hit takes no lock and
// writes no memory that other cores read, where a read-locked map made
// parallel requests contend on the lock's reader count. A new entry takes
// a bucket's first slot and moves the one there to the second, dropping
// the second's: two keys that share a bucket both stay, and the memory
// held is bounded by the number of slots.
type slots[E any] struct {
	s []atomic.Pointer[E]
}

// newSlots returns a cache of n slots; n is even.
func newSlots[E any](n int) slots[E] {
	return slots[E]{s: make([]atomic.Pointer[E], n)}
}

// bucket returns the two slots of h.
func (c *slots[E]) bucket(h uint64) (first, second *atomic.Pointer[E]) {
	i := 2 * (h % uint64(len(c.s)/2))
	return &c.s[i], &c.s[i+1]
}

// load returns the two entries of h's bucket, either nil; the caller
// compares them with what it looks for.
func (c *slots[E]) load(h uint64) (*E, *E) {
	first, second := c.bucket(h)
	return first.Load(), second.Load()
}

// put stores e as h's newest entry. Racing puts may drop an entry or hold
// one twice: a cache may forget.
func (c *slots[E]) put(h uint64, e *E) {
	first, second := c.bucket(h)
	if old := first.Swap(e); old != nil {
		second.Store(old)
	}
}

// each calls f with every entry held, for tests.
func (c *slots[E]) each(f func(*E)) {
	for i := range c.s {
		if e := c.s[i].Load(); e != nil {
			f(e)
		}
	}
}

// mix folds v into the hash h. The caches hash their keys' strings with
// maphash.String and fold the rest in with mix: five times faster than
// maphash.Comparable on the key struct, which walks it generically.
func mix(h, v uint64) uint64 {
	hi, lo := bits.Mul64(h^v, 0x9e3779b97f4a7c15)
	return hi ^ lo
}
