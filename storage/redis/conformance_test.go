package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// uniquePrefix returns a key prefix no other storage of the test run uses,
// so harnesses sharing a server never see each other's keys (ResetAll
// included).
func uniquePrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "test:" + hex.EncodeToString(b[:]) + ":"
}

// harness makes storages over one client shared by every harness of a
// test (as one application server's storages would share it), each storage
// with a fresh prefix.
type harness struct {
	client redis.UniversalClient
	mode   clockMode
}

func (h *harness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	// A generous deadline: the suite's concurrency rules queue hundreds of
	// calls on a loaded machine under -race.
	opts := []limiter.StorageOption{redisstore.WithPrefix(uniquePrefix()), redisstore.WithTimeout(30 * time.Second)}
	if h.mode != serverRealTime {
		opts = append(opts, redisstore.WithClientClock())
	}
	return redisstore.New(h.client, opts...)
}

// AcceptsClock reports the client clock driven by the suite: the server clock (Redis TIME) has a
// resolution of a microsecond, and the suite steps nanoseconds. The server
// clock's arithmetic is checked exactly by TestScriptsMatchReference, with
// miniredis's SetTime.
func (h *harness) AcceptsClock() bool { return h.mode == clientExact }

func (h *harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true, ResetAll: true, Batch: true}
}

// Close does nothing: the client belongs to the test.
func (h *harness) Close() {}

// suite runs the conformance suite on storages over one client from
// newClient, closed when t ends.
func suite(t *testing.T, newClient func() redis.UniversalClient, mode clockMode) {
	c := newClient()
	t.Cleanup(func() { c.Close() })
	conformance.Run(t, func(context.Context, *testing.T) (conformance.Harness, error) {
		return &harness{client: c, mode: mode}, nil
	})
}

func standalone(addr string) func() redis.UniversalClient {
	return func() redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	}
}

func cluster(addrs []string) func() redis.UniversalClient {
	return func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	}
}

func sentinel(s servers.Sentinel) func() redis.UniversalClient {
	return func() redis.UniversalClient {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.Master, SentinelAddrs: s.Addrs, ContextTimeoutEnabled: true})
	}
}

// TestConformanceMiniredis runs the suite exactly with the client clock.
// The server clock runs against real servers (TestConformanceRedis and
// others): miniredis interprets every script afresh, too slowly for the
// suite's real-time margins.
func TestConformanceMiniredis(t *testing.T) {
	suite(t, standalone(miniredis.RunT(t).Addr()), clientExact)
}

// harness modes for one deployment.
type clockMode int

const (
	clientExact    clockMode = iota // client clock, the suite's ManualClock
	clientRealTime                  // client clock on real time: Redis TTLs must never cut live state short
	serverRealTime                  // server clock on real time
)

// runReal runs the suite on one deployment with the client clock, exactly
// and on real time, and with the server clock (the default) on real time.
// The suite's real-time rules hold for a storage whose clock runs on while
// a rule sends its calls, so the server clock passes on a loaded machine;
// its arithmetic is also checked exactly by TestScriptsMatchReference
// (miniredis TIME).
func runReal(t *testing.T, newClient func() redis.UniversalClient) {
	t.Run("ClientClock", func(t *testing.T) { suite(t, newClient, clientExact) })
	for _, rt := range []struct {
		name string
		mode clockMode
	}{{"ClientClockRealTime", clientRealTime}, {"ServerClock", serverRealTime}} {
		t.Run(rt.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("real-time windows take seconds")
			}
			suite(t, newClient, rt.mode)
		})
	}
}

func TestConformanceRedis(t *testing.T) {
	runReal(t, standalone(servers.Redis(t)))
}

func TestConformanceCluster(t *testing.T) {
	runReal(t, cluster(servers.RedisCluster(t)))
}

func TestConformanceSentinel(t *testing.T) {
	runReal(t, sentinel(servers.RedisSentinel(t)))
}

func TestConformanceContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("containers are slow to start")
	}
	addr := servers.RedisContainer(t)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("servers.RedisContainer = %q: %v", addr, err)
	}
	runReal(t, standalone(addr))
}
