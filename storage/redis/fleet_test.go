package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// fleet hits one key from several independent "application servers" (each
// its own client and Storage, on the server clock) at once, and requires
// exactly amount allowed hits per strategy: the scripts are atomic whatever
// the interleaving.
func fleet(t *testing.T, newClient func() redis.UniversalClient) {
	const (
		apps       = 4
		goroutines = 8 // per app
		hits       = 25
		amount     = 300 // of 4 × 8 × 25 = 800 hits
	)
	// A window so long that neither refill nor a window edge happens while
	// the test runs: this is about atomicity, not time.
	l := limiter.Limit{Amount: amount, Multiples: 1, Unit: limiter.Year}
	prefix := uniquePrefix()
	stores := make([]limiter.Strategy, 0, apps)
	for _, name := range limiter.Strategies() {
		t.Run(name, func(t *testing.T) {
			stores = stores[:0]
			for range apps {
				c := newClient()
				t.Cleanup(func() { c.Close() })
				s, err := redisstore.New(c, redisstore.WithPrefix(prefix), redisstore.WithTimeout(10*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				stores = append(stores, limiter.MustNewStrategy(name, s))
			}
			key := fmt.Sprintf("fleet/%s/%d", name, time.Now().UnixNano())
			type outcome struct {
				allowed bool
				err     error
			}
			results := make(chan outcome, apps*goroutines*hits)
			var wg sync.WaitGroup
			for _, st := range stores {
				for range goroutines {
					wg.Go(func() {
						for range hits {
							res, err := st.Hit(context.Background(), limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now()})
							results <- outcome{res.Allowed, err}
						}
					})
				}
			}
			wg.Wait()
			close(results)
			allowed := 0
			for o := range results {
				if o.err != nil {
					t.Fatalf("hit: %v", o.err)
				}
				if o.allowed {
					allowed++
				}
			}
			if allowed != amount {
				t.Errorf("%d app servers × %d goroutines × %d hits on a limit of %v: %d allowed, want exactly %d",
					apps, goroutines, hits, l, allowed, amount)
			}
			res, err := stores[0].Test(context.Background(), limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now()})
			if err != nil || res.Allowed || res.Remaining != 0 {
				t.Errorf("Test after the fleet = %+v, %v; want rejected with 0 remaining", res, err)
			}
		})
	}
}

func TestFleetStandalone(t *testing.T) {
	fleet(t, standalone(servers.Redis(t)))
}

func TestFleetCluster(t *testing.T) {
	fleet(t, cluster(servers.RedisCluster(t)))
}

// TestServerClockRealTime runs each strategy on a real server's clock with
// a one-second window: a burst fills the limit, the next hit is rejected
// with a retry time within the window, and a hit after that time is
// allowed again. Request.Now is an hour off, as on a badly skewed
// application server: the decisions follow the server's clock and the
// reported times follow Request.Now.
//
// The burst is three hits that must fall in one window of the server
// clock. The sliding window counter's windows are whole seconds of that
// clock, and a count from the previous window weighs less: two hits just
// before a second ends and a third just after it leave a weighted count of
// floor(2 × 0.999) = 1, and the third is allowed, as it should be. A burst
// the server saw across a window edge, or spread over 400ms or more (a
// token comes back every 500ms), tests nothing here: it is sent again on a
// fresh key.
func TestServerClockRealTime(t *testing.T) {
	c := standalone(servers.Redis(t))()
	defer c.Close()
	s, err := redisstore.New(c, redisstore.WithPrefix(uniquePrefix()), redisstore.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l := limiter.Limit{Amount: 2, Multiples: 1, Unit: limiter.Second}
	const skew = time.Hour
	const attempts = 5
	for _, name := range limiter.Strategies() {
		t.Run(name, func(t *testing.T) {
			st := limiter.MustNewStrategy(name, s)
			key := name
			hit := func() limiter.Result {
				t.Helper()
				res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now().Add(skew)})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			serverNow := func() time.Time {
				t.Helper()
				now, err := c.Time(ctx).Result()
				if err != nil {
					t.Fatal(err)
				}
				return now
			}
			var burst [3]limiter.Result
			for attempt := 1; ; attempt++ {
				key = fmt.Sprintf("%s/%d", name, attempt)
				start := serverNow()
				for i := range burst {
					burst[i] = hit()
				}
				end := serverNow()
				spread := end.Sub(start) >= 400*time.Millisecond
				edge := name == limiter.StrategySlidingWindowCounter && !start.Truncate(time.Second).Equal(end.Truncate(time.Second))
				if !spread && !edge {
					break
				}
				if attempt == attempts {
					t.Fatalf("%d bursts of 3 hits each ran across a window edge or over 400ms on the server clock", attempts)
				}
				t.Logf("attempt %d: the burst ran from %s to %s on the server clock (across a window edge: %v); sending it again on a fresh key",
					attempt, start.Format("15:04:05.000000"), end.Format("15:04:05.000000"), edge)
			}
			for i, res := range burst[:2] {
				if !res.Allowed {
					t.Fatalf("hit %d of 2 rejected: %+v", i+1, res)
				}
			}
			res := burst[2]
			if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > 2*time.Second {
				t.Fatalf("third hit = %+v, want rejected with 0 < RetryAfter <= 2s", res)
			}
			if d := time.Until(res.ResetAt.Add(-skew)); d <= 0 || d > 2*time.Second {
				t.Errorf("third hit: ResetAt is %v from now (on the skewed clock), want within 2s", d)
			}
			time.Sleep(res.RetryAfter + 50*time.Millisecond)
			if res := hit(); !res.Allowed {
				t.Errorf("hit after RetryAfter = %+v, want allowed", res)
			}
		})
	}
}
