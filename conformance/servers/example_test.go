package servers_test

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance/servers"
)

// Example is the body of a storage's test that takes its servers from the
// package. Each call gives servers of the test's own (from the environment,
// a binary on PATH or a container), stopped when the test ends, or skips the
// test when none can be had; so a test calls it once at the top and shares
// the addresses between its subtests. A server started as a Process can be
// paused, restarted and killed, for fault tests.
//
// The example only compiles, without an Output line: it needs the
// *testing.T that go test passes to a test function, and servers.
func Example() {
	t := &testing.T{} // in a test: the *testing.T of func TestMyStorage(t *testing.T)

	addr := servers.Redis(t) // "127.0.0.1:port", or LIMITS_REDIS_ADDR when set
	t.Run("Ping", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "PING\r\n")
		if line, err := bufio.NewReader(conn).ReadString('\n'); line != "+PONG\r\n" {
			t.Errorf("PING = %q, %v; want +PONG", line, err)
		}
	})

	// Deployments: three cluster masters holding every slot; a sentinel
	// watching a master and its replica; several memcached servers.
	seeds := servers.RedisCluster(t)
	sentinel := servers.RedisSentinel(t)
	pool := servers.MemcachedPool(t)
	t.Logf("cluster seeds %v, master %q behind sentinels %v, memcached %v", seeds, sentinel.Master, sentinel.Addrs, pool)

	// A process of the test's own, always from a local binary, with extra
	// arguments.
	p := servers.StartRedis(t, "--maxmemory", "8mb")
	p.Pause()   // clients of p.Addr() now time out, as with a hung server
	p.Resume()  // and are answered again
	p.Restart() // same address, empty data
	p.Kill()    // as a crash would; the test's cleanup would have stopped it
}
