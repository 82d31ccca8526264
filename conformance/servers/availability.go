package servers

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Environment variables the package reads.
const (
	// EnvRequire, set to 1 (or true), turns every skip for a missing server
	// into a test failure. CI sets it so that a broken setup cannot pass
	// silently.
	EnvRequire = "LIMITS_REQUIRE_SERVERS"
	// EnvNoDocker, set to 1 (or true), rules out the testcontainers path: a
	// server is then taken from the environment or a local binary only.
	EnvNoDocker = "LIMITS_NO_DOCKER"

	// EnvRedisAddr is the host:port of a standalone Redis for [Redis].
	EnvRedisAddr = "LIMITS_REDIS_ADDR"
	// EnvRedisClusterAddrs is a comma-separated list of cluster seed
	// addresses for [RedisCluster].
	EnvRedisClusterAddrs = "LIMITS_REDIS_CLUSTER_ADDRS"
	// EnvRedisSentinelAddrs is a comma-separated list of sentinel addresses
	// for [RedisSentinel]; EnvRedisSentinelMaster names the monitored master.
	EnvRedisSentinelAddrs = "LIMITS_REDIS_SENTINEL_ADDRS"
	// EnvRedisSentinelMaster is the master name the sentinels of
	// EnvRedisSentinelAddrs monitor.
	EnvRedisSentinelMaster = "LIMITS_REDIS_SENTINEL_MASTER"
	// EnvMemcachedAddr is the host:port of a memcached for [Memcached].
	EnvMemcachedAddr = "LIMITS_MEMCACHED_ADDR"
	// EnvMemcachedAddrs is a comma-separated list of memcached addresses
	// for [MemcachedPool].
	EnvMemcachedAddrs = "LIMITS_MEMCACHED_ADDRS"

	// EnvRedisImage overrides the Docker image of the container path
	// (default limits-go/redis:test, built by scripts/build-test-images.sh).
	EnvRedisImage = "LIMITS_REDIS_IMAGE"
	// EnvMemcachedImage overrides the memcached Docker image (default
	// limits-go/memcached:test).
	EnvMemcachedImage = "LIMITS_MEMCACHED_IMAGE"
)

// Binary names looked up on PATH.
const (
	redisServerBinary = "redis-server"
	memcachedBinary   = "memcached"
)

// envAddrTimeout bounds the check that an address given in the environment
// answers.
const envAddrTimeout = 3 * time.Second

// envTrue reports whether the environment variable name is set to 1 or true.
func envTrue(name string) bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(name))) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// unavailable skips the test because a server cannot be had, or fails it
// when EnvRequire is set. It does not return.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if envTrue(EnvRequire) {
		t.Fatalf("servers: %s (failing instead of skipping because %s=1)", msg, EnvRequire)
	}
	t.Skipf("servers: %s (set %s=1 to fail instead)", msg, EnvRequire)
}

// binary returns the path of name on PATH, or "" when it is not there.
func binary(name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return path
}

// envList splits a comma-separated environment variable into its non-empty,
// trimmed entries; nil when the variable is unset or empty.
func envList(name string) []string {
	var out []string
	for part := range strings.SplitSeq(os.Getenv(name), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// checkEnvAddrs fails the test when an address taken from the environment
// variable name does not answer ping, so a stale setting reads as such
// instead of as a storage bug.
func checkEnvAddrs(t testing.TB, name string, addrs []string, ping func(string, time.Duration) error) {
	t.Helper()
	for _, addr := range addrs {
		if err := ping(addr, envAddrTimeout); err != nil {
			t.Fatalf("servers: %s=%q: server %s does not answer: %v", name, os.Getenv(name), addr, err)
		}
	}
}
