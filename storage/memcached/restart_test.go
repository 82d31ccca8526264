package memcached_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// fillPool makes gomemcache keep several idle connections: calls from
// goroutines that overlap each open one, and put it back when done.
func fillPool(t *testing.T, s limiter.Storage, conns int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, conns)
	for i := range conns {
		wg.Go(func() {
			<-start
			r := limiter.Request{Key: "warm-" + string(rune('a'+i)), Limit: mustLimit(t, "100/hour"), Cost: 1, Now: t0}
			for range 20 {
				if _, err := s.AcquireFixedWindow(t.Context(), r, false); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("warming the pool: %v", err)
	}
}

// TestRestartedServerCostsNoCall: after memcached restarts, connections
// left idle to the old process are replaced before a command goes out on
// them, so no call fails, for clients opened from a URI and for clients
// given Dialer.
func TestRestartedServerCostsNoCall(t *testing.T) {
	p := servers.StartMemcached(t)
	open := map[string]func(t *testing.T) limiter.Storage{
		"uri": func(t *testing.T) limiter.Storage {
			s, err := limiter.Open(t.Context(), "memcached://"+p.Addr()+"?max_idle_conns=16&key_prefix="+uniquePrefix())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"dialer": func(t *testing.T) limiter.Storage {
			c := memcache.New(p.Addr())
			c.MaxIdleConns = 16
			c.DialContext = memcached.Dialer(nil)
			t.Cleanup(func() { c.Close() })
			s, err := memcached.New(c, memcached.WithKeyPrefix(uniquePrefix()))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			fillPool(t, s, 8)
			p.Kill()
			p.Restart()
			l := mustLimit(t, "5/hour")
			for i := range 30 {
				r := limiter.Request{Key: "after-restart", Limit: l, Cost: 1, Now: t0}
				st, err := s.AcquireFixedWindow(t.Context(), r, false)
				if err != nil {
					t.Fatalf("call %d after the restart: %v", i+1, err)
				}
				if st.Allowed != (i < 5) {
					t.Fatalf("call %d after the restart: allowed=%v, want %v", i+1, st.Allowed, i < 5)
				}
			}
		})
	}
}

// TestDialerRedialsWithinDeadline: a replacement connection that cannot be
// made fails the call with the dial's error, and the next call, once the
// server is back, succeeds.
func TestDialerRedialsWithinDeadline(t *testing.T) {
	p := servers.StartMemcached(t)
	var mu sync.Mutex
	dials := 0
	dial := memcached.Dialer(func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("dial to %s without a deadline", address)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	})
	c := memcache.New(p.Addr())
	c.Timeout = time.Second
	c.DialContext = dial
	defer c.Close()
	s, err := memcached.New(c, memcached.WithKeyPrefix(uniquePrefix()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := limiter.Request{Key: "k", Limit: mustLimit(t, "100/hour"), Cost: 1, Now: t0}
	if _, err := s.AcquireFixedWindow(t.Context(), r, false); err != nil {
		t.Fatalf("before the kill: %v", err)
	}
	p.Kill()
	if _, err := s.AcquireFixedWindow(t.Context(), r, false); err == nil {
		t.Fatalf("server down: no error")
	}
	p.Restart()
	for i := range 3 {
		if _, err := s.AcquireFixedWindow(t.Context(), r, false); err != nil {
			t.Fatalf("call %d after the restart: %v", i+1, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if dials < 2 {
		t.Errorf("%d dials, want a new connection after the restart", dials)
	}
}
