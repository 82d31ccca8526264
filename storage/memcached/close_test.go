package memcached_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// currConnections reads memcached's curr_connections stat, over a
// connection of its own (which it counts).
func currConnections(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("stats\r\n")); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[1] == "curr_connections" {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if len(f) > 0 && f[0] == "END" {
			break
		}
	}
	t.Fatal("memcached stats: no curr_connections")
	return 0
}

// Close of a storage that owns its client leaves no connection open, even
// one a call in flight during Close puts back into gomemcache's pool after
// it: the last call to end closes the pool again.
func TestCloseClosesConnectionsOfCallsInFlight(t *testing.T) {
	p := servers.StartMemcached(t)
	addr := p.Addr()
	base := currConnections(t, addr)
	s, err := limiter.Open(context.Background(), "memcached://"+addr+"?timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	r := limiter.Request{Key: "k", Limit: limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Hour}, Cost: 1, Now: time.Now()}
	if _, err := s.AcquireFixedWindow(context.Background(), r, false); err != nil {
		t.Fatal(err)
	}
	p.Pause()
	done := make(chan error, 1)
	go func() {
		_, err := s.AcquireFixedWindow(context.Background(), r, false)
		done <- err
	}()
	// Close must come while the call waits for its reply, not before it
	// began: a call begun after Close fails with ErrClosed. It is counted
	// in flight just before it checks for Close; the short sleep lets it
	// get past that check to the paused server.
	for start := time.Now(); memcached.InFlight(s) == 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the call never started")
		}
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	p.Resume()
	if err := <-done; err != nil {
		t.Fatalf("the call in flight during Close: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	n := currConnections(t, addr)
	for n > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = currConnections(t, addr)
	}
	if n > base {
		t.Fatalf("after Close and the end of the call in flight: %d connections open at the server, want %d", n, base)
	}
}
