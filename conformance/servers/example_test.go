package servers_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance/servers"
)

// testRedisRestart is how a storage test uses the package: take a server
// once, share it between subtests, and control the process for fault tests.
func testRedisRestart(t *testing.T) {
	addr := servers.Redis(t) // skipped when no Redis can be had
	t.Run("Ping", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("PING\r\n"))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		if line != "+PONG\r\n" {
			t.Errorf("PING = %q, want +PONG", line)
		}
	})

	p := servers.StartRedis(t, "--maxmemory", "8mb")
	p.Pause() // the client now sees timeouts
	p.Resume()
	p.Restart() // same address, empty data
	_ = p.Addr()
}

// Example shows a test taking a Redis from the package; the servers it
// starts are stopped when the test ends.
func Example() {
	_ = testRedisRestart
}
