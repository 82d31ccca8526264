package memcached_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// BenchmarkHit measures one Strategy.Hit per strategy on one local
// memcached, next to the floor: a plain Get round trip on the same client.
// "allowed" spreads hits over keys of 1000 per hour, 1000 hits per key, so
// every hit is allowed and each key's log or counter grows as in use;
// "rejected" hits one full key. "cancelable" passes a context that can end,
// which runs the work in a goroutine.
func BenchmarkHit(b *testing.B) {
	addr := servers.Memcached(b)
	c := memcache.New(addr)
	c.MaxIdleConns = 16
	c.Timeout = time.Second
	s, err := memcached.New(c, memcached.WithKeyPrefix(uniquePrefix()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	defer c.Close()
	ctx := context.Background()

	b.Run("floor/get", func(b *testing.B) {
		if err := c.Set(&memcache.Item{Key: "bench-floor", Value: []byte("12345")}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get("bench-floor"); err != nil {
				b.Fatal(err)
			}
		}
	})
	perHour := limiter.Limit{Amount: 1000, Multiples: 1, Unit: limiter.Hour}
	onePerHour := limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Hour}
	cancelable, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, name := range limiter.Strategies() {
		st := limiter.MustNewStrategy(name, s)
		run := func(ctx context.Context, key string) func(b *testing.B) {
			return func(b *testing.B) {
				key := key + uniquePrefix()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k := key + strconv.Itoa(i/1000)
					i++
					res, err := st.Hit(ctx, limiter.Request{Key: k, Limit: perHour, Cost: 1, Now: time.Now()})
					if err != nil || !res.Allowed {
						b.Fatalf("Hit %d on %s = %+v, %v; want allowed", i, k, res, err)
					}
				}
			}
		}
		b.Run(name+"/allowed", run(ctx, "bench-a-"+name))
		b.Run(name+"/allowed/cancelable", run(cancelable, "bench-c-"+name))
		b.Run(name+"/rejected", func(b *testing.B) {
			r := limiter.Request{Key: "bench-r-" + name + uniquePrefix(), Limit: onePerHour, Cost: 1, Now: time.Now()}
			if _, err := st.Hit(ctx, r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r.Now = time.Now()
				res, err := st.Hit(ctx, r)
				if err != nil || res.Allowed {
					b.Fatalf("Hit = %v, %v; want rejected", res.Allowed, err)
				}
			}
		})
	}
}
