package main

import (
	"context"
	"fmt"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// limit is what every strategy enforces in the picture.
var limit = limiter.MustParse("5 per 10 seconds")

// traffic is the instants, from the start, at which the client sends a
// request: a burst of 7; a client knocking twice; after a pause, one
// request at 17s, which starts a new fixed window; a burst of 10 around that
// window's end at 27s; then a steady 1 per second, twice what the limit
// allows.
var traffic = func() []time.Duration {
	var ts []time.Duration
	ms := func(v ...int) {
		for _, m := range v {
			ts = append(ts, time.Duration(m)*time.Millisecond)
		}
	}
	ms(0, 500, 1000, 1500, 2000, 2500, 3000)
	ms(4000, 6000)
	ms(17000)
	for m := 24500; m <= 29000; m += 500 {
		ms(m)
	}
	for m := 36000; m <= 50000; m += 1000 {
		ms(m)
	}
	return ts
}()

// row is one strategy's answers to the traffic.
type row struct {
	strategy string
	allowed  []bool
}

// simulate sends the traffic through every strategy, each over its own
// in-memory storage, stepping a manual clock to each request's instant.
func simulate(ctx context.Context) ([]row, error) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []row
	for _, name := range limiter.Strategies() {
		clock := limiter.NewManualClock(start)
		store, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
		if err != nil {
			return nil, err
		}
		strategy, err := limiter.NewStrategy(name, store)
		if err != nil {
			_ = store.Close()
			return nil, err
		}
		r := row{strategy: name}
		for _, at := range traffic {
			clock.Set(start.Add(at))
			res, err := strategy.Hit(ctx, limiter.Request{Key: limiter.Key(limit, "client"), Limit: limit, Cost: 1, Now: clock.Now()})
			if err != nil {
				_ = store.Close()
				return nil, fmt.Errorf("strategies: %s at %v: %w", name, at, err)
			}
			r.allowed = append(r.allowed, res.Allowed)
		}
		rows = append(rows, r)
		if err := store.Close(); err != nil {
			return nil, err
		}
	}
	return rows, nil
}
