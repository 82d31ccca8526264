package redis_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// hitAndCheck opens uri, checks the storage is healthy, takes one hit and
// closes it.
func hitAndCheck(t *testing.T, uri string) {
	t.Helper()
	ctx := context.Background()
	s, err := limiter.Open(ctx, uri)
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	if _, ok := s.(*redisstore.Storage); !ok {
		t.Fatalf("Open(%q) = %T, want *redis.Storage", uri, s)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Open(%q): Check: %v", uri, err)
	}
	l := limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Minute}
	st, err := s.AcquireFixedWindow(ctx, limiter.Request{Key: "open-test", Limit: l, Cost: 1, Now: t0}, false)
	if err != nil || !st.Allowed {
		t.Errorf("Open(%q): first hit = %+v, %v; want allowed", uri, st, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Open(%q): Close: %v", uri, err)
	}
	// The storage owned its client: it is closed now.
	if err := s.(*redisstore.Storage).Client().Ping(ctx).Err(); err == nil {
		t.Errorf("Open(%q): client still open after Close", uri)
	}
}

func TestOpenParameters(t *testing.T) {
	m := miniredis.RunT(t)
	uri := "redis://" + m.Addr() + "/2?prefix=app%3A&timeout=500ms&clock=client&expiry_grace=2s&max_retries=1"
	hitAndCheck(t, uri)
	m.Select(2)
	if keys := m.Keys(); len(keys) != 1 || keys[0] != "app:{open-test}:fw" {
		t.Errorf("after a hit through %q, database 2 holds %q, want [app:{open-test}:fw]", uri, keys)
	}
	// The client clock: the counter expires at t0 + 1 minute, in Unix
	// microseconds.
	n, e := m.HGet("app:{open-test}:fw", "n"), m.HGet("app:{open-test}:fw", "e")
	if want := strconv.FormatInt(t0.Add(time.Minute).UnixMicro(), 10); n != "1" || e != want {
		t.Errorf("stored count %q expiring at %q, want 1 at %s", n, e, want)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ uri, mention string }{
		{"redis://127.0.0.1:6379?bogus=1", "bogus"},
		{"redis://127.0.0.1:6379?clock=sundial", "clock"},
		{"redis://127.0.0.1:6379?timeout=soon", "timeout"},
		{"redis://127.0.0.1:6379?timeout=-1s", "timeout"},
		{"redis://127.0.0.1:6379?prefix=a{b", "prefix"},
		{"redis://127.0.0.1:6379?prefix=a&prefix=b", "prefix"},
		{"redis://127.0.0.1:6379/notanumber", "database"},
		{"redis+cluster://127.0.0.1:7000,127.0.0.1:7001/3", "path"},
		{"redis+cluster://127.0.0.1:7000?db=1", "db"},
		{"redis+sentinel://127.0.0.1:26379", "service"},
		{"redis+sentinel://127.0.0.1:26379/a/b/c", "service"},
		{"redis+sentinel://127.0.0.1:26379/svc?bogus=2", "bogus"},
		{"redis+unix://", "socket"},
		{"redis+unix://somehost/tmp/x.sock", `host "somehost"`},
		// Without "//" url.Parse finds no host, and go-redis would connect
		// to localhost:6379.
		{"redis:cache.internal:6380", `no "//" after "redis:"`},
		{"rediss:cache.internal:6380/2", `no "//" after "rediss:"`},
		{"REDIS:cache.internal:6380", `no "//" after "redis:"`},
		{"redis:/cache.internal:6380/0", `no "//" after "redis:"`},
		{"redis+cluster:h1:7000,h2:7001", `no "//" after "redis+cluster:"`},
		{"redis+sentinel:h:26379/svc", `no "//" after "redis+sentinel:"`},
		{"redis://127.0.0.1:6379/0#frag", `unexpected fragment "frag"`},
		// url.Parse takes any digits for a port, and a host list.
		{"redis://127.0.0.1:99999/0", `port "99999"`},
		{"rediss://127.0.0.1:0", `port "0"`},
		{"redis://h1:6379,h2:6379/0", "several hosts"},
		// Queries url.URL.Query would read leniently, dropping the pair.
		{"redis://127.0.0.1:6379/0?prefix=app;tenant=1", `query parameter "prefix"`},
		{"redis://127.0.0.1:6379/0?client_name=a%zz", `query parameter "client_name"`},
		// go-redis keeps the last of a repeated parameter; it is an error
		// here, as it is for the storage's own.
		{"redis://127.0.0.1:6379?read_timeout=1s&read_timeout=2s", `parameter "read_timeout" given 2 times`},
		{"redis+cluster://127.0.0.1:7000?pool_size=1&pool_size=2", `parameter "pool_size" given 2 times`},
		{"redis+sentinel://127.0.0.1:26379/svc?dial_timeout=1s&dial_timeout=1s", `parameter "dial_timeout" given 2 times`},
		// The path names the service; a master_name naming another is a
		// conflict, not an override.
		{"redis+sentinel://127.0.0.1:26379/svc?master_name=other", `parameter master_name="other" conflicts with the service "svc" in the path`},
		{"redis+sentinel://127.0.0.1:26379/svc?master_name=svc&master_name=other", `parameter "master_name" given 2 times`},
		// go-redis lets a db parameter override the database in the path,
		// silently.
		{"redis://127.0.0.1:6379/1?db=2", `parameter db=2 conflicts with the database 1 in the path`},
		{"rediss://127.0.0.1:6379/1?db=2", `parameter db=2 conflicts with the database 1 in the path`},
		{"redis+sentinel://127.0.0.1:26379/svc/1?db=2", `parameter db=2 conflicts with the database 1 in the path`},
		// go-redis selects no database for a negative one: database 0.
		{"redis://127.0.0.1:6379/-1", "database -1"},
		{"redis+unix:///tmp/x.sock?db=-2", "database -2"},
		{"redis+sentinel://127.0.0.1:26379/svc/-1", "database -1"},
		// url.Parse checks the last port of a node list only.
		{"redis+cluster://h1:x,h2:2", `node "h1:x"`},
		{"redis+cluster://h1:70000,h2:2", `node "h1:70000"`},
		{"redis+sentinel://h1:0,h2:2/svc", `node "h1:0"`},
		{"redis+cluster://h1:1,:2", `node ":2"`},
		// go-redis makes its pool from these and panics on a negative one.
		{"redis://127.0.0.1:1/0?pool_size=-5", "pool_size=-5"},
		{"redis+unix:///tmp/x.sock?max_idle_conns=-1", "max_idle_conns=-1"},
		{"redis+cluster://127.0.0.1:1?pool_size=-5", "pool_size=-5"},
		{"redis+sentinel://127.0.0.1:1/svc?min_idle_conns=-2", "min_idle_conns=-2"},
		// ... and on one above 2^31-1 (a cluster client on its first
		// command, when it makes a node's pool).
		{"redis://127.0.0.1:1/0?pool_size=3000000000", "pool_size=3000000000"},
		{"redis://127.0.0.1:1/0?max_active_conns=2147483648", "max_active_conns=2147483648"},
		{"redis+cluster://127.0.0.1:1?pool_size=3000000000", "pool_size=3000000000"},
		{"redis+sentinel://127.0.0.1:1/svc?max_idle_conns=3000000000", "max_idle_conns=3000000000"},
		{"redis://127.0.0.1:1/0?pipeline_pool_size=3000000000", "pipeline_pool_size=3000000000"},
		// go-redis's failover client panics on these: they route reads
		// over replicas, which only its failover cluster client does.
		{"redis+sentinel://127.0.0.1:1/svc?route_by_latency=true", "route_by_latency"},
		{"redis+sentinel://127.0.0.1:1/svc?route_randomly=true", "route_randomly"},
	} {
		_, err := limiter.Open(context.Background(), tc.uri)
		if !errors.Is(err, limiter.ErrInvalidURI) {
			t.Errorf("Open(%q) = %v, want an error wrapping ErrInvalidURI", tc.uri, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("Open(%q) = %q, want it to mention %q", tc.uri, err, tc.mention)
		}
	}
}

// TestOpenAcceptsWithoutServer opens URIs that need no server to open:
// clients connect on their first command.
func TestOpenAcceptsWithoutServer(t *testing.T) {
	for _, uri := range []string{
		"redis+sentinel://127.0.0.1:1/svc?master_name=svc",
		"redis+sentinel://127.0.0.1:1,127.0.0.1:2/svc/3?addr=127.0.0.1:3&addr=127.0.0.1:4",
		"redis+cluster://127.0.0.1:1?addr=127.0.0.1:2&addr=127.0.0.1:3",
		"redis+cluster://localhost,127.0.0.1:2", // 6379 for a node without a port
		"redis+cluster://[::1]",
		"redis+sentinel://[::1]/mymaster",
		"redis+unix:/tmp/no-such.sock",
	} {
		s, err := limiter.Open(context.Background(), uri)
		if err != nil {
			t.Errorf("Open(%q) = %v", uri, err)
			continue
		}
		if err := s.Close(); err != nil {
			t.Errorf("Open(%q): Close: %v", uri, err)
		}
	}
}

func TestOpenLazyTLS(t *testing.T) {
	// rediss:// parses and opens without connecting.
	s, err := limiter.Open(context.Background(), "rediss://user:secret@127.0.0.1:1/0?prefix=x:")
	if err != nil {
		t.Fatalf("Open(rediss://...) = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSchemesRegistered(t *testing.T) {
	got := strings.Join(limiter.Schemes(), " ")
	for _, scheme := range []string{"redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel"} {
		if !strings.Contains(" "+got+" ", " "+scheme+" ") {
			t.Errorf("limiter.Schemes() = %q, missing %q", got, scheme)
		}
	}
}

func TestOpenServers(t *testing.T) {
	t.Run("standalone", func(t *testing.T) {
		hitAndCheck(t, "redis://"+servers.Redis(t)+"/1")
	})
	t.Run("unix", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "redis.sock")
		servers.StartRedis(t, "--unixsocket", sock, "--unixsocketperm", "700")
		hitAndCheck(t, "redis+unix://"+sock+"?db=3")
	})
	t.Run("cluster", func(t *testing.T) {
		hitAndCheck(t, "redis+cluster://"+strings.Join(servers.RedisCluster(t), ","))
	})
	t.Run("sentinel", func(t *testing.T) {
		s := servers.RedisSentinel(t)
		hitAndCheck(t, "redis+sentinel://"+strings.Join(s.Addrs, ",")+"/"+s.Master)
	})
}

// TestOpenDisablesRetries checks that a client opened from a URI does not
// retry commands, so a script whose reply is lost is never run twice,
// unless the URI asks for retries.
func TestOpenDisablesRetries(t *testing.T) {
	m := miniredis.RunT(t)
	for _, tc := range []struct {
		uri  string
		want int
	}{
		{"redis://" + m.Addr(), 0}, // go-redis keeps "none" (-1) as 0; its default is 3
		{"redis://" + m.Addr() + "?max_retries=2", 2},
	} {
		s, err := limiter.Open(context.Background(), tc.uri)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.uri, err)
		}
		c, ok := s.(*redisstore.Storage).Client().(*redis.Client)
		if !ok {
			t.Fatalf("Open(%q) client is %T, want *redis.Client", tc.uri, s.(*redisstore.Storage).Client())
		}
		if got := c.Options().MaxRetries; got != tc.want {
			t.Errorf("Open(%q): MaxRetries = %d, want %d", tc.uri, got, tc.want)
		}
		_ = s.Close()
	}
}

// TestOpenDialsOnce checks that a client opened from a URI dials once per
// connection, so a request fails at once while the server refuses
// connections, unless the URI asks for more attempts; and that the dial
// parameters are checked like the others.
func TestOpenDialsOnce(t *testing.T) {
	m := miniredis.RunT(t)
	type dialing struct {
		retries int
		backoff time.Duration
	}
	for _, tc := range []struct {
		uri  string
		want dialing
	}{
		{"redis://" + m.Addr(), dialing{1, 100 * time.Millisecond}}, // go-redis's pause, unused with one attempt
		{"redis://" + m.Addr() + "?dialer_retries=3&dialer_retry_timeout=20ms", dialing{3, 20 * time.Millisecond}},
		{"redis+cluster://127.0.0.1:1", dialing{1, 100 * time.Millisecond}},
		{"redis+cluster://127.0.0.1:1?dialer_retries=2", dialing{2, 100 * time.Millisecond}},
		{"redis+sentinel://127.0.0.1:1/svc?dialer_retries=4&dialer_retry_timeout=1s", dialing{4, time.Second}},
	} {
		s, err := limiter.Open(context.Background(), tc.uri)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.uri, err)
		}
		var got dialing
		switch c := s.(*redisstore.Storage).Client().(type) {
		case *redis.Client:
			got = dialing{c.Options().DialerRetries, c.Options().DialerRetryTimeout}
		case *redis.ClusterClient:
			got = dialing{c.Options().DialerRetries, c.Options().DialerRetryTimeout}
		default:
			t.Fatalf("Open(%q) client is %T", tc.uri, c)
		}
		if got != tc.want {
			t.Errorf("Open(%q): dialer retries, pause = %v, want %v", tc.uri, got, tc.want)
		}
		_ = s.Close()
	}
	for _, q := range []string{"dialer_retries=0", "dialer_retries=x", "dialer_retries=101", "dialer_retries=1&dialer_retries=2",
		"dialer_retry_timeout=0s", "dialer_retry_timeout=-1s", "dialer_retry_timeout=soon", "dialer_retry_timeout=1h"} {
		uri := "redis://" + m.Addr() + "?" + q
		_, err := limiter.Open(context.Background(), uri)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("Open(%q) = %v, want an error wrapping ErrInvalidURI naming the parameter", uri, err)
		}
	}
}

// A cluster or sentinel URI whose password is set and whose node list is
// malformed is refused without showing the password (go-redis's parser
// would have quoted the whole URI in its error).
func TestOpenNodeErrorsHidePassword(t *testing.T) {
	for _, uri := range []string{
		"redis+cluster://user:s3cr3t@h1:x,h2:2",
		"redis+sentinel://user:s3cr3t@h1:x,h2:2/svc",
		"redis+cluster://user:s3cr3t@h1:70000x,h2:2",
		"redis+sentinel://h1:1/svc?pass%77ord=s3cr3t&bogus=1",
	} {
		_, err := limiter.Open(context.Background(), uri)
		if !errors.Is(err, limiter.ErrInvalidURI) {
			t.Errorf("Open(%q) = %v, want an error wrapping ErrInvalidURI", uri, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open(%q) error shows the password: %v", uri, err)
		}
	}
}

// A nil option is an error, as in the other storages, not a panic.
func TestNewNilOption(t *testing.T) {
	_, err := limiter.Open(context.Background(), "redis://127.0.0.1:1/0", nil)
	if !errors.Is(err, limiter.ErrInvalidOption) {
		t.Fatalf("Open with a nil option = %v, want an error wrapping ErrInvalidOption", err)
	}
}
