// Package memory is the in-process storage for limits-go: every strategy and
// capability, sharded for concurrency, with a background sweeper that
// reclaims expired keys. It is the embedded default of chilimit and
// registers the memory:// scheme.
//
// # Use
//
// Build one with [New], or open it by URI after importing the package:
//
//	import _ "github.com/limits-go/limits/storage/memory"
//
//	s, err := limiter.Open(ctx, "memory://")
//	s, err := limiter.Open(ctx, "memory://?sweep_interval=30s&shards=256")
//
// The memory:// URI takes no host, user or path. Its query parameters are
// sweep_interval (a Go duration, 0 disables the sweeper) and shards (1 to
// 65536); any other parameter is an error wrapping [limiter.ErrInvalidURI].
//
// # Time
//
// Hits are decided at each request's Now. The sweeper, which removes
// expired state every sweep interval, and ResetAll's count read the clock
// given by [WithClock] (the system clock by default): give the storage the
// clock your requests' instants come from.
//
// # Concurrency and memory
//
// The key space is split into shards (128 by default), each behind its own
// mutex, so there is no global lock on the hot path, and a hit on a key that
// exists already does not allocate. A hit looks its key up once and updates
// the state in place: token buckets in a slice per shard, other state in
// small objects the maps point to. After a sweep leaves a shard with under a
// quarter of its peak size, its maps are rebuilt so their memory is released
// as well.
//
// State is separate per strategy: a key hit under two strategies holds two
// entries, and Clear removes both.
//
// Measured heap per live key (BenchmarkBytesPerLiveKey: 1,000,000 keys of
// 51 bytes, as chilimit builds them for a client address, each hit once;
// Go 1.26, amd64), key string included:
//
//	fixed-window, fixed-window-elastic-expiry   136 B
//	moving-window                               166 B (its log grows with hits in the window, to at most 8 B × Amount)
//	sliding-window-counter                      152 B
//	token-bucket                                129 B
//
// Expired keys are removed by the next sweep, and their memory given back.
package memory
