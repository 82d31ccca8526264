package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
	"github.com/redis/go-redis/v9"
)

// reference keeps the pure algorithm state of limiter/algorithms.go for one
// key, the model every script must match.
type reference struct {
	fw limiter.FixedWindow
	mw limiter.MovingWindow
	sw limiter.SlidingWindow
	tb limiter.TokenBucket
}

func (m *reference) do(alg string, peek bool, r limiter.Request) limiter.State {
	switch alg {
	case "fixed", "elastic":
		if peek {
			return m.fw.Peek(r)
		}
		return m.fw.Acquire(r, alg == "elastic")
	case "moving":
		if peek {
			return m.mw.Peek(r)
		}
		return m.mw.Acquire(r)
	case "sliding":
		if peek {
			return m.sw.Peek(r)
		}
		return m.sw.Acquire(r)
	default:
		if peek {
			return m.tb.Peek(r)
		}
		return m.tb.Acquire(r)
	}
}

func storageDo(ctx context.Context, s *redisstore.Storage, alg string, peek bool, r limiter.Request) (limiter.State, error) {
	switch alg {
	case "fixed", "elastic":
		if peek {
			return s.PeekFixedWindow(ctx, r)
		}
		return s.AcquireFixedWindow(ctx, r, alg == "elastic")
	case "moving":
		if peek {
			return s.PeekMovingWindow(ctx, r)
		}
		return s.AcquireMovingWindow(ctx, r)
	case "sliding":
		if peek {
			return s.PeekSlidingWindow(ctx, r)
		}
		return s.AcquireSlidingWindow(ctx, r)
	default:
		if peek {
			return s.PeekTokenBucket(ctx, r)
		}
		return s.AcquireTokenBucket(ctx, r)
	}
}

var algorithms = []string{"fixed", "elastic", "moving", "sliding", "token"}

// TestScriptsMatchReference drives every script and the pure algorithm
// types through the same random hits, at microsecond-aligned instants, and
// requires identical States: with the client clock, and with the server
// clock (miniredis's TIME set to the request's instant before each call).
func TestScriptsMatchReference(t *testing.T) {
	limits := []limiter.Limit{
		{Amount: 5, Multiples: 1, Unit: limiter.Second},
		{Amount: 3, Multiples: 1, Unit: limiter.Second},
		{Amount: 7, Multiples: 10, Unit: limiter.Second},
		{Amount: 1, Multiples: 1, Unit: limiter.Minute},
		{Amount: 0, Multiples: 1, Unit: limiter.Second},
		{Amount: 1000, Multiples: 1, Unit: limiter.Hour},
		{Amount: 3_000_000, Multiples: 1, Unit: limiter.Year}, // exercises the exact long multiplication
	}
	for _, clock := range []string{"client", "server"} {
		for _, alg := range algorithms {
			for _, l := range limits {
				if alg == "moving" && l.Amount > redisstore.MaxMovingWindowAmount {
					l.Amount = redisstore.MaxMovingWindowAmount // the largest log, still past exact products
				}
				t.Run(fmt.Sprintf("%s/%s/%s", clock, alg, l), func(t *testing.T) {
					m := miniredis.RunT(t)
					client := redis.NewClient(&redis.Options{Addr: m.Addr()})
					t.Cleanup(func() { client.Close() })
					opts := []limiter.StorageOption{redisstore.WithClientClock()}
					if clock == "server" {
						opts = nil
					}
					s, err := redisstore.New(client, opts...)
					if err != nil {
						t.Fatal(err)
					}
					rng := rand.New(rand.NewPCG(uint64(l.Amount), uint64(len(alg))))
					window := l.Window()
					now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(window))))
					now = now.Truncate(time.Microsecond)
					var ref reference
					ctx := context.Background()
					for i := range 300 {
						if clock == "client" && rng.IntN(3) == 0 {
							now = now.Add(time.Duration(rng.Int64N(1000)))
						}
						steps := []time.Duration{0, 0, time.Nanosecond, time.Microsecond, window / 7, -time.Nanosecond, window / 3, window - time.Microsecond, window, window + window/2, time.Duration(rng.Int64N(int64(window)))}
						now = now.Add(steps[rng.IntN(len(steps))])
						if clock == "server" {
							now = now.Truncate(time.Microsecond)
						}
						cost := 1 + rng.Int64N(max(l.Amount/2, 1)+1)
						if l.Amount > 100 {
							cost = 1 + rng.Int64N(3)
						}
						peek := rng.IntN(4) == 0
						r := limiter.Request{Key: "k", Limit: l, Cost: cost, Now: now}
						if clock == "server" {
							m.SetTime(now)
						}
						want := ref.do(alg, peek, r)
						got, err := storageDo(ctx, s, alg, peek, r)
						if err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
						if got != want {
							t.Fatalf("step %d (peek=%v cost=%d at %v): got %+v, want %+v", i, peek, cost, now.Format(time.RFC3339Nano), got, want)
						}
					}
				})
			}
		}
	}
}

// TestScriptsAtMaxAmount: at the largest amount a limit may have, whose
// counts Lua's doubles still hold exactly, every script gives the
// reference's States, for whole-bucket costs too (beyond it a script's
// count stopped moving by one, and a token bucket's looped for ever).
func TestScriptsAtMaxAmount(t *testing.T) {
	for _, alg := range algorithms {
		most := int64(limiter.MaxAmount)
		if alg == "moving" {
			most = redisstore.MaxMovingWindowAmount // a larger log is refused
		}
		for _, l := range []limiter.Limit{
			{Amount: most, Multiples: 1, Unit: limiter.Second},
			{Amount: most, Multiples: 1, Unit: limiter.Hour},
			{Amount: most, Multiples: 50, Unit: limiter.Year},
		} {
			t.Run(fmt.Sprintf("%s/%s", alg, l), func(t *testing.T) {
				m := miniredis.RunT(t)
				client := redis.NewClient(&redis.Options{Addr: m.Addr()})
				t.Cleanup(func() { client.Close() })
				s, err := redisstore.New(client, redisstore.WithClientClock())
				if err != nil {
					t.Fatal(err)
				}
				costs := []int64{1, most - 1, 1, 1, most, 2, most / 2, most/2 + 1, 3}
				rng := rand.New(rand.NewPCG(uint64(l.Multiples), uint64(len(alg))))
				for range 300 {
					costs = append(costs, 1+rng.Int64N(most))
				}
				if alg == "moving" {
					costs = []int64{1, 2, 3, 1} // a unit per list element
				}
				now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
				w := l.Window()
				steps := []time.Duration{0, time.Nanosecond, w / 3, time.Microsecond, w, 0, time.Second, w / 2, 0}
				var ref reference
				for i, cost := range costs {
					if i < len(steps) {
						now = now.Add(steps[i])
					} else {
						now = now.Add(time.Duration(rng.Int64N(int64(min(w/2, 30*24*time.Hour))))) // Request.Now stays before 2150
					}
					for _, peek := range []bool{true, false} {
						r := limiter.Request{Key: "k", Limit: l, Cost: cost, Now: now}
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						got, err := storageDo(ctx, s, alg, peek, r)
						cancel()
						if err != nil {
							t.Fatalf("step %d (peek=%v cost=%d): %v", i, peek, cost, err)
						}
						if want := ref.do(alg, peek, r); got != want {
							t.Fatalf("step %d (peek=%v cost=%d at %v): got %+v, want %+v", i, peek, cost, now.Format(time.RFC3339Nano), got, want)
						}
					}
				}
			})
		}
	}
}

// TestScriptsMatchReferenceWithClocksBehind: hits from application servers
// whose clocks lag the one that stored a key's state, by less than a
// window and by more, across window boundaries, give the reference's
// States (a lagging hit on a sliding window counts in the stored window).
func TestScriptsMatchReferenceWithClocksBehind(t *testing.T) {
	l := limiter.Limit{Amount: 4, Multiples: 1, Unit: limiter.Second}
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	offsets := []time.Duration{
		1500 * time.Millisecond, 700 * time.Millisecond, 1600 * time.Millisecond, 200 * time.Millisecond,
		2100 * time.Millisecond, 1999 * time.Millisecond, 1999*time.Millisecond + 1, 900 * time.Millisecond,
		3200 * time.Millisecond, 2999 * time.Millisecond,
	}
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			_, _, s := newMiniredis(t)
			var ref reference
			for i, off := range offsets {
				for _, peek := range []bool{true, false} {
					r := limiter.Request{Key: "k", Limit: l, Cost: 1, Now: start.Add(off)}
					want := ref.do(alg, peek, r)
					got, err := storageDo(context.Background(), s, alg, peek, r)
					if err != nil {
						t.Fatalf("hit %d at +%v: %v", i, off, err)
					}
					if got != want {
						t.Fatalf("hit %d (peek=%v) at +%v: got %+v, want %+v", i, peek, off, got, want)
					}
				}
			}
		})
	}
}
