// Package servers gives tests the address of a real Redis (standalone,
// cluster, sentinel) or memcached (one server, a pool): from an environment
// variable if set, else a server binary on PATH started on a free loopback
// port, else a testcontainers-go container when Docker answers, else the test
// is skipped. With LIMITS_REQUIRE_SERVERS=1 a missing server fails the test
// instead.
//
// It is kept apart from package conformance so that third parties who run
// the suite on their own storage do not compile testcontainers.
package servers
