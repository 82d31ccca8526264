package servers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// exchange sends request over a fresh raw connection to addr and returns
// the first reply line, without the package's own protocol code.
func exchange(addr, request string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := conn.Write([]byte(request)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// assertPONG checks that the Redis at addr answers PING.
func assertPONG(t *testing.T, addr string) {
	t.Helper()
	got, err := exchange(addr, "PING\r\n", 2*time.Second)
	if err != nil || got != "+PONG" {
		t.Fatalf("PING to %s = %q, %v; want +PONG", addr, got, err)
	}
}

// assertVersion checks that the memcached at addr answers "version".
func assertVersion(t *testing.T, addr string) {
	t.Helper()
	got, err := exchange(addr, "version\r\n", 2*time.Second)
	if err != nil || !strings.HasPrefix(got, "VERSION ") {
		t.Fatalf("version to %s = %q, %v; want VERSION ...", addr, got, err)
	}
}

// assertLoopback checks that addr is a 127.0.0.1 address with a port.
func assertLoopback(t *testing.T, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "" || port == "0" {
		t.Fatalf("address %q, want 127.0.0.1:port", addr)
	}
}

// clearEnv unsets every address variable for the test, so that a developer's
// environment does not change what is tested.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		EnvRedisAddr, EnvRedisClusterAddrs, EnvRedisSentinelAddrs, EnvRedisSentinelMaster,
		EnvMemcachedAddr, EnvMemcachedAddrs,
	} {
		t.Setenv(name, "")
	}
}

func TestRedis(t *testing.T) {
	clearEnv(t)
	addr := Redis(t)
	assertLoopback(t, addr)
	assertPONG(t, addr)
}

func TestMemcached(t *testing.T) {
	clearEnv(t)
	addr := Memcached(t)
	assertLoopback(t, addr)
	assertVersion(t, addr)
}

func TestMemcachedPool(t *testing.T) {
	clearEnv(t)
	addrs := MemcachedPool(t)
	if len(addrs) != 2 || addrs[0] == addrs[1] {
		t.Fatalf("MemcachedPool = %v, want two distinct addresses", addrs)
	}
	for _, addr := range addrs {
		assertLoopback(t, addr)
		assertVersion(t, addr)
	}
}

func TestRedisCluster(t *testing.T) {
	clearEnv(t)
	addrs := RedisCluster(t)
	if len(addrs) != 3 {
		t.Fatalf("RedisCluster = %v, want three addresses", addrs)
	}
	for _, addr := range addrs {
		assertLoopback(t, addr)
		info, err := redisCommand(addr, 2*time.Second, "CLUSTER", "INFO")
		if err != nil {
			t.Fatalf("CLUSTER INFO on %s: %v", addr, err)
		}
		s, _ := info.(string)
		for field, want := range map[string]string{
			"cluster_state":          "ok",
			"cluster_known_nodes":    "3",
			"cluster_size":           "3",
			"cluster_slots_ok":       "16384",
			"cluster_slots_pfail":    "0",
			"cluster_slots_fail":     "0",
			"cluster_slots_assigned": "16384",
		} {
			if got := infoField(s, field); got != want {
				t.Errorf("node %s: %s = %q, want %q", addr, field, got, want)
			}
		}
	}
	// Every node announces the loopback address a client can reach.
	v, err := redisCommand(addrs[0], 2*time.Second, "CLUSTER", "SLOTS")
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	ranges, _ := v.([]any)
	seen := map[string]bool{}
	for _, r := range ranges {
		parts, _ := r.([]any)
		if len(parts) < 3 {
			t.Fatalf("CLUSTER SLOTS entry %v, want [from to [host port id]]", r)
		}
		node, _ := parts[2].([]any)
		if len(node) < 2 {
			t.Fatalf("CLUSTER SLOTS node %v, want [host port id]", parts[2])
		}
		seen[net.JoinHostPort(fmt.Sprint(node[0]), fmt.Sprint(node[1]))] = true
	}
	for _, addr := range addrs {
		if !seen[addr] {
			t.Errorf("CLUSTER SLOTS %v does not name node %s", v, addr)
		}
	}
	if len(seen) != 3 {
		t.Errorf("CLUSTER SLOTS names %d nodes, want 3: %v", len(seen), v)
	}

	// A key lands on exactly one node; the others redirect to it.
	var owners, moved int
	for _, addr := range addrs {
		got, err := exchange(addr, "SET servers-test-key 1\r\n", 2*time.Second)
		switch {
		case err != nil:
			t.Fatalf("SET on %s: %v", addr, err)
		case got == "+OK":
			owners++
		case strings.HasPrefix(got, "-MOVED "):
			moved++
		default:
			t.Fatalf("SET on %s = %q, want +OK or -MOVED", addr, got)
		}
	}
	if owners != 1 || moved != 2 {
		t.Errorf("SET answered +OK on %d nodes and MOVED on %d, want 1 and 2", owners, moved)
	}
}

func TestRedisSentinel(t *testing.T) {
	clearEnv(t)
	s := RedisSentinel(t)
	if len(s.Addrs) != 1 || s.Master != sentinelMaster {
		t.Fatalf("RedisSentinel = %+v, want one sentinel monitoring %q", s, sentinelMaster)
	}
	assertLoopback(t, s.Addrs[0])
	assertPONG(t, s.Addrs[0])
	v, err := redisCommand(s.Addrs[0], 2*time.Second, "SENTINEL", "get-master-addr-by-name", s.Master)
	if err != nil {
		t.Fatalf("SENTINEL get-master-addr-by-name: %v", err)
	}
	hp, _ := v.([]any)
	if len(hp) != 2 {
		t.Fatalf("SENTINEL get-master-addr-by-name = %v, want [host port]", v)
	}
	master := net.JoinHostPort(hp[0].(string), hp[1].(string))
	role, err := redisCommand(master, 2*time.Second, "ROLE")
	if err != nil {
		t.Fatalf("ROLE on master %s: %v", master, err)
	}
	parts, _ := role.([]any)
	if len(parts) != 3 || parts[0] != "master" {
		t.Fatalf("ROLE on master %s = %v, want master with replicas", master, role)
	}
	if replicas, _ := parts[2].([]any); len(replicas) != 1 {
		t.Errorf("master %s has replicas %v, want one", master, parts[2])
	}
}

func TestContainers(t *testing.T) {
	clearEnv(t)
	if err := dockerAvailable(); err != nil && !envTrue(EnvRequire) {
		t.Skipf("Docker is unavailable: %v", err)
	}
	t.Run("Redis", func(t *testing.T) {
		addr := RedisContainer(t)
		assertLoopback(t, addr)
		assertPONG(t, addr)
	})
	t.Run("Memcached", func(t *testing.T) {
		addr := MemcachedContainer(t)
		assertLoopback(t, addr)
		assertVersion(t, addr)
	})
}

// TestContainerFallback hides the local binaries, so every convenience
// function must come up through containers alone.
func TestContainerFallback(t *testing.T) {
	clearEnv(t)
	if testing.Short() {
		t.Skip("starts six containers")
	}
	if err := dockerAvailable(); err != nil && !envTrue(EnvRequire) {
		t.Skipf("Docker is unavailable: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Run("Redis", func(t *testing.T) {
		assertPONG(t, Redis(t))
	})
	t.Run("Memcached", func(t *testing.T) {
		assertVersion(t, Memcached(t))
	})
	t.Run("MemcachedPool", func(t *testing.T) {
		addrs := MemcachedPool(t)
		if len(addrs) != 2 || addrs[0] == addrs[1] {
			t.Fatalf("MemcachedPool = %v, want two distinct addresses", addrs)
		}
		for _, addr := range addrs {
			assertVersion(t, addr)
		}
	})
	t.Run("RedisCluster", func(t *testing.T) {
		addrs := RedisCluster(t)
		for _, addr := range addrs {
			info, err := redisCommand(addr, 2*time.Second, "CLUSTER", "INFO")
			if s, _ := info.(string); err != nil || infoField(s, "cluster_state") != "ok" {
				t.Errorf("CLUSTER INFO on %s = %q, %v; want cluster_state:ok", addr, s, err)
			}
		}
	})
	t.Run("RedisSentinel", func(t *testing.T) {
		s := RedisSentinel(t)
		v, err := redisCommand(s.Addrs[0], 2*time.Second, "SENTINEL", "REPLICAS", s.Master)
		if rs, _ := v.([]any); err != nil || len(rs) != 1 {
			t.Errorf("SENTINEL REPLICAS = %v, %v; want one replica", v, err)
		}
	})
}

func TestEnvOverride(t *testing.T) {
	clearEnv(t)
	redis := StartRedis(t).Addr()
	redis2 := StartRedis(t).Addr()
	mc := StartMemcached(t).Addr()
	mc2 := StartMemcached(t).Addr()

	t.Run("Redis", func(t *testing.T) {
		t.Setenv(EnvRedisAddr, redis)
		if got := Redis(t); got != redis {
			t.Errorf("Redis = %q, want %q from %s", got, redis, EnvRedisAddr)
		}
	})
	t.Run("RedisCluster", func(t *testing.T) {
		t.Setenv(EnvRedisClusterAddrs, " "+redis+", "+redis2+",")
		got := RedisCluster(t)
		if len(got) != 2 || got[0] != redis || got[1] != redis2 {
			t.Errorf("RedisCluster = %q, want [%s %s] from %s", got, redis, redis2, EnvRedisClusterAddrs)
		}
	})
	t.Run("RedisSentinel", func(t *testing.T) {
		t.Setenv(EnvRedisSentinelAddrs, redis)
		t.Setenv(EnvRedisSentinelMaster, "m1")
		got := RedisSentinel(t)
		if len(got.Addrs) != 1 || got.Addrs[0] != redis || got.Master != "m1" {
			t.Errorf("RedisSentinel = %+v, want {[%s] m1}", got, redis)
		}
	})
	t.Run("Memcached", func(t *testing.T) {
		t.Setenv(EnvMemcachedAddr, mc)
		if got := Memcached(t); got != mc {
			t.Errorf("Memcached = %q, want %q from %s", got, mc, EnvMemcachedAddr)
		}
	})
	t.Run("MemcachedPool", func(t *testing.T) {
		t.Setenv(EnvMemcachedAddrs, mc+","+mc2)
		got := MemcachedPool(t)
		if len(got) != 2 || got[0] != mc || got[1] != mc2 {
			t.Errorf("MemcachedPool = %q, want [%s %s] from %s", got, mc, mc2, EnvMemcachedAddrs)
		}
	})
}

// fakeTB records how a function under test ends the test: Fatal and Skip
// record the message and end the calling goroutine, like testing.T.
type fakeTB struct {
	testing.TB // the real test: TempDir, Cleanup and logs go there

	mu      sync.Mutex
	fatal   string
	skipped string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }

func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Skip(args ...any) { f.Skipf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) SkipNow()         { f.Skipf("SkipNow") }

// run calls fn with f in a goroutine of its own, as the testing package
// runs a test, and returns how it ended.
func (f *fakeTB) run(fn func(testing.TB)) (fatal, skipped string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fatal, f.skipped
}

// TestMissing hides every source of servers: no address in the
// environment, an empty PATH and Docker ruled out. Each function must skip,
// or fail under LIMITS_REQUIRE_SERVERS=1, and say what is missing.
func TestMissing(t *testing.T) {
	funcs := []struct {
		name string
		call func(testing.TB)
		want string // in the message
	}{
		{"Redis", func(tb testing.TB) { Redis(tb) }, "no Redis: LIMITS_REDIS_ADDR is unset, redis-server is not on PATH"},
		{"RedisCluster", func(tb testing.TB) { RedisCluster(tb) }, "no Redis cluster: LIMITS_REDIS_CLUSTER_ADDRS is unset"},
		{"RedisSentinel", func(tb testing.TB) { RedisSentinel(tb) }, "no Redis sentinel: LIMITS_REDIS_SENTINEL_ADDRS is unset"},
		{"Memcached", func(tb testing.TB) { Memcached(tb) }, "no memcached: LIMITS_MEMCACHED_ADDR is unset, memcached is not on PATH"},
		{"MemcachedPool", func(tb testing.TB) { MemcachedPool(tb) }, "no memcached: LIMITS_MEMCACHED_ADDRS is unset"},
		{"StartRedis", func(tb testing.TB) { StartRedis(tb) }, "redis-server not found on PATH"},
		{"StartMemcached", func(tb testing.TB) { StartMemcached(tb) }, "memcached not found on PATH"},
		{"RedisContainer", func(tb testing.TB) { RedisContainer(tb) }, "Docker is unavailable: LIMITS_NO_DOCKER is set"},
		{"MemcachedContainer", func(tb testing.TB) { MemcachedContainer(tb) }, "Docker is unavailable: LIMITS_NO_DOCKER is set"},
	}
	for _, require := range []string{"", "1"} {
		for _, f := range funcs {
			t.Run(f.name+"/require="+require, func(t *testing.T) {
				clearEnv(t)
				t.Setenv("PATH", t.TempDir())
				t.Setenv(EnvNoDocker, "1")
				t.Setenv(EnvRequire, require)
				fatal, skipped := (&fakeTB{TB: t}).run(f.call)
				got := skipped
				if require == "1" {
					if skipped != "" {
						t.Fatalf("%s skipped (%q) under %s=1, want a failure", f.name, skipped, EnvRequire)
					}
					got = fatal
				} else if fatal != "" {
					t.Fatalf("%s failed (%q), want a skip", f.name, fatal)
				}
				if !strings.Contains(got, f.want) {
					t.Errorf("%s message = %q, want it to contain %q", f.name, got, f.want)
				}
			})
		}
	}
}

// TestMissingImage points the container path at an image that does not
// exist: the skip message must name the script that builds the images.
func TestMissingImage(t *testing.T) {
	clearEnv(t)
	if err := dockerAvailable(); err != nil {
		t.Skipf("Docker is unavailable: %v", err)
	}
	t.Setenv(EnvRedisImage, "limits-go/no-such-image:test")
	t.Setenv(EnvMemcachedImage, "limits-go/no-such-image:test")
	for _, require := range []string{"", "1"} {
		t.Setenv(EnvRequire, require)
		for name, call := range map[string]func(testing.TB){
			"RedisContainer":     func(tb testing.TB) { RedisContainer(tb) },
			"MemcachedContainer": func(tb testing.TB) { MemcachedContainer(tb) },
		} {
			fatal, skipped := (&fakeTB{TB: t}).run(call)
			got, other := skipped, fatal
			if require == "1" {
				got, other = fatal, skipped
			}
			want := "Docker image limits-go/no-such-image:test not found: build it with scripts/build-test-images.sh"
			if !strings.Contains(got, want) || other != "" {
				t.Errorf("%s with %s=%q: fatal %q, skipped %q; want the message %q in the %s",
					name, EnvRequire, require, fatal, skipped, want, map[string]string{"": "skip", "1": "failure"}[require])
			}
		}
	}
}

func TestEnvErrors(t *testing.T) {
	closed := closedAddr(t)
	tests := []struct {
		name string
		env  map[string]string
		call func(testing.TB)
		want string
	}{
		{"RedisUnreachable", map[string]string{EnvRedisAddr: closed},
			func(tb testing.TB) { Redis(tb) }, "LIMITS_REDIS_ADDR=\"" + closed + "\": server " + closed + " does not answer"},
		{"MemcachedUnreachable", map[string]string{EnvMemcachedAddr: closed},
			func(tb testing.TB) { Memcached(tb) }, "LIMITS_MEMCACHED_ADDR=\"" + closed + "\": server " + closed + " does not answer"},
		{"ClusterUnreachable", map[string]string{EnvRedisClusterAddrs: closed},
			func(tb testing.TB) { RedisCluster(tb) }, "LIMITS_REDIS_CLUSTER_ADDRS=\"" + closed + "\""},
		{"PoolOfOne", map[string]string{EnvMemcachedAddrs: closed},
			func(tb testing.TB) { MemcachedPool(tb) }, "want two or more addresses"},
		{"SentinelWithoutMaster", map[string]string{EnvRedisSentinelAddrs: closed},
			func(tb testing.TB) { RedisSentinel(tb) }, "set both LIMITS_REDIS_SENTINEL_ADDRS and LIMITS_REDIS_SENTINEL_MASTER"},
		{"SentinelWithoutAddrs", map[string]string{EnvRedisSentinelMaster: "m"},
			func(tb testing.TB) { RedisSentinel(tb) }, "set both LIMITS_REDIS_SENTINEL_ADDRS and LIMITS_REDIS_SENTINEL_MASTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fatal, skipped := (&fakeTB{TB: t}).run(tt.call)
			if skipped != "" || !strings.Contains(fatal, tt.want) {
				t.Errorf("fatal %q, skipped %q; want a failure containing %q", fatal, skipped, tt.want)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestStartRedisArgs(t *testing.T) {
	p := StartRedis(t, "--maxmemory", "1mb")
	v, err := redisCommand(p.Addr(), 2*time.Second, "CONFIG", "GET", "maxmemory")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.([]any); len(got) != 2 || got[1] != "1048576" {
		t.Errorf("CONFIG GET maxmemory = %v, want [maxmemory 1048576]", v)
	}
}

// TestStartFailure starts servers that cannot come up: the failure must
// carry the server's own complaint.
func TestStartFailure(t *testing.T) {
	tests := []struct {
		name string
		call func(testing.TB)
		want string
	}{
		{"Redis", func(tb testing.TB) { StartRedis(tb, "--no-such-directive", "1") }, "no-such-directive"},
		{"Memcached", func(tb testing.TB) { StartMemcached(tb, "--no-such-flag") }, "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fatal, skipped := (&fakeTB{TB: t}).run(tt.call)
			if skipped != "" || !strings.Contains(fatal, "exited before it was ready") || !strings.Contains(fatal, tt.want) {
				t.Errorf("fatal %q, skipped %q; want a failure quoting %q from the server's output", fatal, skipped, tt.want)
			}
		})
	}
}

// TestAddrInUse starts a second server on a taken port: the start must
// fail as errAddrInUse, which is what makes newProcess retry.
func TestAddrInUse(t *testing.T) {
	for _, k := range []kind{redisKind, memcachedKind} {
		t.Run(k.name, func(t *testing.T) {
			path := binary(k.binary)
			if path == "" {
				t.Skipf("%s not on PATH", k.binary)
			}
			first, err := newProcess(t, k, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			second := &Process{t: t, kind: k, path: path, dir: t.TempDir(), port: first.port}
			t.Cleanup(second.kill)
			if err := second.start(); !errors.Is(err, errAddrInUse) {
				t.Errorf("start on taken port %d = %v, want errAddrInUse", first.port, err)
			}
		})
	}
}

func TestFreePortBus(t *testing.T) {
	port, err := freePort(clusterBusOffset)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{port, port + clusterBusOffset} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("freePort(%d) = %d, but port %d is taken: %v", clusterBusOffset, port, p, err)
			continue
		}
		l.Close()
	}
}

// processes returns one running process of each kind.
func processes(t *testing.T) map[string]struct {
	p    *Process
	ping func(*testing.T, string)
} {
	return map[string]struct {
		p    *Process
		ping func(*testing.T, string)
	}{
		"redis":     {StartRedis(t), assertPONG},
		"memcached": {StartMemcached(t), assertVersion},
	}
}

func TestProcessStopRestart(t *testing.T) {
	for name, s := range processes(t) {
		t.Run(name, func(t *testing.T) {
			addr := s.p.Addr()
			s.p.Stop()
			if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				t.Fatalf("%s still accepts connections after Stop", addr)
			}
			s.p.Stop() // a second Stop does nothing
			s.p.Restart()
			if s.p.Addr() != addr {
				t.Fatalf("Addr after Restart = %s, want %s", s.p.Addr(), addr)
			}
			s.ping(t, addr)
			s.p.Kill()
			if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				t.Fatalf("%s still accepts connections after Kill", addr)
			}
			s.p.Kill()
			s.p.Restart()
			s.ping(t, addr)
			s.p.Restart() // restarting a running server replaces it
			s.ping(t, addr)
		})
	}
}

// TestProcessRestartLosesData shows that a restarted Redis starts empty:
// persistence is off.
func TestProcessRestartLosesData(t *testing.T) {
	p := StartRedis(t)
	if got, err := exchange(p.Addr(), "SET k v\r\n", 2*time.Second); err != nil || got != "+OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	p.Restart()
	if got, err := exchange(p.Addr(), "GET k\r\n", 2*time.Second); err != nil || got != "$-1" {
		t.Errorf("GET after Restart = %q, %v; want $-1 (no persistence)", got, err)
	}
}

func TestProcessPauseResume(t *testing.T) {
	for name, s := range processes(t) {
		t.Run(name, func(t *testing.T) {
			request := map[string]string{"redis": "PING\r\n", "memcached": "version\r\n"}[name]
			s.p.Pause()
			if got, err := exchange(s.p.Addr(), request, 300*time.Millisecond); err == nil {
				t.Fatalf("paused server answered %q", got)
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("request to paused server: %v, want a timeout", err)
			}
			s.p.Resume()
			s.ping(t, s.p.Addr())
			// Stop must end a paused server too.
			s.p.Pause()
			s.p.Stop()
			if _, err := net.DialTimeout("tcp", s.p.Addr(), time.Second); err == nil {
				t.Fatalf("paused server still accepts connections after Stop")
			}
		})
	}
}

func TestProcessSignalNotRunning(t *testing.T) {
	p := StartRedis(t)
	p.Stop()
	for name, call := range map[string]func(){"pause": p.Pause, "resume": p.Resume} {
		ft := &fakeTB{TB: t}
		p.t = ft
		fatal, _ := ft.run(func(testing.TB) { call() })
		if want := name + " redis on " + p.Addr() + ": not running"; !strings.Contains(fatal, want) {
			t.Errorf("%s of a stopped server: fatal %q, want %q", name, fatal, want)
		}
	}
	p.t = t
}

func TestEnvTrue(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true, "TRUE": true, " yes ": true} {
		t.Setenv(EnvRequire, v)
		if got := envTrue(EnvRequire); got != want {
			t.Errorf("envTrue with %s=%q = %v, want %v", EnvRequire, v, got, want)
		}
	}
	os.Unsetenv(EnvRequire)
	if envTrue(EnvRequire) {
		t.Errorf("envTrue with %s unset = true, want false", EnvRequire)
	}
}

// TestContainerAddrInUse starts a host-network container on a taken port:
// the start must fail as errAddrInUse, which makes the launcher retry.
func TestContainerAddrInUse(t *testing.T) {
	if err := dockerAvailable(); err != nil {
		t.Skipf("Docker is unavailable: %v", err)
	}
	image := redisImage(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if _, err := hostContainer(t, image, redisKind, port, nil); !errors.Is(err, errAddrInUse) {
		t.Errorf("container on taken port %d: %v, want errAddrInUse", port, err)
	}
}

// TestProcessConcurrentRestart restarts one server from several goroutines:
// the restarts take turns, and one server answers at the end, as the
// process the Process holds.
func TestProcessConcurrentRestart(t *testing.T) {
	p := StartRedis(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(p.Restart)
	}
	wg.Wait()
	assertPONG(t, p.Addr())
	pid, err := redisPID(p.Addr(), 2*time.Second)
	p.mu.Lock()
	want := p.cmd.Process.Pid
	p.mu.Unlock()
	if err != nil || pid != want {
		t.Errorf("server on %s is pid %d (%v), want the process held, %d", p.Addr(), pid, err, want)
	}
}
