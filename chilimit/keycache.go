package chilimit

import (
	"hash/maphash"
	"sync"
)

// keyCache interns storage keys: a client's repeated requests get the key
// string made by its first one, so building limiter.Request.Key costs no
// allocation. It is bounded: a full shard is emptied, so a flood of
// distinct keys (clients can choose their keys) costs an allocation each,
// as without the cache, and never grows it.
type keyCache struct {
	seed   maphash.Seed
	shards [16]keyCacheShard
}

type keyCacheShard struct {
	mu sync.Mutex
	m  map[string]string
}

// maxKeyCacheShard bounds each shard: 16 × 1024 keys of ~60 bytes is about
// 2 MB at most.
const maxKeyCacheShard = 1024

func newKeyCache() *keyCache {
	c := &keyCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]string)
	}
	return c
}

// intern returns key as a string, allocating only if it is not cached.
func (c *keyCache) intern(key []byte) string {
	sh := &c.shards[maphash.Bytes(c.seed, key)%uint64(len(c.shards))]
	sh.mu.Lock()
	s, ok := sh.m[string(key)] // the conversion in a map index does not allocate
	if !ok {
		if len(sh.m) >= maxKeyCacheShard {
			clear(sh.m)
		}
		s = string(key)
		sh.m[s] = s
	}
	sh.mu.Unlock()
	return s
}
