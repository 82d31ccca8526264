package memcached_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// memcachedProc is a memcached started for one test (temporary helper until
// conformance/servers lands).
type memcachedProc struct {
	addr string
	cmd  *exec.Cmd
}

func startMemcached(t *testing.T) *memcachedProc {
	t.Helper()
	path, err := exec.LookPath("memcached")
	if err != nil {
		if os.Getenv("LIMITS_REQUIRE_SERVERS") == "1" {
			t.Fatalf("memcached not on PATH: %v", err)
		}
		t.Skipf("memcached not on PATH: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0", "-u", "root")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &memcachedProc{addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for range 100 {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("memcached on %s did not start", p.addr)
	return nil
}

func (p *memcachedProc) Addr() string { return p.addr }
func (p *memcachedProc) Pause()       { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }
func (p *memcachedProc) Resume()      { _ = p.cmd.Process.Signal(syscall.SIGCONT) }
