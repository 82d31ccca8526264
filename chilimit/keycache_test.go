package chilimit

import (
	"strconv"
	"testing"
	"unsafe"
)

// Interning a key returns its text, the same string each time it is
// cached, and never holds more than the bound however many keys arrive.
func TestKeyCache(t *testing.T) {
	c := newKeyCache()
	buf := []byte("limits/10/1/second/5:route/9:192.0.2.1")
	first := c.intern(buf)
	if first != string(buf) {
		t.Fatalf("intern(%q) = %q", buf, first)
	}
	buf[len(buf)-1] = '2' // the caller reuses its buffer
	if first != "limits/10/1/second/5:route/9:192.0.2.1" {
		t.Fatalf("interned key changed with the caller's buffer: %q", first)
	}
	buf[len(buf)-1] = '1'
	again := c.intern(buf)
	if unsafe.StringData(again) != unsafe.StringData(first) {
		t.Errorf("intern(%q) twice returned two copies, want the cached one", buf)
	}
	if n := testing.AllocsPerRun(100, func() { c.intern(buf) }); n != 0 {
		t.Errorf("intern of a cached key: %v allocations, want 0", n)
	}
	for i := range 100 * maxKeyCacheShard {
		c.intern(strconv.AppendInt([]byte("k"), int64(i), 10))
	}
	for i := range c.shards {
		if n := len(c.shards[i].m); n > maxKeyCacheShard {
			t.Errorf("shard %d holds %d keys, want at most %d", i, n, maxKeyCacheShard)
		}
	}
}
