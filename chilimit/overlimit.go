package chilimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/limits-go/limits/limiter"
)

// overLimitCache remembers, in process, the storage keys whose last hit was
// rejected, until the instant a hit could be allowed again, so an abusive
// client's requests stop reaching the storage. A cached key rejects hits of
// the cost that was rejected (a larger cost may have to wait longer, and a
// smaller one may fit); other processes sharing the storage can only add
// hits, so the answer stays right until then. It holds the configured
// storage's answers only: the fallback's are not kept, and a switch to or
// from the fallback empties it.
type overLimitCache struct {
	seed maphash.Seed
	// gen counts the times reset emptied the cache: a rejection the
	// storage gave before one is not kept after it.
	gen    atomic.Uint64
	shards [32]overLimitShard
}

type overLimitShard struct {
	mu sync.Mutex
	m  map[string]overLimitEntry
}

type overLimitEntry struct {
	retryAt   int64 // unix nanoseconds
	resetAt   int64
	cost      int64
	remaining int64 // what the rejection left, less than cost: reported as it was then
}

// maxOverLimitShard bounds each shard; a full shard is emptied.
const maxOverLimitShard = 4096

func newOverLimitCache() *overLimitCache {
	c := &overLimitCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]overLimitEntry)
	}
	return c
}

func (c *overLimitCache) shard(key string) *overLimitShard {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get reports the cached rejection of key for a hit of cost at now.
func (c *overLimitCache) get(key string, l limiter.Limit, cost int64, now time.Time) (limiter.Result, bool) {
	sh := c.shard(key)
	n := now.UnixNano()
	sh.mu.Lock()
	e, ok := sh.m[key]
	if ok && e.retryAt <= n {
		delete(sh.m, key)
		ok = false
	}
	sh.mu.Unlock()
	if !ok || cost != e.cost {
		return limiter.Result{}, false
	}
	return limiter.Result{Limit: l, Remaining: e.remaining, ResetAt: time.Unix(0, e.resetAt), RetryAfter: time.Duration(e.retryAt - n)}, true
}

// generation returns the cache's generation, to read before the storage
// call whose answer goes to put.
func (c *overLimitCache) generation() uint64 { return c.gen.Load() }

// put caches a rejection the storage gave after generation returned gen,
// unless reset ran since.
func (c *overLimitCache) put(key string, res limiter.Result, cost int64, now time.Time, gen uint64) {
	if res.RetryAfter <= 0 {
		return
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if c.gen.Load() != gen {
		// reset ran since the storage call began (it moves gen on before
		// it empties the shards, each under its lock).
		sh.mu.Unlock()
		return
	}
	if len(sh.m) >= maxOverLimitShard {
		clear(sh.m)
	}
	sh.m[key] = overLimitEntry{retryAt: now.Add(res.RetryAfter).UnixNano(), resetAt: res.ResetAt.UnixNano(), cost: cost, remaining: res.Remaining}
	sh.mu.Unlock()
}

func (c *overLimitCache) reset() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}
