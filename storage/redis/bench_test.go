package redis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// BenchmarkRedis measures a hit of each strategy on a real server, next to
// a plain GET on the same client: the round trip every hit pays at least.
// The limit is 1000 per second on one key per goroutine, so the moving
// window keeps up to 1000 entries and most hits past the first thousand
// each second are rejected. The storage reads the server clock (the
// default).
func BenchmarkRedis(b *testing.B) {
	addr := servers.Redis(b)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	s, err := redisstore.New(client, redisstore.WithPrefix(uniquePrefix()))
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Set(ctx, "bench:floor", "1", 0).Err(); err != nil {
		b.Fatal(err)
	}
	l := limiter.Limit{Amount: 1000, Multiples: 1, Unit: limiter.Second}
	var seq atomic.Int64
	run := func(b *testing.B, op func(key string) error) {
		b.Run("serial", func(b *testing.B) {
			key := fmt.Sprint("bench/", seq.Add(1))
			b.ReportAllocs()
			for b.Loop() {
				if err := op(key); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				key := fmt.Sprint("bench/", seq.Add(1))
				for pb.Next() {
					if err := op(key); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	b.Run("GET", func(b *testing.B) {
		run(b, func(string) error { return client.Get(ctx, "bench:floor").Err() })
	})
	for _, name := range limiter.Strategies() {
		st := limiter.MustNewStrategy(name, s)
		b.Run(name, func(b *testing.B) {
			run(b, func(key string) error {
				_, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now()})
				return err
			})
		})
	}
}
