package memcached

import (
	"errors"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

// A stored value the storage cannot read is an error wrapping ErrCorrupt,
// whichever state it belongs to, so callers can tell it from a failing
// server.
func TestUnreadableValuesAreErrCorrupt(t *testing.T) {
	item := func(v string) *memcache.Item { return &memcache.Item{Key: "k", Value: []byte(v)} }
	_, tbErr := decodeTAT(item("not a number"))
	_, logErr := decodeLog(item("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	_, slotErr := readSlot(item("-1"), 0)
	for what, err := range map[string]error{"token bucket": tbErr, "moving-window log": logErr, "sliding-window slot": slotErr} {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("an unreadable %s: %v, want an error wrapping ErrCorrupt", what, err)
		}
	}
}
