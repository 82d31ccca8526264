package reliability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
)

// startCluster starts three Redis cluster masters as Processes (so a test
// can kill and restart one on its port, with its node configuration kept)
// and waits until every node reports cluster_state:ok.
func startCluster(t *testing.T) []*servers.Process {
	t.Helper()
	nodes := make([]*servers.Process, 3)
	for i := range nodes {
		nodes[i] = servers.StartRedis(t,
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000",
		)
	}
	ctx := context.Background()
	const slots = 16384
	for i, n := range nodes {
		c := goredis.NewClient(&goredis.Options{Addr: n.Addr()})
		lo, hi := i*slots/len(nodes), (i+1)*slots/len(nodes)-1
		err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		if err == nil {
			err = c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err()
		}
		if err == nil && i > 0 {
			err = c.ClusterMeet(ctx, "127.0.0.1", nodes[0].Addr()[strings.LastIndexByte(nodes[0].Addr(), ':')+1:]).Err()
		}
		_ = c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", n.Addr(), err)
		}
	}
	waitClusterOK(t, nodes)
	return nodes
}

// waitClusterOK waits until every node reports cluster_state:ok with all
// slots served.
func waitClusterOK(t *testing.T, nodes []*servers.Process) {
	t.Helper()
	eventually(t, 20*time.Second, "cluster_state:ok on every node", func() bool {
		for _, n := range nodes {
			c := goredis.NewClient(&goredis.Options{Addr: n.Addr(), MaxRetries: -1})
			info, err := c.ClusterInfo(context.Background()).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				return false
			}
		}
		return true
	})
}

// TestRedisClusterMasterKilled kills one of three cluster masters: without
// a fallback, requests whose keys live on it get 500 with an error wrapping
// chilimit.ErrStorage; with the in-memory fallback every request is served;
// once the node is restarted on its port and the cluster heals, both
// limiters count in the cluster again and limits hold exactly.
func TestRedisClusterMasterKilled(t *testing.T) {
	nodes := startCluster(t)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	uri := "redis+cluster://" + strings.Join(seeds, ",")
	var mu sync.Mutex
	var handlerErrs []error
	plain, _ := newLimiter(t,
		chilimit.WithStorageURI(uri),
		chilimit.WithKeyPrefix("plain"),
		chilimit.WithDefaultLimits("3 per minute"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, chilimit.ErrRateLimited) {
				mu.Lock()
				handlerErrs = append(handlerErrs, err)
				mu.Unlock()
			}
			chilimit.DefaultErrorHandler(w, r, err)
		}),
	)
	fb, fbLog := newLimiter(t,
		chilimit.WithStorageURI(uri),
		chilimit.WithKeyPrefix("fallback"),
		chilimit.WithDefaultLimits("3 per minute"),
		chilimit.WithInMemoryFallbackEnabled(true),
		chilimit.WithHealthCheckBackoff(50*time.Millisecond, 200*time.Millisecond),
	)
	hPlain, hFB := router(plain), router(fb)
	const clients = 30
	client := func(phase, i int) string { return fmt.Sprintf("10.3.%d.%d:1", phase, i) }
	for i := range clients {
		for _, h := range []http.Handler{hPlain, hFB} {
			if code := get(h, client(0, i), "/r").Code; code != http.StatusOK {
				t.Fatalf("healthy cluster, client %d: %d, want 200", i, code)
			}
		}
	}

	nodes[0].Kill()
	plainCodes := map[int]int{}
	for i := range clients {
		plainCodes[get(hPlain, client(1, i), "/r").Code]++
	}
	if plainCodes[500] == 0 || plainCodes[200]+plainCodes[500] != clients {
		t.Errorf("one master dead, no fallback: %v, want 500 for the clients whose keys it held, 200 for the rest", plainCodes)
	}
	mu.Lock()
	for _, err := range handlerErrs {
		if !errors.Is(err, chilimit.ErrStorage) {
			t.Errorf("error handler got %v, want an error wrapping ErrStorage", err)
		}
	}
	mu.Unlock()
	// The fallback serves every client, and its limits hold.
	for i := range clients {
		if got, want := statuses(hFB, client(1, i), "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
			t.Errorf("one master dead, fallback, client %d: %v, want %v", i, got, want)
		}
	}
	if n := fbLog.count(slog.LevelWarn, msgFallbackOn); n == 0 {
		t.Errorf("the fallback switch was not logged")
	}

	nodes[0].Restart()
	waitClusterOK(t, nodes)
	eventually(t, 20*time.Second, "every client of the plain limiter served by the healed cluster", func() bool {
		for i := range clients {
			if get(hPlain, client(2, i), "/r").Code != http.StatusOK {
				return false
			}
		}
		return true
	})
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: seeds})
	defer cc.Close()
	direct := mustRedisStorage(t, cc)
	eventually(t, 20*time.Second, "the fallback limiter counting in the healed cluster", func() bool {
		c := client(3, 0)
		if get(hFB, c, "/r").Code != http.StatusOK {
			return false
		}
		return remainingPrefixed(t, direct, "fallback", "3 per minute", strings.TrimSuffix(c, ":1")) == 2
	})
	for i := range clients {
		c := client(4, i)
		if got, want := statuses(hPlain, c, "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
			t.Errorf("healed cluster, client %d: %v, want %v", i, got, want)
		}
		if got := remainingPrefixed(t, direct, "plain", "3 per minute", strings.TrimSuffix(c, ":1")); got != 0 {
			t.Errorf("healed cluster, client %d: remaining in the cluster %d, want 0", i, got)
		}
	}
	t.Logf("plain limiter with one master dead: %v; fallback switches logged: %d, recoveries: %d",
		plainCodes, fbLog.count(slog.LevelWarn, msgFallbackOn), fbLog.count(slog.LevelInfo, msgRecovered))
}

// TestRedisClusterReplyDropped cuts connections after a cluster node ran a
// hit's script but before its reply arrives, with the client configured as
// limiter.Open configures one from a redis+cluster:// URI (no retries): the
// request fails, and the hit is counted once, never twice.
func TestRedisClusterReplyDropped(t *testing.T) {
	nodes := startCluster(t)
	proxies := map[string]*proxy{}
	var seeds []string
	for _, n := range nodes {
		proxies[n.Addr()] = startProxy(t, n.Addr())
		seeds = append(seeds, n.Addr())
	}
	// Every connection to a node goes through that node's proxy.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if px, ok := proxies[addr]; ok {
			addr = px.addr()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: seeds, Dialer: dial, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer cc.Close()
	lim, _ := newLimiter(t, chilimit.WithStorage(mustRedisStorage(t, cc)), chilimit.WithDefaultLimits("10 per minute"))
	h := router(lim)
	direct := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: seeds})
	defer direct.Close()
	peek := mustRedisStorage(t, direct)
	const client = "10.3.9.1"
	// The first hit loads the script on the client's node and creates its
	// state.
	if code := get(h, client+":1", "/r").Code; code != http.StatusOK {
		t.Fatalf("first hit: %d, want 200", code)
	}
	for _, px := range proxies {
		px.dropNext.Store(1)
	}
	code := get(h, client+":1", "/r").Code
	dropped := int64(0)
	for _, px := range proxies {
		dropped += px.dropped.Load()
		px.dropNext.Store(0)
	}
	got := remainingPrefixed(t, peek, "", "10 per minute", client)
	t.Logf("lost reply: status %d, replies dropped %d, remaining %d", code, dropped, got)
	if dropped == 0 {
		t.Fatalf("no reply dropped")
	}
	if got != 10-2 {
		t.Errorf("after one hit and one whose reply was lost (status %d, %d replies dropped): remaining %d, want 8 (each counted once)",
			code, dropped, got)
	}
}
