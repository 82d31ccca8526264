package servers

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// joinTimeout bounds the wait for a cluster to reach cluster_state:ok and
// for a sentinel to see its master and replica.
const joinTimeout = 30 * time.Second

// clusterSlots is the number of hash slots of a Redis cluster.
const clusterSlots = 16384

// sentinelMaster is the name the sentinel of [RedisSentinel] monitors.
const sentinelMaster = "limits"

// Sentinel is a Redis sentinel deployment: the sentinels' addresses and the
// name of the master they monitor.
type Sentinel struct {
	// Addrs are the sentinels' host:port addresses, on loopback.
	Addrs []string
	// Master is the name the sentinels monitor the master under, as a
	// redis+sentinel URI's service.
	Master string
}

// A launcher starts one Redis-family server of kind k with args after the
// kind's own, stops it in t.Cleanup, and returns its address once it
// answers.
type launcher func(t testing.TB, k kind, args []string) (string, error)

// localLauncher starts servers from the binary at path.
func localLauncher(path string) launcher {
	return func(t testing.TB, k kind, args []string) (string, error) {
		p, err := newProcess(t, k, path, args)
		if err != nil {
			return "", err
		}
		return p.Addr(), nil
	}
}

// redisLauncher returns how the Redis servers of a test come up: from the
// local redis-server, else in containers; what names the deployment for the
// skip message.
func redisLauncher(t testing.TB, what, env string) launcher {
	t.Helper()
	if path := binary(redisServerBinary); path != "" {
		return localLauncher(path)
	}
	if err := dockerAvailable(); err != nil {
		unavailable(t, "no %s: %s is unset, %s is not on PATH, and Docker is unavailable (%v)",
			what, env, redisServerBinary, err)
	}
	return containerLauncher(redisImage(t))
}

// Redis returns the "host:port" of a standalone Redis with nothing else
// using it: LIMITS_REDIS_ADDR if set (then shared, so use unique keys), else
// a redis-server from PATH, else a container from the local image. The
// server is stopped in t.Cleanup; call Redis once at the top of a test and
// share it between subtests. Without any of the three the test is skipped
// (failed under LIMITS_REQUIRE_SERVERS=1).
func Redis(t testing.TB) string {
	t.Helper()
	if addr := strings.TrimSpace(os.Getenv(EnvRedisAddr)); addr != "" {
		checkEnvAddrs(t, EnvRedisAddr, []string{addr}, pingRedis)
		return addr
	}
	if path := binary(redisServerBinary); path != "" {
		p, err := newProcess(t, redisKind, path, nil)
		if err != nil {
			t.Fatalf("servers: %v", err)
		}
		return p.Addr()
	}
	if err := dockerAvailable(); err != nil {
		unavailable(t, "no Redis: %s is unset, %s is not on PATH, and Docker is unavailable (%v)",
			EnvRedisAddr, redisServerBinary, err)
	}
	return RedisContainer(t)
}

// clusterNodeKind is a redis-server in cluster mode; its bus port, 10000
// above its port, must be free too.
var clusterNodeKind = kind{
	name: "redis cluster node",
	args: func(port int, dir string) []string {
		return append(redisArgs(port, dir),
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000",
		)
	},
	ping:      pingRedis,
	pid:       redisPID,
	readyLog:  redisKind.readyLog,
	busOffset: clusterBusOffset,
}

// RedisCluster returns the seed addresses of a Redis cluster of three
// masters without replicas, every node reporting cluster_state:ok:
// LIMITS_REDIS_CLUSTER_ADDRS (comma-separated) if set, else three
// redis-server processes from PATH, else three containers on the host
// network. The nodes are stopped in t.Cleanup.
func RedisCluster(t testing.TB) []string {
	t.Helper()
	if addrs := envList(EnvRedisClusterAddrs); len(addrs) > 0 {
		checkEnvAddrs(t, EnvRedisClusterAddrs, addrs, pingRedis)
		return addrs
	}
	launch := redisLauncher(t, "Redis cluster", EnvRedisClusterAddrs)
	addrs := make([]string, 3)
	for i := range addrs {
		addr, err := launch(t, clusterNodeKind, nil)
		if err != nil {
			t.Fatalf("servers: cluster node %d: %v", i, err)
		}
		addrs[i] = addr
	}
	if err := joinCluster(addrs); err != nil {
		t.Fatalf("servers: cluster %v: %v", addrs, err)
	}
	return addrs
}

// joinCluster makes fresh cluster nodes one cluster, each master of an
// equal share of the slots, as redis-cli --cluster create does, and waits
// until every node reports cluster_state:ok.
func joinCluster(addrs []string) error {
	for i, addr := range addrs {
		c, err := dialRESP(addr, pingTimeout*4)
		if err != nil {
			return fmt.Errorf("node %s: %w", addr, err)
		}
		lo := i * clusterSlots / len(addrs)
		hi := (i+1)*clusterSlots/len(addrs) - 1
		// Distinct epochs up front, so the nodes need not resolve a
		// collision before the cluster settles.
		cmds := [][]string{
			{"CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i + 1)},
			{"CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)},
		}
		if i > 0 {
			// Each later node meets the first; gossip does the rest.
			host, port, _ := net.SplitHostPort(addrs[0])
			cmds = append(cmds, []string{"CLUSTER", "MEET", host, port})
		}
		for _, cmd := range cmds {
			if _, err := c.do(cmd...); err != nil {
				c.Close()
				return fmt.Errorf("node %s: %s: %w", addr, strings.Join(cmd, " "), err)
			}
		}
		c.Close()
	}
	return waitFor(joinTimeout, func() error {
		for _, addr := range addrs {
			info, err := redisCommand(addr, pingTimeout, "CLUSTER", "INFO")
			if err != nil {
				return fmt.Errorf("node %s: CLUSTER INFO: %w", addr, err)
			}
			s, _ := info.(string)
			state := infoField(s, "cluster_state")
			known := infoField(s, "cluster_known_nodes")
			slots := infoField(s, "cluster_slots_ok")
			if state != "ok" || known != strconv.Itoa(len(addrs)) || slots != strconv.Itoa(clusterSlots) {
				return fmt.Errorf("node %s: cluster_state:%s cluster_known_nodes:%s cluster_slots_ok:%s",
					addr, state, known, slots)
			}
		}
		return nil
	})
}

// sentinelKind is a redis-server in sentinel mode monitoring the master on
// 127.0.0.1:masterPort under the name master, with a quorum of one and short
// timeouts so that failover tests are quick.
func sentinelKind(master string, masterPort int) kind {
	return kind{
		name: "redis sentinel",
		args: func(_ int, dir string) []string {
			return []string{filepath.Join(dir, "sentinel.conf"), "--sentinel"}
		},
		files: func(port int) map[string]string {
			conf := fmt.Sprintf(`port %d
bind 127.0.0.1
sentinel monitor %s 127.0.0.1 %d 1
sentinel down-after-milliseconds %[2]s 1000
sentinel failover-timeout %[2]s 3000
`, port, master, masterPort)
			return map[string]string{"sentinel.conf": conf}
		},
		ping:     pingRedis,
		pid:      redisPID,
		readyLog: "+monitor master",
	}
}

// RedisSentinel returns a sentinel deployment: LIMITS_REDIS_SENTINEL_ADDRS
// (comma-separated) with LIMITS_REDIS_SENTINEL_MASTER if set, else one
// master, one replica and one sentinel started from redis-server on PATH
// (else in containers on the host network). It returns once the sentinel
// reports the master's address and knows the replica, and the replica's
// link to the master is up. The servers are stopped in t.Cleanup.
func RedisSentinel(t testing.TB) Sentinel {
	t.Helper()
	addrs := envList(EnvRedisSentinelAddrs)
	master := strings.TrimSpace(os.Getenv(EnvRedisSentinelMaster))
	if len(addrs) > 0 || master != "" {
		if len(addrs) == 0 || master == "" {
			t.Fatalf("servers: set both %s and %s, or neither (got %q and %q)",
				EnvRedisSentinelAddrs, EnvRedisSentinelMaster, os.Getenv(EnvRedisSentinelAddrs), master)
		}
		checkEnvAddrs(t, EnvRedisSentinelAddrs, addrs, pingRedis)
		return Sentinel{Addrs: addrs, Master: master}
	}
	launch := redisLauncher(t, "Redis sentinel", EnvRedisSentinelAddrs)
	masterAddr, err := launch(t, redisKind, nil)
	if err != nil {
		t.Fatalf("servers: sentinel's master: %v", err)
	}
	_, masterPort, _ := net.SplitHostPort(masterAddr)
	replicaAddr, err := launch(t, redisKind, []string{"--replicaof", "127.0.0.1", masterPort})
	if err != nil {
		t.Fatalf("servers: sentinel's replica: %v", err)
	}
	if err := waitReplicaLinked(masterAddr, replicaAddr); err != nil {
		t.Fatalf("servers: replica %s of %s: %v", replicaAddr, masterAddr, err)
	}
	// The sentinel starts last: its first INFO to the master then lists
	// the replica, instead of the sentinel learning of it ten seconds on.
	port, _ := strconv.Atoi(masterPort)
	sentinelAddr, err := launch(t, sentinelKind(sentinelMaster, port), nil)
	if err != nil {
		t.Fatalf("servers: sentinel: %v", err)
	}
	if err := waitSentinel(sentinelAddr, sentinelMaster, masterAddr); err != nil {
		t.Fatalf("servers: sentinel %s: %v", sentinelAddr, err)
	}
	return Sentinel{Addrs: []string{sentinelAddr}, Master: sentinelMaster}
}

// waitReplicaLinked waits until the replica's link to the master is up and
// the master counts it online.
func waitReplicaLinked(masterAddr, replicaAddr string) error {
	return waitFor(joinTimeout, func() error {
		info, err := redisCommand(replicaAddr, pingTimeout, "INFO", "replication")
		if err != nil {
			return fmt.Errorf("replica INFO: %w", err)
		}
		s, _ := info.(string)
		if link := infoField(s, "master_link_status"); link != "up" {
			return fmt.Errorf("replica master_link_status:%s", link)
		}
		info, err = redisCommand(masterAddr, pingTimeout, "INFO", "replication")
		if err != nil {
			return fmt.Errorf("master INFO: %w", err)
		}
		s, _ = info.(string)
		if n := infoField(s, "connected_slaves"); n != "1" {
			return fmt.Errorf("master connected_slaves:%s", n)
		}
		// connected_slaves counts a replica from its first sync, but the
		// master lists it in ROLE (and tells sentinels of it) only once it
		// is online, after the replica's first REPLCONF ACK: up to a
		// second after the replica's own link reports up.
		if r := infoField(s, "slave0"); !strings.Contains(r, "state=online") {
			return fmt.Errorf("master slave0:%s, want state=online", r)
		}
		return nil
	})
}

// waitSentinel waits until the sentinel names masterAddr as the master and
// lists one replica.
func waitSentinel(sentinelAddr, master, masterAddr string) error {
	return waitFor(joinTimeout, func() error {
		v, err := redisCommand(sentinelAddr, pingTimeout, "SENTINEL", "get-master-addr-by-name", master)
		if err != nil {
			return fmt.Errorf("SENTINEL get-master-addr-by-name: %w", err)
		}
		hp, ok := v.([]any)
		if !ok || len(hp) != 2 {
			return fmt.Errorf("SENTINEL get-master-addr-by-name replied %v", v)
		}
		if got := net.JoinHostPort(fmt.Sprint(hp[0]), fmt.Sprint(hp[1])); got != masterAddr {
			return fmt.Errorf("sentinel reports master %s, want %s", got, masterAddr)
		}
		v, err = redisCommand(sentinelAddr, pingTimeout, "SENTINEL", "REPLICAS", master)
		if err != nil {
			return fmt.Errorf("SENTINEL REPLICAS: %w", err)
		}
		if rs, _ := v.([]any); len(rs) != 1 {
			return fmt.Errorf("sentinel lists %d replicas, want 1", len(rs))
		}
		return nil
	})
}

// waitFor calls check every 50ms until it returns nil, or returns its last
// error once timeout has passed.
func waitFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
