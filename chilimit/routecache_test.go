package chilimit

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
)

// TestRouteCacheBounds checks the look-ahead cache: a path is found after
// put, a path over maxCachedPath is never held, and no shard grows past
// maxRouteCacheShard however many paths clients send.
func TestRouteCacheBounds(t *testing.T) {
	c := routeCache{seed: maphash.MakeSeed()}
	e, pattern := &routeEntry{}, "/users/{id}"
	short := routeKey{method: "GET", path: "/users/42"}
	c.put(short, pattern, e, "GET")
	if cr, ok := c.get(short); !ok || cr.entry != e || cr.pattern != pattern {
		t.Fatalf("get(%v) after put = %+v, %v; want the entry", short, cr, ok)
	}
	if _, ok := c.get(routeKey{method: "POST", path: short.path}); ok {
		t.Fatal("get with another method found the GET entry")
	}
	long := routeKey{method: "GET", path: "/" + strings.Repeat("a", maxCachedPath)}
	c.put(long, pattern, e, "GET")
	if _, ok := c.get(long); ok {
		t.Errorf("a %d-byte path was cached, want none over %d", len(long.path), maxCachedPath)
	}
	for i := range 50 * maxRouteCacheShard {
		c.put(routeKey{method: "GET", path: "/p/" + strconv.Itoa(i)}, pattern, e, "GET")
	}
	for i := range c.shards {
		if n := len(c.shards[i].m); n > maxRouteCacheShard {
			t.Errorf("shard %d holds %d paths, want at most %d", i, n, maxRouteCacheShard)
		}
	}
}
