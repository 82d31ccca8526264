package memcached_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// harness makes storages over the servers at addrs, each with a fresh key
// prefix, so no storage sees another's keys, and peers over the same
// prefix; each has a client of its own.
type harness struct {
	addrs   []string
	clock   bool
	mu      sync.Mutex
	prefix  string // of the storage MakeStorage made, and its peers
	clients []*memcache.Client
}

func harnessMaker(addrs []string, acceptsClock bool) conformance.HarnessMaker {
	return func(context.Context, *testing.T) (conformance.Harness, error) {
		return &harness{addrs: addrs, clock: acceptsClock}, nil
	}
}

func (h *harness) MakeStorage(context.Context, limiter.Clock) (limiter.Storage, error) {
	h.mu.Lock()
	h.prefix = uniquePrefix()
	h.mu.Unlock()
	return h.storage()
}

// MakePeer opens the storage another application server would: a client
// of its own, the same prefix.
func (h *harness) MakePeer(context.Context, limiter.Clock, limiter.Storage) (limiter.Storage, error) {
	return h.storage()
}

// storage returns a storage over a new client, with the prefix of
// MakeStorage's.
func (h *harness) storage() (limiter.Storage, error) {
	c := memcache.New(h.addrs...)
	c.MaxIdleConns = 128
	c.Timeout = 2 * time.Second
	h.mu.Lock()
	h.clients = append(h.clients, c)
	prefix := h.prefix
	h.mu.Unlock()
	return memcached.New(c, memcached.WithKeyPrefix(prefix))
}

// AcceptsClock is true: decisions use only Request.Now and the instants
// stored in items; the server's expiry only reclaims memory, a grace period
// after the state is dead.
func (h *harness) AcceptsClock() bool { return h.clock }

func (h *harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true}
}

func (h *harness) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.clients {
		_ = c.Close()
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harnessMaker([]string{servers.Memcached(t)}, true))
}

func TestConformancePool(t *testing.T) {
	conformance.Run(t, harnessMaker(servers.MemcachedPool(t), true))
}

// TestConformanceRealTime runs the suite on the system clock with one-second
// windows, as for a storage that keeps time by the server: the server's
// own expiry must never cut a live window short.
func TestConformanceRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time windows take seconds")
	}
	conformance.Run(t, harnessMaker([]string{servers.Memcached(t)}, false))
}

func TestConformanceContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("containers are slow to start")
	}
	conformance.Run(t, harnessMaker([]string{servers.MemcachedContainer(t)}, true))
}
