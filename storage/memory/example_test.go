package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// A moving-window limit of 2 per second over the memory storage, with time
// stepped by hand.
func Example() {
	ctx := context.Background()
	clock := limiter.NewManualClock(time.Unix(1_700_000_000, 0))
	s, err := memory.New(memory.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	st := limiter.MustNewStrategy(limiter.StrategyMovingWindow, s)
	limit, _ := limiter.Parse("2/second")
	key := limiter.Key(limit, "api", "192.0.2.1")
	for range 3 {
		res, _ := st.Hit(ctx, limiter.Request{Key: key, Limit: limit, Cost: 1, Now: clock.Now()})
		fmt.Println(res.Allowed, res.Remaining, res.RetryAfter)
		clock.Advance(100 * time.Millisecond)
	}
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 800ms
}

// Opening the memory storage by URI, as chilimit's storage URI option does.
func Example_open() {
	s, err := limiter.Open(context.Background(), "memory://?sweep_interval=1m")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println(s.Check(context.Background()))

	_, err = limiter.Open(context.Background(), "memory://?sweep=1m")
	fmt.Println(err)
	// Output:
	// <nil>
	// limiter: open storage memory://?sweep=1m: memory storage: limiter: invalid storage URI: unknown parameter "sweep" (want sweep_interval or shards)
}

// ResetAll forgets every key, as Flask-Limiter's reset() does, and says how
// many held live state.
func ExampleStorage_ResetAll() {
	ctx := context.Background()
	clock := limiter.NewManualClock(time.Unix(1_700_000_000, 0))
	s, err := memory.New(memory.WithClock(clock), memory.WithShards(16), memory.WithSweepInterval(time.Minute))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	st := limiter.MustNewStrategy(limiter.StrategyTokenBucket, s)
	limit, _ := limiter.Parse("10/minute")
	for _, client := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		st.Hit(ctx, limiter.Request{Key: limiter.Key(limit, client), Limit: limit, Cost: 1, Now: clock.Now()})
	}
	n, err := s.ResetAll(ctx)
	fmt.Println(n, err, s.Len())
	// Output:
	// 3 <nil> 0
}

// Outgoing calls that must stay under a partner's quota of 5 a second wait
// for room with limiter.Wait instead of being refused: the sixth call
// waits for the token bucket to refill (a fifth of a second).
func Example_wait() {
	s, err := memory.New()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	bucket := limiter.MustNewStrategy(limiter.StrategyTokenBucket, s)
	quota := limiter.MustParse("5/second")
	for call := 1; call <= 6; call++ {
		res, err := limiter.Wait(context.Background(), bucket, limiter.SystemClock,
			limiter.Request{Key: limiter.Key(quota, "partner-api"), Limit: quota, Cost: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("call %d allowed: %v\n", call, res.Allowed)
	}
	// Output:
	// call 1 allowed: true
	// call 2 allowed: true
	// call 3 allowed: true
	// call 4 allowed: true
	// call 5 allowed: true
	// call 6 allowed: true
}
