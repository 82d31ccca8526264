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
