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
// time unless sync is set.
type harness struct {
	newClient   func() redis.UniversalClient
	clientClock bool
	// sync, if set, makes the server's TIME follow the suite's clock before
	// every command (miniredis's SetTime), so the server-clock path runs
	// exactly too.
	sync func(limiter.Clock) redis.Hook

	mu      sync.Mutex
	clients []redis.UniversalClient
}

func (h *harness) MakeStorage(_ context.Context, clock limiter.Clock) (limiter.Storage, error) {
	c := h.newClient()
	h.mu.Lock()
	h.clients = append(h.clients, c)
	h.mu.Unlock()
	opts := []limiter.StorageOption{redisstore.WithPrefix(uniquePrefix())}
	if h.clientClock {
		opts = append(opts, redisstore.WithClientClock())
	}
	if h.sync != nil {
		c.AddHook(h.sync(clock))
	}
	return redisstore.New(c, opts...)
}

func (h *harness) AcceptsClock() bool { return h.clientClock || h.sync != nil }

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

// timeHook sets miniredis's clock to clock.Now() before every command.
type timeHook struct {
	m     *miniredis.Miniredis
	clock limiter.Clock
}

func (h timeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h timeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.m.SetTime(h.clock.Now())
		return next(ctx, cmd)
	}
}

func (h timeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestConformanceMiniredis(t *testing.T) {
	t.Run("ClientClock", func(t *testing.T) {
		addr := miniredis.RunT(t).Addr()
		conformance.Run(t, maker(func() *harness { return &harness{newClient: standalone(addr), clientClock: true} }))
	})
	t.Run("ServerClock", func(t *testing.T) {
		// One miniredis per harness: SetTime is server-wide.
		conformance.Run(t, func(_ context.Context, t *testing.T) (conformance.Harness, error) {
			m := miniredis.RunT(t)
			return &harness{
				newClient: standalone(m.Addr()),
				sync:      func(c limiter.Clock) redis.Hook { return timeHook{m, c} },
			}, nil
		})
	})
	t.Run("ServerClockRealTime", func(t *testing.T) {
		if testing.Short() {
			t.Skip("real-time windows take seconds")
		}
		addr := miniredis.RunT(t).Addr()
		conformance.Run(t, maker(func() *harness { return &harness{newClient: standalone(addr)} }))
	})
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
