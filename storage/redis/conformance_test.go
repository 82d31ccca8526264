package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"
	"testing"

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

// harness makes storages over clients from newClient, each storage with a
// fresh prefix. With clientClock the storages act on Request.Now
// (AcceptsClock); otherwise on the server's TIME, and the suite runs on real
// time.
type harness struct {
	newClient   func() redis.UniversalClient
	clientClock bool

	mu      sync.Mutex
	clients []redis.UniversalClient
}

func (h *harness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	c := h.newClient()
	h.mu.Lock()
	h.clients = append(h.clients, c)
	h.mu.Unlock()
	opts := []limiter.StorageOption{redisstore.WithPrefix(uniquePrefix())}
	if h.clientClock {
		opts = append(opts, redisstore.WithClientClock())
	}
	return redisstore.New(c, opts...)
}

// AcceptsClock reports the client clock: the server clock (Redis TIME) has a
// resolution of a microsecond, and the suite steps nanoseconds. The server
// clock's arithmetic is checked exactly by TestScriptsMatchReference, with
// miniredis's SetTime.
func (h *harness) AcceptsClock() bool { return h.clientClock }

func (h *harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true, ResetAll: true}
}

func (h *harness) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.clients {
		_ = c.Close()
	}
}

func maker(h func() *harness) conformance.HarnessMaker {
	return func(context.Context, *testing.T) (conformance.Harness, error) { return h(), nil }
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
	addr := miniredis.RunT(t).Addr()
	conformance.Run(t, maker(func() *harness { return &harness{newClient: standalone(addr), clientClock: true} }))
}

// runReal runs the suite twice on one deployment: with the client clock,
// exactly, and with the server clock on real time.
func runReal(t *testing.T, newClient func() redis.UniversalClient) {
	t.Run("ClientClock", func(t *testing.T) {
		conformance.Run(t, maker(func() *harness { return &harness{newClient: newClient, clientClock: true} }))
	})
	t.Run("ServerClock", func(t *testing.T) {
		if testing.Short() {
			t.Skip("real-time windows take seconds")
		}
		conformance.Run(t, maker(func() *harness { return &harness{newClient: newClient} }))
	})
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
