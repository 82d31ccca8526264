// Package limiter is the core of limits-go: the rate-limit string grammar,
// the five rate-limiting strategies, the Storage contract every backend
// implements, and the registry that opens storages by URI.
//
// It depends on the standard library only. Backends live in their own
// modules (storage/memory, storage/redis, storage/memcached) so a program
// imports just the one it uses; the chi middleware is in chilimit.
//
// # Rate-limit strings
//
// [Parse] and [ParseMany] read the notation of Flask-Limiter and the Python
// limits library:
//
//	[amount] [per|/] [multiples (optional)] [unit]
//
// with units second, minute, hour, day, month (30 days) and year (360 days),
// singular or plural, in any case. Several limits are joined by ",", ";" or
// "|": "10/hour;100/day;2000 per year", "100/day, 500/7days", "5/2 seconds".
// A window lasts at most [MaxWindow], 50 years of 360 days, and an amount
// is at most [MaxAmount], 2^43. A [Limit] renders back as "10 per 1 hour".
//
// # Strategies
//
// [NewStrategy] pairs a strategy name with a [Storage]:
//
//   - fixed-window: a counter per window that starts at the first hit.
//   - fixed-window-elastic-expiry: every hit pushes the window's end out.
//   - moving-window: an exact log; at most Amount hits in any window.
//   - sliding-window-counter: previous window's count, weighted, plus the
//     current one.
//   - token-bucket: GCRA, bursts of Amount refilled evenly.
//
// A [Strategy.Hit] answers with a [Result] (allowed, remaining, reset time,
// retry-after) from one storage operation. Time is never read inside: every
// [Request] carries the instant it acts on, from 1970 to 2149 (a zero
// time.Time is an error wrapping [ErrInvalidTime]), and [ManualClock] steps
// time in tests. A hit that can never be allowed, costing more than the
// limit's amount, gets the window as its retry-after.
//
// # Storages
//
// [Storage] is the required interface (a fixed-window counter, clear,
// health check, close); [MovingWindowStorage], [SlidingWindowStorage],
// [TokenBucketStorage] and [ResetAller] are optional capabilities. A
// strategy over a storage without its capability fails at construction. The
// algorithm state types ([FixedWindow], [MovingWindow], [SlidingWindow],
// [TokenBucket]) implement the arithmetic for backends that keep state in
// process or by compare-and-swap.
//
// A request that must pass several limits runs them with [HitBatch]: in
// order, stopping at the first breached limit, which counts nothing. Over a
// storage with the optional [BatchStorage] capability the whole batch is one
// operation (one round trip to Redis); otherwise the steps run one by one,
// with the same results ([AcquireEach] does that for backends).
//
// [Key] builds storage keys from a limit and length-prefixed parts, so no
// client-chosen bytes can make two buckets collide.
//
// Backends register URI schemes with [Register] in init, as database/sql
// drivers do; [Open] opens any registered scheme:
//
//	import _ "github.com/limits-go/limits/storage/redis"
//
//	s, err := limiter.Open(ctx, "redis://localhost:6379/0")
package limiter
