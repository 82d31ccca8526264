package chilimit

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
)

// TestRouteCacheBounds checks the look-ahead cache: a path is found after
// put, a path over maxCachedPath is never held, and the cache holds no
// more than routeCacheSlots paths however many paths clients send.
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
	for i := range 4 * routeCacheSlots {
		c.put(routeKey{method: "GET", path: "/p/" + strconv.Itoa(i)}, pattern, e, "GET")
	}
	held := 0
	c.each(func(*cachedRoute) { held++ })
	if held == 0 || held > routeCacheSlots {
		t.Errorf("cache holds %d paths after %d, want some and at most %d", held, 4*routeCacheSlots, routeCacheSlots)
	}
}
