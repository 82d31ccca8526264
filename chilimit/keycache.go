package chilimit

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"github.com/limits-go/limits/limiter"
)

// keyCache remembers the storage keys of recent requests by what they are
// made of, so a client's repeated requests reuse the key string built for
// an earlier one: no limiter.AppendKey and no allocation per request. It
// holds at most keyCacheSlots keys, each at most maxCachedKey bytes, so a
// flood of distinct keys (clients can choose their keys) never grows it.
//
// It admits a key that misses again soon after a miss (seen remembers the
// recent misses): a key that comes back only after many others, as with
// more clients at a time than the cache holds, costs its allocation alone
// on each request, not also an entry that another such key soon replaces.
type keyCache struct {
	seed  maphash.Seed
	slots slots[cachedKey]
	seen  [1024]atomic.Uint64 // by hash bits: hashes of keys that missed lately
}

type cachedKey struct {
	h     uint64 // parts' hash: compared first, so another key's entry costs no string compare
	parts keyParts
	key   string
}

// keyParts is what a storage key is built from, besides the limiter's key
// prefix.
type keyParts struct {
	limit  limiter.Limit
	kind   groupKind
	tag    string // ownKeyTag for a route limit's own key function, else ""
	scope  string
	method string
	client string
}

// keyCacheSlots bounds the keys cached, and maxCachedKey their length:
// 1,024 entries of at most 256 bytes (typically ~150) and their parts is
// under 400 KB whatever lengths a key func returns, small enough that the
// heap of an idle server returns to about its baseline (the reliability
// soak tests allow 1 MB), large enough for the clients that come back
// within seconds.
const (
	keyCacheSlots = 1024
	maxCachedKey  = 256
)

// hash returns p's hash under seed.
func (p *keyParts) hash(seed maphash.Seed) uint64 {
	h := mix(maphash.String(seed, p.client), maphash.String(seed, p.scope))
	if p.method != "" {
		h = mix(h, maphash.String(seed, p.method))
	}
	if p.tag != "" {
		h = mix(h, maphash.String(seed, p.tag))
	}
	h = mix(h, uint64(p.limit.Amount))
	h = mix(h, uint64(p.limit.Multiples))
	return mix(h, uint64(p.limit.Unit)<<8|uint64(p.kind))
}

func newKeyCache() *keyCache {
	return &keyCache{seed: maphash.MakeSeed(), slots: newSlots[cachedKey](keyCacheSlots)}
}

// key returns the storage key of p under prefix, building it in *buf only
// if it is not cached.
func (c *keyCache) key(p keyParts, prefix string, buf *[]byte) string {
	h := p.hash(c.seed)
	if a, b := c.slots.load(h); a != nil && a.h == h && a.parts == p {
		return a.key
	} else if b != nil && b.h == h && b.parts == p {
		return b.key
	}
	if p.tag == "" {
		*buf = limiter.AppendKey((*buf)[:0], p.limit, prefix, p.kind.String(), p.scope, p.method, p.client)
	} else {
		*buf = limiter.AppendKey((*buf)[:0], p.limit, prefix, p.kind.String(), p.tag, p.scope, p.method, p.client)
	}
	if len(*buf) > maxCachedKey {
		return string(*buf) // a long key costs its allocation, not cache memory
	}
	// The slots take the hash's low bits; seen takes two higher groups, and
	// a key that missed is remembered in either at random, so two keys
	// that alternate on one slot of seen still get in.
	s1, s2 := &c.seen[(h>>32)%uint64(len(c.seen))], &c.seen[(h>>48)%uint64(len(c.seen))]
	if s1.Load() != h && s2.Load() != h {
		if rand.Uint32()&1 == 0 {
			s1.Store(h)
		} else {
			s2.Store(h)
		}
		return string(*buf)
	}
	// The parts are often slices of request memory (ForwardedFor's client
	// is a piece of the whole X-Forwarded-For value; a method, of the
	// request line), so the cache must not keep them. The key holds each
	// verbatim: the cached parts are slices of the key, which the entry
	// keeps anyway.
	key := string(*buf)
	c.slots.put(h, &cachedKey{h: h, parts: partsOf(key, p), key: key})
	return key
}

// partsOf returns p with its strings taken from key, the key AppendKey
// built from p with the client last, the method before it and the scope
// before that, each as "/" length ":" bytes. Should key not hold them
// there (a change of AppendKey's layout), it returns copies instead.
func partsOf(key string, p keyParts) keyParts {
	clientAt := len(key) - len(p.client)
	methodAt := clientAt - 2 - decimalDigits(len(p.client)) - len(p.method)
	scopeAt := methodAt - 2 - decimalDigits(len(p.method)) - len(p.scope)
	if scopeAt < 0 {
		return copiedParts(p)
	}
	q := p
	q.scope = key[scopeAt : scopeAt+len(p.scope)]
	q.method = key[methodAt : methodAt+len(p.method)]
	q.client = key[clientAt:]
	if q != p {
		return copiedParts(p)
	}
	return q
}

// copiedParts returns p with copies of its strings.
func copiedParts(p keyParts) keyParts {
	p.scope, p.method, p.client = strings.Clone(p.scope), strings.Clone(p.method), strings.Clone(p.client)
	return p
}

// decimalDigits returns how many digits n (≥ 0) has in base 10.
func decimalDigits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
