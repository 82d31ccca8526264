package memcached_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
)

// A storage over a client you configure yourself. Nothing is sent to the
// server until the first hit; every strategy is available.
func ExampleNew() {
	client := memcache.New("127.0.0.1:11211", "127.0.0.1:11212")
	client.Timeout = 100 * time.Millisecond // bounds each round trip
	client.MaxIdleConns = 64
	client.DialContext = memcached.Dialer(nil) // no failed calls after memcached restarts
	store, err := memcached.New(client, memcached.WithKeyPrefix("myapp:"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	for _, name := range limiter.Strategies() {
		_, err := limiter.NewStrategy(name, store)
		fmt.Printf("%s: %v\n", name, err == nil)
	}
	_, isResetAller := any(store).(limiter.ResetAller)
	fmt.Println("reset all:", isResetAller)
	// Output:
	// fixed-window: true
	// fixed-window-elastic-expiry: true
	// moving-window: true
	// sliding-window-counter: true
	// token-bucket: true
	// reset all: false
}

// Opening a pool by URI. Unknown parameters are errors, not ignored.
func Example_open() {
	ctx := context.Background()
	_, err := limiter.Open(ctx, "memcached://10.0.0.1:11211,10.0.0.2:11211?pool_size=8")
	fmt.Println(errors.Is(err, limiter.ErrInvalidURI))
	fmt.Println(err)

	store, err := limiter.Open(ctx, "memcached://10.0.0.1:11211,10.0.0.2:11211?timeout=250ms&key_prefix=myapp:")
	fmt.Println(err)
	store.Close()
	// Output:
	// true
	// limiter: open storage memcached://10.0.0.1:11211,10.0.0.2:11211?pool_size=8: memcached storage: limiter: invalid storage URI: unknown parameter "pool_size" (known: key_prefix, max_idle_conns, timeout)
	// <nil>
}

// Counting hits against a running memcached (not run: it needs a server).
func ExampleStorage_AcquireSlidingWindow() {
	store, err := limiter.Open(context.Background(), "memcached://127.0.0.1:11211")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	strategy := limiter.MustNewStrategy(limiter.StrategySlidingWindowCounter, store)
	limit, _ := limiter.Parse("10 per minute")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := strategy.Hit(ctx, limiter.Request{
		Key: limiter.Key(limit, "/api", "192.0.2.1"), Limit: limit, Cost: 1, Now: time.Now(),
	})
	if err != nil {
		log.Fatal(err) // the server failed or did not answer in time
	}
	fmt.Println(res.Allowed, res.Remaining)
}
