package servers

import (
	"os"
	"strings"
	"testing"
)

// memcachedSource returns the local memcached binary, or "" when containers
// are to be used; without either the test is skipped.
func memcachedSource(t testing.TB, env string) string {
	t.Helper()
	if path := binary(memcachedBinary); path != "" {
		return path
	}
	if err := dockerAvailable(); err != nil {
		unavailable(t, "no memcached: %s is unset, %s is not on PATH, and Docker is unavailable (%v)",
			env, memcachedBinary, err)
	}
	return ""
}

// Memcached returns the "host:port" of a memcached: LIMITS_MEMCACHED_ADDR if
// set (then shared, so use unique keys), else a memcached from PATH, else a
// container from the local image. The server is stopped in t.Cleanup; call
// Memcached once at the top of a test and share it between subtests. Without
// any of the three the test is skipped (failed under
// LIMITS_REQUIRE_SERVERS=1).
func Memcached(t testing.TB) string {
	t.Helper()
	if addr := strings.TrimSpace(os.Getenv(EnvMemcachedAddr)); addr != "" {
		checkEnvAddrs(t, EnvMemcachedAddr, []string{addr}, pingMemcached)
		return addr
	}
	return startMemcached(t, memcachedSource(t, EnvMemcachedAddr))
}

// MemcachedPool returns the addresses of two memcached servers, for the
// client's key distribution: LIMITS_MEMCACHED_ADDRS (comma-separated, two
// or more) if set, else two servers found as [Memcached] finds one.
func MemcachedPool(t testing.TB) []string {
	t.Helper()
	if addrs := envList(EnvMemcachedAddrs); len(addrs) > 0 {
		if len(addrs) < 2 {
			t.Fatalf("servers: %s=%q: want two or more addresses", EnvMemcachedAddrs, os.Getenv(EnvMemcachedAddrs))
		}
		checkEnvAddrs(t, EnvMemcachedAddrs, addrs, pingMemcached)
		return addrs
	}
	path := memcachedSource(t, EnvMemcachedAddrs)
	return []string{startMemcached(t, path), startMemcached(t, path)}
}

// startMemcached starts one memcached from the binary at path, or from the
// image when path is "".
func startMemcached(t testing.TB, path string) string {
	t.Helper()
	if path == "" {
		return MemcachedContainer(t)
	}
	p, err := newProcess(t, memcachedKind, path, nil)
	if err != nil {
		t.Fatalf("servers: %v", err)
	}
	return p.Addr()
}
