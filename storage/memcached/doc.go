// Package memcached is the memcached storage for limits-go, built on
// [github.com/bradfitz/gomemcache/memcache], for one server or a pool. It
// registers the memcached:// scheme with [limiter.Open]:
//
//	import _ "github.com/limits-go/limits/storage/memcached"
//
//	store, err := limiter.Open(ctx, "memcached://10.0.0.1:11211,10.0.0.2:11211")
//
// or wraps a client you configure yourself with [New].
//
// # URI
//
//	memcached://host:port[,host:port...][?timeout=250ms&max_idle_conns=64&key_prefix=app:]
//
// Several servers form a pool over which gomemcache spreads keys by hash.
// The parameters set [WithTimeout] (a Go duration; gomemcache's 500ms by
// default), [WithMaxIdleConns] (idle connections per server,
// [DefaultMaxIdleConns] by default) and [WithKeyPrefix] (none by default).
// A user name or password, a path, a fragment or any other parameter is an
// error wrapping [limiter.ErrInvalidURI]; options passed to [limiter.Open]
// apply after the URI's parameters. A pool of IPv6 literals cannot be
// written as a URI (net/url accepts one bracketed host only): build the
// client yourself and use [New].
//
// # Strategies
//
// Every strategy is supported, each exact under concurrency (N concurrent
// hits of cost 1 on a limit of L allow exactly min(N, L)):
//
//   - fixed-window and fixed-window-elastic-expiry: a window item (id and
//     end instant) plus a counter changed only with incr/decr, so hits never
//     retry; a hit that takes the count over the amount takes its cost back
//     and is rejected. Elastic expiry moves the end with compare-and-swap.
//   - sliding-window-counter: two stamped counters per key, read together,
//     incremented, and re-checked after the increment (undone if a
//     concurrent hit took the room).
//   - token-bucket and moving-window: one item each, updated with
//     compare-and-swap; only allowed hits write, so a lost race always means
//     another hit was recorded. After 1000 lost races a call gives up with
//     [ErrContention] and counts nothing — an error, never a guess.
//
// With increments and undo, a hit may be rejected while a concurrent
// rejected hit of a larger cost is still taking its cost back, and a peek may
// see such a transient over-count as Remaining 0; the limit is never
// exceeded. Concurrent elastic hits keep the latest window end any of them
// asked for; a hit in the last instant of an elastic window that races a
// hit after it may land in the window that is being replaced. A stored
// value the storage cannot read (written under its keys by something else)
// is an error wrapping [ErrCorrupt]. Limits the items cannot hold are
// refused at the request with an error wrapping [limiter.ErrUnsupported]:
// sliding-window-counter amounts of 2³¹ and above, moving-window amounts
// above [MaxMovingWindowAmount]. [Storage.CheckLimit] (a
// [limiter.LimitChecker]) tells them without a round trip, so that
// chilimit.New refuses them when the application starts.
//
// # Round trips
//
// Memcached has no scripts, so a hit takes more than one round trip:
//
//	strategy                      allowed             rejected
//	fixed-window                  2 (get, incr)       3 (get, incr, decr)
//	fixed-window-elastic-expiry   4 (+ cas, touch)    5
//	sliding-window-counter        2 (get both, incr)  1 (get both)
//	token-bucket                  2 (get, cas)        1 (get)
//	moving-window                 2 (get, cas)        1 (get)
//
// plus one the first time a key or window is seen, and a retry for each lost
// compare-and-swap. Peeks take one round trip (two for a live fixed window).
// The package benchmarks (BenchmarkHit) set these next to a plain Get.
//
// # Time
//
// Decisions depend only on [limiter.Request.Now] and instants stored in the
// items (window ends, TATs, logs), to the nanosecond. The server's expiry,
// in whole seconds by its own clock, only reclaims memory: items are kept
// until their state is dead plus a grace period ([WithExpiryGrace], one
// minute by default). Memcached reads expiries above 30 days as absolute
// Unix times; such expiries ("1 per year", "2 per 2 months") are sent as the
// real clock's Unix time plus the duration. gomemcache carries them as
// int32, so they cannot reach past January 2038. Application servers
// sharing a memcached must agree on the time to well within the grace.
//
// Within that, the sliding window counter follows [limiter.SlidingWindow]
// for clocks that disagree: a hit whose Now falls before the newest window
// stored counts in that window, as if at its start, so two servers whose
// clocks straddle a window boundary cannot each fill a window of their own.
// The one race left is a hit that read the counts just before the first hit
// of the newer window was stored: it counts in its own window, which the
// newer one weighs by the part of it not yet elapsed. An elastic fixed
// window keeps the latest end any hit asked for, whichever clock was
// behind, as [limiter.Storage] says.
//
// # Keys
//
// Memcached keys are at most 250 bytes of printable ASCII without spaces.
// Keys that fit are stored as they are after the prefix and a marker;
// longer keys and keys with spaces, control characters or non-ASCII bytes
// are replaced by their SHA-256, after a different marker, so a stored key
// and a hashed key can never collide. [WithKeyPrefix] separates limiters
// sharing servers.
//
// # Restarts
//
// A connection that gomemcache keeps idle dies when memcached restarts, and
// a call made on it fails; a hit cannot be sent again blindly, since it may
// have counted. Clients that [limiter.Open] creates dial through [Dialer],
// which checks a reused connection before each command and connects again
// if the server closed it, so the first calls after a restart succeed. Set
// Dialer on a client you pass to [New] for the same.
//
// A restarted server has lost its items: the buckets it held start afresh.
// In a pool, the keys of a server that is down are not moved to the others:
// calls on them fail until it is back. A fixed window's count and expiry,
// and a sliding window's two slots, are separate items that may live on
// different servers, so one server down of two fails more than half of
// those buckets; a token bucket or a moving window is one item.
//
// # Reset all
//
// Storage does not implement [limiter.ResetAller]. Memcached cannot list
// keys, and flush_all would wipe every other application's data in the
// same servers. A namespace generation key would make every hit read one
// extra, hot key on a single server of the pool, or trust a cached
// generation that other processes may not have seen change. To reset
// everything, change the key prefix.
//
// # Contexts
//
// gomemcache takes no context. Every method checks its context before
// starting and between round trips; when the context can end, the work runs
// in a goroutine and the method returns the context's error as soon as it
// ends. The abandoned work stops at its next round trip, except that an
// increment it must take back is taken back; each round trip is bounded by
// the client's Timeout, so nothing outlives the call by more than about two
// Timeouts. Work that had reached the server may still have counted the hit.
package memcached
