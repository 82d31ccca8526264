package servers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timing of local processes.
const (
	// readyTimeout bounds the wait for a started server to answer.
	readyTimeout = 15 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// pingTimeout bounds one readiness probe.
	pingTimeout = 500 * time.Millisecond
	// bindAttempts is how often a start is retried on a fresh port when
	// another process took the chosen port first.
	bindAttempts = 5
	// clusterBusOffset is the distance from a cluster node's port to its
	// cluster bus port.
	clusterBusOffset = 10000
)

// A kind describes one sort of server process: which binary runs, with which
// arguments for a port and a working directory, and how to tell it is ready.
type kind struct {
	name   string // for messages: "redis", "memcached", "sentinel"
	binary string // looked up on PATH
	// args returns the arguments that make the server listen on
	// 127.0.0.1:port and keep its files in dir; the caller's arguments
	// follow, so they can override these.
	args func(port int, dir string) []string
	// files are written into dir before the first start (a sentinel's
	// configuration); the server may rewrite them.
	files func(port int) map[string]string
	// ping reports whether the server at addr answers.
	ping func(addr string, timeout time.Duration) error
	// pid returns the process id of the server answering at addr, so a
	// local start can tell its own server from one that took the port
	// first.
	pid func(addr string, timeout time.Duration) (int, error)
	// readyLog is the line the server logs once it accepts connections;
	// the container path waits for it.
	readyLog string
	// busOffset, when not zero, is the offset of a second port the server
	// listens on (a cluster bus); the port chosen must leave it free too.
	busOffset int
}

// redisArgs are the arguments of every local redis-server: loopback only,
// nothing saved to disk, logs to stdout.
func redisArgs(port int, dir string) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		// Redis 7 waits five seconds before a diskless full sync, in
		// case more replicas come; a test has one and cannot wait.
		"--repl-diskless-sync-delay", "0",
	}
}

var redisKind = kind{
	name:     "redis",
	binary:   redisServerBinary,
	args:     redisArgs,
	ping:     pingRedis,
	pid:      redisPID,
	readyLog: "Ready to accept connections",
}

var memcachedKind = kind{
	name:   "memcached",
	binary: memcachedBinary,
	args: func(port int, _ string) []string {
		// -c: the conformance suite on real time runs every rule at
		// once, over a thousand connections at its peak, past
		// memcached's default of 1024 ("ERROR Too many open
		// connections").
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-c", "4096"}
		if os.Geteuid() == 0 {
			// memcached refuses to run as root unless told which user
			// to be; staying root keeps the test's files reachable.
			args = append(args, "-u", "root")
		}
		return args
	},
	ping:     pingMemcached,
	pid:      memcachedPID,
	readyLog: "server listening",
}

// A Process is a server this package started from a local binary, for tests
// that stop, kill, restart or pause it. It is killed in the Cleanup of the
// test that started it. Its methods are safe for concurrent use and take
// effect one at a time; a method that cannot do its job fails the test that
// started the process.
type Process struct {
	t    testing.TB
	kind kind
	path string   // the binary
	args []string // the caller's extra arguments
	dir  string
	port int

	ctl sync.Mutex // held by each control method, so they do not interleave

	mu      sync.Mutex
	started bool          // a start succeeded once: keep the files
	cmd     *exec.Cmd     // nil when not running
	exited  chan struct{} // closed when cmd has been waited for
}

// StartRedis starts redis-server from PATH on a free loopback port, with
// persistence off and its working directory in t.TempDir(), and returns once
// it answers PING. args are passed after the package's own arguments
// ("--maxmemory", "1mb", ...) so they can override them. Without a
// redis-server binary the test is skipped (failed under
// LIMITS_REQUIRE_SERVERS=1).
func StartRedis(t testing.TB, args ...string) *Process {
	t.Helper()
	return startLocal(t, redisKind, args)
}

// StartMemcached starts memcached from PATH on a free loopback port (TCP
// only) and returns once it answers "version". args are passed after the
// package's own ("-m", "8", ...). Without a memcached binary the test is
// skipped (failed under LIMITS_REQUIRE_SERVERS=1).
func StartMemcached(t testing.TB, args ...string) *Process {
	t.Helper()
	return startLocal(t, memcachedKind, args)
}

// startLocal starts a process of kind k, skipping the test when its binary
// is missing and failing it when the server does not come up.
func startLocal(t testing.TB, k kind, args []string) *Process {
	t.Helper()
	path := binary(k.binary)
	if path == "" {
		unavailable(t, "%s not found on PATH", k.binary)
	}
	p, err := newProcess(t, k, path, args)
	if err != nil {
		t.Fatalf("servers: %v", err)
	}
	return p
}

// newProcess starts a process of kind k from path on a free port, retrying
// on a fresh port when another process binds the chosen one first.
func newProcess(t testing.TB, k kind, path string, args []string) (*Process, error) {
	p := &Process{
		t:    t,
		kind: k,
		path: path,
		args: append([]string(nil), args...),
		dir:  t.TempDir(),
	}
	// Registered after TempDir, so it runs before the directory goes.
	// SIGKILL, not Stop: the server keeps nothing worth a graceful end,
	// and memcached takes up to a second to act on SIGTERM.
	t.Cleanup(p.kill)
	var err error
	for range bindAttempts {
		if p.port, err = freePort(k.busOffset); err != nil {
			return nil, err
		}
		if err = p.start(); err == nil || !errors.Is(err, errAddrInUse) {
			break
		}
	}
	return p, err
}

// errAddrInUse marks a start that failed because the port was taken.
var errAddrInUse = errors.New("address already in use")

// start runs the server on p.port and waits until it answers.
func (p *Process) start() error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if p.kind.files != nil && !started {
		// On a restart the server's own rewrite of these files wins.
		for name, content := range p.kind.files(p.port) {
			file := filepath.Join(p.dir, name)
			if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
				return fmt.Errorf("write %s: %w", file, err)
			}
		}
	}
	args := append(p.kind.args(p.port, p.dir), p.args...)
	cmd := exec.Command(p.path, args...)
	cmd.Dir = p.dir
	log := &logTail{}
	cmd.Stdout = log
	cmd.Stderr = log
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.kind.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status is in the log; Stop expects non-zero
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return p.waitReady(cmd, exited, log)
}

// waitReady polls the server until it answers, it exits, or readyTimeout
// passes; on failure the process is killed and the error carries its log.
func (p *Process) waitReady(cmd *exec.Cmd, exited chan struct{}, log *logTail) error {
	deadline := time.Now().Add(readyTimeout)
	addr := p.Addr()
	for {
		select {
		case <-exited:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			tail := log.String()
			err := fmt.Errorf("%s on %s exited before it was ready (%s); its output:\n%s",
				p.kind.name, addr, cmd.ProcessState, tail)
			if strings.Contains(tail, "in use") {
				err = fmt.Errorf("%w: %w", errAddrInUse, err)
			}
			return err
		default:
		}
		pid, lastErr := p.kind.pid(addr, pingTimeout)
		if lastErr == nil && pid != cmd.Process.Pid {
			// Another server holds the port; ours will exit on it.
			lastErr = fmt.Errorf("%s answers as pid %d, not %d", addr, pid, cmd.Process.Pid)
		}
		if lastErr == nil {
			p.mu.Lock()
			p.started = true
			p.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("%s on %s did not answer within %v: %v; its output:\n%s",
				p.kind.name, addr, readyTimeout, lastErr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr returns the server's "127.0.0.1:port"; it stays the same across
// Restart.
func (p *Process) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// Stop ends the server with SIGTERM (SIGKILL after five seconds) and waits
// for it to exit. Stopping a server that is not running does nothing.
func (p *Process) Stop() {
	p.t.Helper()
	p.ctl.Lock()
	defer p.ctl.Unlock()
	p.stop()
}

func (p *Process) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	// A paused process only acts on SIGTERM once it runs again.
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it to
// exit. Killing a server that is not running does nothing.
func (p *Process) Kill() {
	p.t.Helper()
	p.ctl.Lock()
	defer p.ctl.Unlock()
	p.kill()
}

func (p *Process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Restart stops the server if it runs, starts a new process on the same
// port with the same arguments and data directory, and returns once it
// answers. It fails the test if the server does not come back.
func (p *Process) Restart() {
	p.t.Helper()
	p.ctl.Lock()
	defer p.ctl.Unlock()
	p.stop()
	if err := p.start(); err != nil {
		p.t.Fatalf("servers: restart: %v", err)
	}
}

// Pause freezes the server with SIGSTOP: connections stay open but nothing
// is answered, as with a hung server or a network partition. It returns
// once every thread of the server has stopped.
func (p *Process) Pause() {
	p.t.Helper()
	p.signal("pause", syscall.SIGSTOP)
}

// Resume continues a paused server with SIGCONT.
func (p *Process) Resume() {
	p.t.Helper()
	p.signal("resume", syscall.SIGCONT)
}

func (p *Process) signal(op string, sig os.Signal) {
	p.t.Helper()
	p.ctl.Lock()
	defer p.ctl.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		p.t.Fatalf("servers: %s %s on %s: not running", op, p.kind.name, p.Addr())
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("servers: %s %s on %s: %v", op, p.kind.name, p.Addr(), err)
	}
	if sig == syscall.SIGSTOP {
		if err := waitStopped(p.cmd.Process.Pid, 5*time.Second); err != nil {
			p.t.Fatalf("servers: %s %s on %s: %v", op, p.kind.name, p.Addr(), err)
		}
	}
}

// freePort returns a loopback port nothing listens on, found by listening
// on port 0. With busOffset > 0 the port busOffset above it must be free as
// well (a Redis cluster node's bus port). The port may be taken again before
// the server binds it; callers retry on errAddrInUse.
func freePort(busOffset int) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if busOffset == 0 {
			l.Close()
			return port, nil
		}
		if port+busOffset > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+busOffset)))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, errors.New("find a free port: no port with a free bus port after 50 tries")
}

// logTail keeps the last logTailSize bytes one run of a process wrote, for
// error messages.
type logTail struct {
	mu  sync.Mutex
	buf []byte
}

const logTailSize = 4 << 10

func (l *logTail) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	if over := len(l.buf) - logTailSize; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	return len(b), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
