package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// A storage around a go-redis client, here a miniredis standing in for a
// real server, with the client clock so the output is fixed.
func ExampleNew() {
	m, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	client := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer client.Close()

	s, err := redisstore.New(client, redisstore.WithPrefix("myapp:"), redisstore.WithClientClock())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	st := limiter.MustNewStrategy(limiter.StrategyMovingWindow, s)

	l, _ := limiter.Parse("2 per minute")
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		res, err := st.Hit(context.Background(), limiter.Request{Key: "203.0.113.7", Limit: l, Cost: 1, Now: now.Add(time.Duration(i) * 10 * time.Second)})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("allowed=%v remaining=%d retry-after=%v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	fmt.Println(m.Keys())
	// Output:
	// allowed=true remaining=1 retry-after=0s
	// allowed=true remaining=0 retry-after=0s
	// allowed=false remaining=0 retry-after=40s
	// [myapp:{203.0.113.7}:mw]
}

// Opening a storage by URI, as chilimit's RATELIMIT_STORAGE_URI does. The
// storage owns its client; Close closes it.
func Example_open() {
	m, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	s, err := limiter.Open(context.Background(), "redis://"+m.Addr()+"/0?prefix=myapp:&timeout=250ms")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Check(context.Background()))
	// Output: <nil>
}
