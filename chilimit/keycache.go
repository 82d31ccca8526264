package chilimit

import (
	"hash/maphash"
	"strings"
	"sync"

	"github.com/limits-go/limits/limiter"
)

// keyCache remembers the storage keys of recent requests by what they are
// made of, so a client's repeated requests reuse the key string built for
// its first one: no limiter.AppendKey and no allocation per request. It is
// bounded: a full shard is emptied, so a flood of distinct keys (clients
// can choose their keys) costs what it would without the cache, an
// allocation each, and never grows it.
type keyCache struct {
	seed   maphash.Seed
	shards [16]keyCacheShard
}

// A keyCacheShard maps the hash of a key's parts to the parts and the key.
// Keyed by the hash, the map hashes a uint64 instead of the parts again;
// the parts are compared on a hit, so two parts with one hash only take
// turns in the cache.
type keyCacheShard struct {
	mu sync.RWMutex // hits, the common case, only read
	m  map[uint64]cachedKey
}

type cachedKey struct {
	parts keyParts
	key   string
}

// keyParts is what a storage key is built from, besides the limiter's key
// prefix.
type keyParts struct {
	limit  limiter.Limit
	kind   groupKind
	scope  string
	method string
	client string
}

// maxKeyCacheShard bounds each shard, and maxCachedKey the keys cached:
// 16 × 64 entries of at most 256 bytes (typically ~150) is under 400 KB
// whatever lengths a key func returns, small enough that the heap of an
// idle server returns to about its baseline (the reliability soak tests
// allow 1 MB), large enough for the clients that come back within seconds.
const (
	maxKeyCacheShard = 64
	maxCachedKey     = 256
)

func newKeyCache() *keyCache {
	c := &keyCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cachedKey)
	}
	return c
}

// key returns the storage key of p under prefix, building it in *buf only
// if it is not cached.
func (c *keyCache) key(p keyParts, prefix string, buf *[]byte) string {
	h := maphash.Comparable(c.seed, p)
	sh := &c.shards[h%uint64(len(c.shards))]
	sh.mu.RLock()
	e, ok := sh.m[h]
	sh.mu.RUnlock()
	if ok && e.parts == p {
		return e.key
	}
	*buf = limiter.AppendKey((*buf)[:0], p.limit, prefix, p.kind.String(), p.scope, p.method, p.client)
	if len(*buf) > maxCachedKey {
		return string(*buf) // a long key costs its allocation, not cache memory
	}
	// The parts are often slices of request memory (ForwardedFor's client
	// is a piece of the whole X-Forwarded-For value; a method, of the
	// request line): the cache keeps copies, the scope and the client in
	// one allocation (not +, which returns a lone non-empty operand
	// itself), so no entry pins more than its own bytes.
	var sb strings.Builder
	sb.Grow(len(p.scope) + len(p.client))
	sb.WriteString(p.scope)
	sb.WriteString(p.client)
	both := sb.String()
	p.scope, p.client, p.method = both[:len(p.scope)], both[len(p.scope):], ownMethod(p.method)
	e = cachedKey{parts: p, key: string(*buf)}
	sh.mu.Lock()
	if _, ok := sh.m[h]; !ok && len(sh.m) >= maxKeyCacheShard {
		clear(sh.m)
	}
	sh.m[h] = e
	sh.mu.Unlock()
	return e.key
}
