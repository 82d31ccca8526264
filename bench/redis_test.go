package bench_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-redis/redis_rate/v10"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstorage "github.com/limits-go/limits/storage/redis"
	"github.com/redis/go-redis/v9"
	goredisstore "github.com/throttled/throttled/v2/store/goredisstore.v9"
	ulule "github.com/ulule/limiter/v3"
	ululeredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// redisQuota is the limit of the Redis scenarios: never reached.
var redisQuota = quota{amount: 1_000_000_000, window: time.Hour}

// twoLimits is the route limit of the two-limit scenario, as issue 8 words
// it; the benchmark scales it up so that no request is rejected.
const (
	twoLimits      = "10/second;1000/hour"
	twoLimitsBench = "1000000000/second;1000000000/hour"
)

// roundTrips counts the commands and pipelines a go-redis client sends:
// each is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (rt *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (rt *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		rt.n.Add(1)
		return next(ctx, cmd)
	}
}

func (rt *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		rt.n.Add(1)
		return next(ctx, cmds)
	}
}

// redisClient returns a client of addr whose round trips rt counts.
func redisClient(tb testing.TB, addr string, rt *roundTrips) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	c.AddHook(rt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// commandCalls returns how many commands the server at addr has run, from
// INFO commandstats, leaving out the INFO commands that read it.
func commandCalls(tb testing.TB, c *redis.Client) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatalf("INFO commandstats: %v", err)
	}
	var total int64
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		// cmdstat_get:calls=2,usec=3,...
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || name == "cmdstat_info" {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			tb.Fatalf("INFO commandstats: %q: %v", sc.Text(), err)
		}
		total += n
	}
	return total
}

// A redisLibrary is one Redis-backed limiter under test; make returns its
// decision on a client.
type redisLibrary struct {
	name string
	// http is set for a whole request through a chi router: its key is the
	// client address.
	http bool
	make func(tb testing.TB, c *redis.Client) decide
}

func ourRedisLibraries() []redisLibrary {
	var libs []redisLibrary
	for _, strategy := range limiter.Strategies() {
		libs = append(libs, redisLibrary{name: "limits-go:" + strategy, make: func(tb testing.TB, c *redis.Client) decide {
			s, err := redisstorage.New(c)
			if err != nil {
				tb.Fatal(err)
			}
			st := limiter.MustNewStrategy(strategy, s)
			l := redisQuota.limit()
			if strategy == limiter.StrategyMovingWindow {
				l.Amount = min(l.Amount, redisstorage.MaxMovingWindowAmount) // the largest log the storage holds
			}
			return func(ctx context.Context, key string) (bool, error) {
				res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now()})
				return res.Allowed, err
			}
		}})
	}
	return libs
}

// ourRedisRouter is chilimit on Redis with one route carrying spec.
func ourRedisRouter(tb testing.TB, c *redis.Client, spec string) http.Handler {
	s, err := redisstorage.New(c)
	if err != nil {
		tb.Fatal(err)
	}
	lim, err := chilimit.New(chilimit.WithStorage(s), chilimit.WithHeaders(true))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = lim.Close() })
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.Limit(spec)).Get(httpRoute, ok)
	return r
}

var redisLibraries = append([]redisLibrary{
	// The floor: one GET, one round trip.
	{name: "get-floor", make: func(tb testing.TB, c *redis.Client) decide {
		return func(ctx context.Context, key string) (bool, error) {
			if err := c.Get(ctx, key).Err(); err != nil && err != redis.Nil {
				return false, err
			}
			return true, nil
		}
	}},
}, append(ourRedisLibraries(),
	// A whole request through chilimit with two limits on the route, and
	// the same request through a chi router without limits: what the
	// request costs beside the limits.
	redisLibrary{name: "limits-go:http-two-limits", http: true, make: func(tb testing.TB, c *redis.Client) decide {
		return httpDecide(ourRedisRouter(tb, c, twoLimitsBench))
	}},
	redisLibrary{name: "bare-chi", http: true, make: func(testing.TB, *redis.Client) decide {
		r := chi.NewRouter()
		r.Get(httpRoute, ok)
		return httpDecide(r)
	}},
	redisLibrary{name: "ulule", make: func(tb testing.TB, c *redis.Client) decide {
		st, err := ululeredis.NewStore(c)
		if err != nil {
			tb.Fatal(err)
		}
		l := ulule.New(st, ulule.Rate{Period: redisQuota.window, Limit: redisQuota.amount})
		return func(ctx context.Context, key string) (bool, error) {
			res, err := l.Get(ctx, key)
			return !res.Reached, err
		}
	}},
	redisLibrary{name: "throttled", make: func(tb testing.TB, c *redis.Client) decide {
		st, err := goredisstore.NewCtx(c, "throttled:")
		if err != nil {
			tb.Fatal(err)
		}
		gcra := newGCRA(tb, st, redisQuota)
		return func(ctx context.Context, key string) (bool, error) {
			limited, _, err := gcra.RateLimitCtx(ctx, key, 1)
			return !limited, err
		}
	}},
	redisLibrary{name: "redis_rate", make: func(tb testing.TB, c *redis.Client) decide {
		l := redis_rate.NewLimiter(c)
		lim := redis_rate.Limit{Rate: int(redisQuota.amount), Burst: int(redisQuota.amount), Period: redisQuota.window}
		return func(ctx context.Context, key string) (bool, error) {
			res, err := l.Allow(ctx, key, lim)
			if err != nil {
				return false, err
			}
			return res.Allowed > 0, nil
		}
	}},
)...)

// httpDecide answers a hit on key with GET /users/42 through h from the
// client address key: allowed on 200, rejected on 429, an error on any other
// status. The request is built once per key and the writers come from a
// pool, so the harness allocates nothing of its own per request (after a
// collection, the pool allocates its writers again).
func httpDecide(h http.Handler) decide {
	var last atomic.Pointer[http.Request]
	writers := sync.Pool{New: func() any { return &discardWriter{h: make(http.Header)} }}
	return func(_ context.Context, key string) (bool, error) {
		req := last.Load()
		if req == nil || remoteHost(req) != key {
			req = newRequest()
			req.RemoteAddr = net.JoinHostPort(key, "1234")
			last.Store(req)
		}
		w := writers.Get().(*discardWriter)
		code := serve(h, w, req)
		writers.Put(w)
		switch code {
		case http.StatusOK:
			return true, nil
		case http.StatusTooManyRequests:
			return false, nil
		}
		return false, fmt.Errorf("GET %s from %s = %d, want 200 or 429", httpPath, req.RemoteAddr, code)
	}
}

// BenchmarkRedis measures one decision per library on one local Redis,
// named Redis/one-key-allowed/<serial|parallel>/<library>, with the round
// trips the client sent (rtt/op) and the commands the server ran (cmds/op)
// per decision. Every hit must be allowed; a rejection or an error fails the
// benchmark.
func BenchmarkRedis(b *testing.B) {
	addr := servers.Redis(b)
	for _, parallel := range []bool{false, true} {
		mode := "serial"
		if parallel {
			mode = "parallel"
		}
		for _, lib := range redisLibraries {
			b.Run("one-key-allowed/"+mode+"/"+lib.name, func(b *testing.B) {
				benchRedis(b, addr, lib, parallel)
			})
		}
	}
}

func benchRedis(b *testing.B, addr string, lib redisLibrary, parallel bool) {
	ctx := context.Background()
	var rt roundTrips
	c := redisClient(b, addr, &rt)
	stats := redisClient(b, addr, new(roundTrips))
	allow := lib.make(b, c)
	// A fresh key per run; for a whole request it is the client address.
	key := clientKey(redisQuota.limit(), int(time.Now().UnixNano()&0xffffff))
	if lib.http {
		key = "192.0.2." + strconv.Itoa(int(time.Now().UnixNano()%250+1))
	}
	// Warm up: scripts loaded, connections dialled.
	for range 3 {
		if allowed, err := allow(ctx, key); err != nil || !allowed {
			b.Fatalf("%s: warm-up hit = %v, %v; want allowed", lib.name, allowed, err)
		}
	}
	var rejected atomic.Int64
	var failed failures
	trips0, calls0 := rt.n.Load(), commandCalls(b, stats)
	runOps(b, parallel, func(int) func() {
		return func() {
			if allowed, err := allow(ctx, key); err != nil {
				failed.add(err)
			} else if !allowed {
				rejected.Add(1)
			}
		}
	})
	trips, calls := rt.n.Load()-trips0, commandCalls(b, stats)-calls0
	failed.check(b, lib.name)
	if n := rejected.Load(); n > 0 {
		b.Fatalf("%s: %d hits rejected under a limit no run reaches", lib.name, n)
	}
	b.ReportMetric(float64(trips)/float64(b.N), "rtt/op")
	b.ReportMetric(float64(calls)/float64(b.N), "cmds/op")
}
