package chilimit

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/limits-go/limits/limiter"
)

// The cache returns the key limiter.AppendKey builds, the same string each
// time it is cached, and never holds more than its bound however many
// keys arrive.
func TestKeyCache(t *testing.T) {
	c := newKeyCache()
	var buf []byte
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Second}
	for _, p := range []keyParts{
		{limit: l, kind: kindRoute, scope: "/users/{id}", client: "192.0.2.1"},
		{limit: l, kind: kindRoute, scope: "/users/{id}", method: "GET", client: "192.0.2.1"},
		{limit: l, kind: kindMeta, client: "192.0.2.1"},
		{limit: l, kind: kindShared, scope: "api", client: ""},
	} {
		want := string(limiter.AppendKey(nil, p.limit, "pfx", p.kind.String(), p.scope, p.method, p.client))
		first := c.key(p, "pfx", &buf)
		second := c.key(p, "pfx", &buf) // the second miss in a row: admitted
		if first != want || second != want {
			t.Errorf("key(%+v) = %q then %q, want %q", p, first, second, want)
		}
		if unsafe.StringData(second) == unsafe.StringData(first) {
			t.Errorf("key(%+v) cached on its first miss, want on its second", p)
		}
		if again := c.key(p, "pfx", &buf); unsafe.StringData(again) != unsafe.StringData(second) {
			t.Errorf("key(%+v) thrice returned a new copy, want the cached one", p)
		}
		if n := testing.AllocsPerRun(100, func() { c.key(p, "pfx", &buf) }); n != 0 {
			t.Errorf("key(%+v) cached: %v allocations, want 0", p, n)
		}
	}
	for i := range 100 * keyCacheSlots {
		p := keyParts{limit: l, client: strconv.Itoa(i)}
		c.key(p, "pfx", &buf)
		c.key(p, "pfx", &buf)
	}
	held := 0
	c.slots.each(func(*cachedKey) { held++ })
	if held == 0 || held > keyCacheSlots {
		t.Errorf("cache holds %d keys after %d, want some and at most %d", held, 100*keyCacheSlots, keyCacheSlots)
	}
}

// TestKeyCacheSkipsLongKeys checks that a key longer than maxCachedKey is
// built right but never cached, so a key func returning huge strings cannot
// make the cache hold megabytes.
func TestKeyCacheSkipsLongKeys(t *testing.T) {
	c := newKeyCache()
	var buf []byte
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Second}
	for _, n := range []int{maxCachedKey, 10_000} {
		p := keyParts{limit: l, kind: kindRoute, scope: "/", client: strings.Repeat("x", n)}
		want := string(limiter.AppendKey(nil, p.limit, "pfx", p.kind.String(), p.scope, p.method, p.client))
		if got := c.key(p, "pfx", &buf); got != want {
			t.Fatalf("key of a %d-byte client = %d bytes, want %d", n, len(got), len(want))
		}
	}
	held := 0
	c.slots.each(func(e *cachedKey) {
		held++
		if len(e.key) > maxCachedKey {
			t.Errorf("cache holds a %d-byte key, want none over %d", len(e.key), maxCachedKey)
		}
	})
	if held != 0 {
		t.Errorf("cache holds %d keys after two keys over %d bytes, want 0", held, maxCachedKey)
	}
}

// A cached entry's parts are slices of its own key, equal to the parts it
// was built from, whatever their lengths: a miss allocates the key only.
func TestKeyCachePartsComeFromTheKey(t *testing.T) {
	l := limiter.Limit{Amount: 5, Multiples: 2, Unit: limiter.Minute}
	long := strings.Repeat("x", 1234)
	for _, p := range []keyParts{
		{limit: l, kind: kindRoute, scope: "/users/{id}", client: "192.0.2.1"},
		{limit: l, kind: kindDefault, scope: "/a", method: "PATCH", client: "10.0.0.1"},
		{limit: l, kind: kindApplication},
		{limit: l, kind: kindMeta, client: long},
		{limit: l, kind: kindShared, scope: long, method: "X", client: ""},
		{limit: l, kind: kindRoute, scope: "0123456789", method: "0123456789", client: "0123456789"},
	} {
		key := string(limiter.AppendKey(nil, p.limit, "prefix", p.kind.String(), p.scope, p.method, p.client))
		q := partsOf(key, p)
		if q != p {
			t.Fatalf("partsOf(%q) = %+v, want %+v", key, q, p)
		}
		for _, s := range []string{q.scope, q.method, q.client} {
			if s != "" && !within(s, key) {
				t.Fatalf("part %q of %q is not a slice of the key", s, key)
			}
		}
	}
	c := newKeyCache()
	var buf []byte
	clients := make([]string, 5000)
	for i := range clients {
		clients[i] = "203.0.113." + strconv.Itoa(i)
	}
	i := 0
	misses := func() { // a client's first two requests: the second admits its key
		p := keyParts{limit: l, kind: kindRoute, scope: "/x", client: clients[i]}
		c.key(p, "", &buf)
		c.key(p, "", &buf)
		i++
	}
	for range 2 * keyCacheSlots {
		misses() // every slot filled and replaced
	}
	if n := testing.AllocsPerRun(100, misses); n != 3 {
		t.Fatalf("two misses allocate %v times, want 3 (the key each time, the entry once)", n)
	}
}

// Keys that come back only after many other keys missed are not cached:
// with more clients at a time than the cache holds, a miss costs the key's
// build and nothing more. A key that comes straight back is.
func TestKeyCacheAdmitsOnSecondMissInARow(t *testing.T) {
	c := newKeyCache()
	var buf []byte
	l := limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Minute}
	const clients = 5000
	for range 3 {
		for i := range clients {
			c.key(keyParts{limit: l, kind: kindRoute, scope: "/x", client: "198.51.100." + strconv.Itoa(i)}, "", &buf)
		}
	}
	held := 0
	c.slots.each(func(*cachedKey) { held++ })
	// A key is admitted only if no other of the 4,999 between its misses
	// took its slot of 1,024: about e^-4.9 of them, 37 expected.
	if held > clients/20 {
		t.Errorf("cache holds %d of %d keys each seen after 4,999 others, want under %d", held, clients, clients/20)
	}
	p := keyParts{limit: l, kind: kindRoute, scope: "/x", client: "192.0.2.7"}
	c.key(p, "", &buf)
	second := c.key(p, "", &buf)
	if third := c.key(p, "", &buf); unsafe.StringData(third) != unsafe.StringData(second) {
		t.Errorf("a key requested three times in a row is not cached after its second miss")
	}
}

// The package's own key functions read no route, so configuring one
// explicitly costs no look-ahead; any other may.
func TestBuiltinKeyFunc(t *testing.T) {
	for name, fn := range map[string]func(*http.Request) string{"RemoteAddr": RemoteAddr, "ForwardedFor(3)": ForwardedFor(3)} {
		if !builtinKeyFunc(fn) {
			t.Errorf("builtinKeyFunc(%s) = false", name)
		}
	}
	if builtinKeyFunc(func(r *http.Request) string { return r.Host }) {
		t.Error("builtinKeyFunc(a user's function) = true")
	}
}

// Two keys that take turns and share a slot of the miss memory both get
// cached: a miss is remembered in either of two slots.
func TestKeyCacheAdmitsKeysSharingAMissSlot(t *testing.T) {
	c := newKeyCache()
	var buf []byte
	l := limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Minute}
	a := keyParts{limit: l, kind: kindRoute, scope: "/x", client: "192.0.2.1"}
	slot := func(p keyParts) uint64 { return (p.hash(c.seed) >> 32) % uint64(len(c.seen)) }
	b := a
	for i := 0; ; i++ {
		b.client = "198.51.100." + strconv.Itoa(i)
		if slot(b) == slot(a) {
			break
		}
	}
	for range 50 {
		c.key(a, "", &buf)
		c.key(b, "", &buf)
	}
	if n := testing.AllocsPerRun(10, func() { c.key(a, "", &buf); c.key(b, "", &buf) }); n != 0 {
		t.Errorf("two keys sharing a miss slot, taking turns: %v allocations a round, want 0 (both cached)", n)
	}
}
