// Package reliability holds the fault, load and hostile-input tests that
// exercise chilimit over real storages together: servers killed, paused and
// restarted under load, black-holing and latency proxies, a bounded soak, and
// spoofing attempts. It is test-only and never released.
//
// # Faults
//
// Every fault runs against real server processes on loopback, started by
// conformance/servers (StartRedis, StartMemcached) so a test can kill,
// pause and restart them, or behind a loopback TCP proxy that black-holes
// traffic, cuts a connection after the server ran a command but before its
// reply arrives, or delays replies:
//
//   - Redis killed under load and restarted, with swallow-errors (no failed
//     request; the storage error logged once per log interval), with the
//     in-memory fallback (fallback limits hold, health checks back off
//     from the minimum to the maximum interval, the limiter returns to
//     Redis), and with neither (a clear 500 with an error wrapping
//     chilimit.ErrStorage).
//   - Redis paused with SIGSTOP, and a black-holing proxy: requests give up
//     at chilimit's storage timeout (default and configured), direct
//     storage calls at the redis storage's own timeout.
//   - Replies lost after the script ran, and slow replies: each request
//     counted once, limits exact under concurrency, no goroutine left.
//   - memcached restarted (its counts lost) for every strategy, and paused.
//   - A Redis Cluster master killed and restarted on its port.
//
// # Load
//
// The soak tests send 100,000 clients and a known set of clients through
// lim.Handler on memory and on Redis from many goroutines, check exact
// totals, and check that the keys expire and the heap and goroutine counts
// return to their baseline.
//
// # Hostile input
//
// Empty, 1 MB, invalid UTF-8 and memcached-illegal keys on every backend;
// forged X-Forwarded-For and X-Real-IP with and without trusted proxies;
// cost, limit, key and exempt functions returning nonsense or panicking.
// Fuzz targets cover the storage URIs of every backend (FuzzOpen),
// chilimit's key and scope path (FuzzClientBuckets) and dynamic limit
// strings (FuzzDynamicLimit); their seeds run with go test.
package reliability
