package chilimit

import (
	"strconv"
	"unsafe"
)

// headerArena hands out the header values of the requests one pooled
// writer serves, carved from blocks it allocates now and then, so a
// request's headers cost no allocation of their own (one block serves
// dozens of requests).
//
// The values outlive the request: the header map keeps them until the
// server writes the response, which may be after the writer is back in the
// pool, and middleware upstream may read them later still. So the arena
// never reuses memory it has handed out: it only moves forward, and starts
// a new block when the current one is full. A value's bytes are never
// written again, which is what makes the strings unsafe.String builds from
// them immutable; the garbage collector frees a block when no header
// refers to it any more.
type headerArena struct {
	digits []byte   // unused tail of the current digit block
	vals   []string // unused tail of the current value block

	// The last reset instant rendered: every request in a window reports
	// the same one, and a string can be shared where a slice cannot.
	reset     int64
	resetText string
}

const (
	digitBlock = 1024 // bytes: about 30 requests of three numbers
	valueBlock = 96   // strings: 24 to 32 requests
	maxDigits  = 20   // the longest int64, "-9223372036854775808"
)

// number returns v in decimal.
func (a *headerArena) number(v int64) string {
	if cap(a.digits) < maxDigits {
		a.digits = make([]byte, 0, digitBlock)
	}
	b := strconv.AppendInt(a.digits[:0], v, 10) // in place: the capacity suffices
	a.digits = a.digits[len(b):len(b)]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// resetNumber is number for X-RateLimit-Reset values.
func (a *headerArena) resetNumber(v int64) string {
	if a.resetText == "" || v != a.reset {
		a.reset, a.resetText = v, a.number(v)
	}
	return a.resetText
}

// values returns n empty strings for header values, with no spare
// capacity: a handler's Header().Add on one of them copies it rather than
// writing into its neighbour.
func (a *headerArena) values(n int) []string {
	if len(a.vals) < n {
		a.vals = make([]string, valueBlock)
	}
	v := a.vals[:n:n]
	a.vals = a.vals[n:]
	return v
}
