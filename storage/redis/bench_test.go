package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
// default). Besides ns/op, each result reports server-ns/op: the server's
// own time per command (INFO commandstats), free of network and client
// noise.
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
	// serverTime reports the server's own time per command, from INFO
	// commandstats: the script's cost without the network or the client.
	serverTime := func(b *testing.B, cmd string) {
		b.Helper()
		info, err := client.Info(ctx, "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":")
			if !ok {
				continue
			}
			for _, field := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(field, "usec_per_call="); ok {
					f, _ := strconv.ParseFloat(v, 64)
					b.ReportMetric(f*1000, "server-ns/op")
				}
			}
		}
	}
	run := func(b *testing.B, cmd string, op func(key string) error) {
		b.Run("serial", func(b *testing.B) {
			key := fmt.Sprint("bench/", seq.Add(1))
			b.ReportAllocs()
			client.ConfigResetStat(ctx)
			for b.Loop() {
				if err := op(key); err != nil {
					b.Fatal(err)
				}
			}
			serverTime(b, cmd)
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			client.ConfigResetStat(ctx)
			defer serverTime(b, cmd)
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
		run(b, "get", func(string) error { return client.Get(ctx, "bench:floor").Err() })
	})
	for _, name := range limiter.Strategies() {
		st := limiter.MustNewStrategy(name, s)
		b.Run(name, func(b *testing.B) {
			run(b, "evalsha", func(key string) error {
				_, err := st.Hit(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: time.Now()})
				return err
			})
		})
	}
}
