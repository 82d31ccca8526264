// Package servers gives tests the address of a real Redis (standalone,
// cluster, sentinel) or memcached (one server, a pool): from an environment
// variable if set, else a server binary on PATH started on a free loopback
// port, else a testcontainers-go container when Docker answers, else the test
// is skipped. With LIMITS_REQUIRE_SERVERS=1 a missing server fails the test
// instead.
//
// It is kept apart from package conformance so that third parties who run
// the suite on their own storage do not compile testcontainers.
//
// # Where a server comes from
//
// [Redis], [RedisCluster], [RedisSentinel], [Memcached] and [MemcachedPool]
// try, in order:
//
//  1. An address in the environment ([EnvRedisAddr] and its siblings). The
//     server is shared, so tests must use unique keys. An address that does
//     not answer fails the test.
//  2. redis-server or memcached on PATH, started on a port the kernel
//     reports free, bound to 127.0.0.1, with its files in t.TempDir(), and
//     killed in t.Cleanup. A start that loses its port to another process is
//     retried on a new one. Readiness is a PING (a "version" for memcached)
//     answered by the very process started.
//  3. Containers from the local images limits-go/redis:test and
//     limits-go/memcached:test, which scripts/build-test-images.sh builds
//     from the same binaries without a registry. Images are never pulled. A
//     standalone server publishes its port on 127.0.0.1 only; cluster nodes
//     and sentinels run on the host network, so that the addresses they
//     announce are the ones a client can reach.
//
// Call them once at the top of a test and share the result between
// subtests: each call starts new servers, stopped when that test ends.
//
// A cluster has three masters without replicas, each holding a third of the
// slots, and is returned once every node reports cluster_state:ok. A
// sentinel deployment is one master, one replica and one sentinel with a
// quorum of one and a down-after of one second, returned once the sentinel
// names the master and lists the replica.
//
// # Containers
//
// [RedisContainer] and [MemcachedContainer] take the container path even
// when a binary is on PATH. The Ryuk reaper of testcontainers is disabled
// (TESTCONTAINERS_RYUK_DISABLED=true unless set), because its image would
// have to come from a registry; every container is terminated in t.Cleanup
// instead. The images have no shell, so readiness is the server's own log
// line, then a PING. [EnvNoDocker] rules the container path out.
//
// # Fault injection
//
// [StartRedis] and [StartMemcached] return a [Process], always from a local
// binary, for tests that stop, kill, restart, pause and resume a server.
package servers
