package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"
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
// with a fresh prefix, and peers over clients of their own (as another
// application server's), closed with the harness.
type harness struct {
	client    redis.UniversalClient
	newClient func() redis.UniversalClient
	mode      clockMode

	mu      sync.Mutex
	prefix  string                  // of the storage MakeStorage made
	clients []redis.UniversalClient // the peers'
}

func (h *harness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	h.mu.Lock()
	h.prefix = uniquePrefix()
	h.mu.Unlock()
	return h.storage(h.client)
}

// storage returns a storage over c with the prefix of MakeStorage's.
func (h *harness) storage(c redis.UniversalClient) (limiter.Storage, error) {
	h.mu.Lock()
	prefix := h.prefix
	h.mu.Unlock()
	// A generous deadline: the suite's concurrency rules queue hundreds of
	// calls on a loaded machine under -race.
	opts := []limiter.StorageOption{redisstore.WithPrefix(prefix), redisstore.WithTimeout(30 * time.Second)}
	if h.mode != serverRealTime {
		opts = append(opts, redisstore.WithClientClock())
	}
	return redisstore.New(c, opts...)
}

// MakePeer opens the storage another application server would: a client
// of its own, the same prefix.
func (h *harness) MakePeer(context.Context, limiter.Clock, limiter.Storage) (limiter.Storage, error) {
	c := h.newClient()
	h.mu.Lock()
	h.clients = append(h.clients, c)
	h.mu.Unlock()
	return h.storage(c)
}

// AcceptsClock reports the client clock driven by the suite: the server clock (Redis TIME) has a
// resolution of a microsecond, and the suite steps nanoseconds. The server
// clock's arithmetic is checked exactly by TestScriptsMatchReference, with
// miniredis's SetTime.
func (h *harness) AcceptsClock() bool { return h.mode == clientExact }

func (h *harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true, ResetAll: true, Batch: true}
}

// Close closes the peers' clients; the storages' client belongs to the
// test.
func (h *harness) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.clients {
		_ = c.Close()
	}
}

// suite runs the conformance suite on storages over one client from
// newClient, closed when t ends.
func suite(t *testing.T, newClient func() redis.UniversalClient, mode clockMode) {
	c := newClient()
	t.Cleanup(func() { c.Close() })
	conformance.Run(t, func(context.Context, *testing.T) (conformance.Harness, error) {
		return &harness{client: c, newClient: newClient, mode: mode}, nil
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
