// Package redis is the Redis storage for limits-go, built on go-redis v9:
// standalone, TLS, unix socket, Cluster, Sentinel and Ring. It implements
// every capability of [limiter.Storage]: fixed window (plain and elastic),
// moving window, sliding window counter, token bucket, and reset-all. It is
// the storage for fleets of application servers sharing one set of limits.
//
// # Opening
//
// [New] wraps any [redis.UniversalClient] (a *redis.Client, including a
// Sentinel failover client, a *redis.ClusterClient or a *redis.Ring); the
// caller keeps the client. A blank import registers URI schemes for
// [limiter.Open], whose storages own their client:
//
//	redis://[user:pass@]host:port[/db]
//	rediss://[user:pass@]host:port[/db]                     TLS
//	redis+unix://[user:pass@]/path/to/socket[?db=N]
//	redis+cluster://[user:pass@]h1:p1[,h2:p2...]
//	redis+sentinel://[user:pass@]h1:p1[,h2:p2...]/service[/db]
//
// The query may hold this package's parameters — prefix ([WithPrefix]),
// timeout ([WithTimeout], a Go duration), clock=server|client
// ([WithClientClock]), expiry_grace ([WithExpiryGrace]), dialer_retries and
// dialer_retry_timeout (below) — and any option go-redis's ParseURL,
// ParseClusterURL or ParseFailoverURL knows for the scheme (read_timeout,
// pool_size, ...; Sentinel URIs also take password, the master's, while
// their user:pass part authenticates to the sentinels, as in go-redis).
// Anything else is an error wrapping [limiter.ErrInvalidURI] that names the
// parameter, and so are a parameter given twice (but addr, go-redis's list
// of more nodes), a node of a cluster or sentinel list that is not
// host[:port] (a node without a port gets 6379), a pool size below 0 or
// above 2^31-1 (go-redis would panic on either), a negative database or a db
// parameter that names another database than the path, route_by_latency or
// route_randomly on a Sentinel URI (go-redis's failover client panics on
// them), a Sentinel master_name that differs from the service in the path, a
// host in a redis+unix URI, a fragment, and a URI without "//" after the
// scheme ("redis:host:6379", which go-redis would read as localhost). IPv6
// literals cannot be listed in a node list ("[::1]:7000,[::1]:7001" does not
// parse as a URI): give further nodes as addr parameters, or build the
// client and call [New]. Opened clients have go-redis's
// ContextTimeoutEnabled set, so a context's deadline bounds every read. They
// retry no command unless the query sets max_retries (a script whose reply
// was lost may have counted the hit, and running it again would count it
// twice), and dial once per connection unless it sets dialer_retries
// (attempts, 1 to 100) and dialer_retry_timeout (the pause between them, up to 5s):
// go-redis's five attempts, 100ms apart, would hold every request about
// 400ms while the server refuses connections, where a rate limiter should
// fail at once and let its fallback or error handler answer. go-redis
// reports failed dials through its own logger (redis.SetLogger), not the
// application's.
//
// # One round trip per hit
//
// Every Acquire and Peek is one EVALSHA of a Lua script that reads the
// key's state, decides, writes it back and returns everything the State
// needs (allowed, remaining, reset and retry instants). A server that does
// not know the script answers NOSCRIPT and the same call sends it with EVAL,
// once per server. Scripts run atomically, so any number of application
// servers may share a bucket and N concurrent hits on a limit of L allow
// exactly min(N, L).
//
// # Keys and Cluster
//
// Each capability keeps one Redis key per limiter key:
//
//	<prefix>{<limiter key>}:fw   fixed window: a hash, n the count and e the expiry
//	<prefix>{<limiter key>}:mw   moving window: a list of instants, newest first
//	<prefix>{<limiter key>}:sw   sliding window: a hash, s the window's start,
//	                             c and p the current and previous counts
//	<prefix>{<limiter key>}:tb   token bucket: the theoretical arrival time
//
// Counts are kept as Redis integers, so most hits update them with one
// HINCRBY. Instants are Unix microseconds, followed by ":" and the
// nanoseconds below them when those are not zero (with the server clock,
// which counts microseconds, they always are).
//
// The limiter key is the hash tag, with '%', '{' and '}' escaped as %25,
// %7B and %7D (route patterns such as /users/{id} contain braces), so every
// key of one bucket lands in one Cluster slot — [Storage.Clear] is one DEL —
// while different buckets spread over all slots. Each script touches exactly
// one key. [Storage.ResetAll] SCANs (never KEYS) every master of a Cluster
// and every shard of a Ring for the prefix's keys and UNLINKs them one by
// one; a Ring shard that go-redis holds down fails it with [ErrShardDown],
// since its keys remain. The prefix, "limits-go:" by default, lets several
// applications share a server.
//
// [Storage.AcquireBatch] runs a request's limits as one script on a
// standalone or Sentinel-managed server, and step by step on a Cluster or
// Ring, whose slots spread them; a plain client on a cluster-enabled server
// (which refuses a script over several slots with CROSSSLOT, before running
// it) goes step by step from its first such refusal on.
//
// # Clocks
//
// By default the scripts act on the Redis server's clock (TIME): every
// application server sharing a bucket sees the same time, however skewed
// their own clocks are, and in a Cluster each bucket lives on one master with
// one clock. The reported instants are converted to Request.Now's frame (an
// instant d after the server's now is reported as Request.Now + d), so
// Retry-After and reset headers stay right on a skewed application server.
// [WithClientClock] makes the scripts act on Request.Now instead: exact and
// steppable with [limiter.ManualClock] in tests, and right in production
// only while the application servers' clocks agree.
//
// The server clock resolves microseconds; Request.Now (the client clock) is
// used to the nanosecond. Lua numbers are doubles, exact only to 2^53, so
// the scripts carry instants as pairs (microseconds, nanoseconds below
// them) and multiply counts by durations with an exact long
// multiplication: the arithmetic matches limiter's algorithm types
// ([limiter.FixedWindow], [limiter.MovingWindow], [limiter.SlidingWindow],
// [limiter.TokenBucket]) exactly, for instants up to the year 2255, past
// any a request can reach: [limiter.Request] instants end before 2150 and
// windows at [limiter.MaxWindow], so two windows after one end before 2249.
//
// Decisions depend only on the instants stored inside the values (expiry,
// log entries, window start, TAT). Key TTLs (PX/PEXPIRE) only reclaim
// memory: each is the state's logical remaining life plus a grace
// ([WithExpiryGrace]), so a key is never reclaimed while it matters.
//
// # Errors and deadlines
//
// Errors wrap go-redis's with the operation and the key, as in
// `redis storage: acquire fixed window "k": context deadline exceeded`, and
// are comparable with errors.Is (context errors, [limiter.ErrClosed] after
// Close, [limiter.ErrInvalidOption], [limiter.ErrInvalidURI]). A call whose
// context has no deadline gets [WithTimeout]'s (one second by default), so
// a hung Redis adds bounded latency.
//
// # Failures and failovers
//
// Counts are only as durable as Redis keeps them:
//   - A reply lost on the way back (a connection killed, a timeout while
//     Redis was paused) may hide a hit that counted; it is not sent again.
//     A command sent before a pause runs when Redis resumes.
//   - After as many failed dials in a row as the pool holds connections (a
//     server down under load), go-redis stops dialing and tries again once
//     a second, so calls can keep failing up to a second after Redis is
//     back.
//   - Sentinel: replication is asynchronous, so a failover forgets the hits
//     the old master took after its replica last caught up, and limits
//     under-count for a moment. Scripts are loaded on the new master at its
//     first NOSCRIPT.
//   - Cluster: moved slots (MOVED, ASK) are followed. A master lost with no
//     replica fails the calls on its slots at once, and, after
//     cluster-node-timeout, every call while cluster-require-full-coverage
//     is yes (Redis's default). A batch runs step by step there: the steps
//     before a failed one stay counted (see limiter.HitBatch).
//   - Out of memory (maxmemory with noeviction), an allowed hit fails, and
//     counts nothing; PING still answers, so a health check passes.
package redis
