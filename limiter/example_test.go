package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/limits-go/limits/limiter"
)

func ExampleParse() {
	l, err := limiter.Parse("10 per hour")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Amount, l.Multiples, l.Unit, l.Window())

	l, _ = limiter.Parse("5/2 seconds")
	fmt.Println(l, l.Window())

	_, err = limiter.Parse("10/weak")
	fmt.Println(err)
	var pe *limiter.ParseError
	if errors.As(err, &pe) {
		fmt.Println("offset", pe.Offset, "invalid limit:", errors.Is(err, limiter.ErrInvalidLimit))
	}
	// Output:
	// 10 1 hour 1h0m0s
	// 5 per 2 second 2s
	// limiter: parse "10/weak": unknown unit "weak" at offset 3 (want second, minute, hour, day, month or year)
	// offset 3 invalid limit: true
}

func ExampleParseMany() {
	limits, err := limiter.ParseMany("10/hour;100/day;2000 per year")
	if err != nil {
		panic(err)
	}
	for _, l := range limits {
		fmt.Println(l)
	}

	limits, _ = limiter.ParseMany("100/day, 500/7days")
	fmt.Println(limits)

	_, err = limiter.ParseMany("10/hour,,100/day")
	fmt.Println(err)
	// Output:
	// 10 per 1 hour
	// 100 per 1 day
	// 2000 per 1 year
	// [100 per 1 day 500 per 7 day]
	// limiter: parse "10/hour,,100/day": empty limit after separator at offset 8 (doubled or trailing separator)
}

func ExampleLimit_String() {
	l := limiter.Limit{Amount: 100, Multiples: 15, Unit: limiter.Minute}
	fmt.Println(l.String())

	// The text parses back to the same limit.
	back, err := limiter.Parse(l.String())
	fmt.Println(back == l, err)
	// Output:
	// 100 per 15 minute
	// true <nil>
}

func ExampleKey() {
	l := limiter.MustParse("10/hour")
	fmt.Println(limiter.Key(l, "myapp", "/users/{id}", "203.0.113.7"))

	// Parts are length-prefixed, so moving a "/" between them gives
	// another key.
	fmt.Println(limiter.Key(l, "a/b", "c") == limiter.Key(l, "a", "b/c"))
	// Output:
	// LIMITER/10/1/hour/5:myapp/11:/users/{id}/11:203.0.113.7
	// false
}

func ExampleNewStrategy() {
	ctx := context.Background()
	clock := limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	store := newMemoryStore()

	st, err := limiter.NewStrategy(limiter.StrategyFixedWindow, store)
	if err != nil {
		panic(err)
	}
	limit := limiter.MustParse("2 per minute")
	key := limiter.Key(limit, "example", "203.0.113.7")
	hit := func() {
		res, err := st.Hit(ctx, limiter.Request{Key: key, Limit: limit, Cost: 1, Now: clock.Now()})
		if err != nil {
			panic(err)
		}
		fmt.Printf("allowed=%v remaining=%d retry-after=%v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	for range 3 {
		hit()
		clock.Advance(10 * time.Second)
	}
	clock.Advance(30 * time.Second) // the window that opened with the first hit ends
	hit()

	// The moving window needs a capability this storage lacks.
	_, err = limiter.NewStrategy(limiter.StrategyMovingWindow, store)
	fmt.Println(err)
	fmt.Println(errors.Is(err, limiter.ErrUnsupported))
	// Output:
	// allowed=true remaining=1 retry-after=0s
	// allowed=true remaining=0 retry-after=0s
	// allowed=false remaining=0 retry-after=40s
	// allowed=true remaining=1 retry-after=0s
	// limiter: strategy "moving-window" needs a storage implementing limiter.MovingWindowStorage; *limiter_test.memoryStore does not: limiter: unsupported by storage
	// true
}

func ExampleNewStrategy_tokenBucket() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := limiter.MustNewStrategy(limiter.StrategyTokenBucket, newMemoryStore())

	// A burst of 4, refilled at one token every 15 seconds.
	limit := limiter.MustParse("4/minute")
	for _, at := range []time.Duration{0, 0, 0, 0, 0, 5 * time.Second, 15 * time.Second} {
		res, _ := st.Hit(ctx, limiter.Request{Key: "k", Limit: limit, Cost: 1, Now: now.Add(at)})
		fmt.Printf("at %v: allowed=%v remaining=%d retry-after=%v\n", at, res.Allowed, res.Remaining, res.RetryAfter)
	}
	// Output:
	// at 0s: allowed=true remaining=3 retry-after=0s
	// at 0s: allowed=true remaining=2 retry-after=0s
	// at 0s: allowed=true remaining=1 retry-after=0s
	// at 0s: allowed=true remaining=0 retry-after=0s
	// at 0s: allowed=false remaining=0 retry-after=15s
	// at 5s: allowed=false remaining=0 retry-after=10s
	// at 15s: allowed=true remaining=0 retry-after=0s
}

// Backends call Register from an init function; this example registers its
// toy backend once, on first use.
var registerToy sync.Once

func ExampleOpen() {
	registerToy.Do(func() {
		limiter.Register("toy", func(ctx context.Context, u *url.URL, opts ...limiter.StorageOption) (limiter.Storage, error) {
			for name := range u.Query() {
				return nil, fmt.Errorf("toy storage: unknown parameter %q: %w", name, limiter.ErrInvalidURI)
			}
			return newMemoryStore(), nil
		})
	})
	ctx := context.Background()

	s, err := limiter.Open(ctx, "toy://")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println(s.Check(ctx))

	_, err = limiter.Open(ctx, "toy://local?size=10")
	fmt.Println(err)

	_, err = limiter.Open(ctx, "nosuch://localhost")
	fmt.Println(errors.Is(err, limiter.ErrUnknownScheme))
	// Output:
	// <nil>
	// limiter: open storage toy://local?size=10: toy storage: unknown parameter "size": limiter: invalid storage URI
	// true
}

func ExampleManualClock() {
	clock := limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(clock.Now().Format(time.TimeOnly))
	fmt.Println(clock.Advance(90 * time.Second).Format(time.TimeOnly))
	clock.Set(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	fmt.Println(clock.Now().Format(time.TimeOnly))
	// Output:
	// 00:00:00
	// 00:01:30
	// 12:00:00
}

// memoryStore is a minimal storage for these examples: fixed-window
// counters and token buckets in maps behind one mutex, using the algorithm
// types for the arithmetic. Programs use storage/memory instead.
type memoryStore struct {
	mu     sync.Mutex
	closed bool
	fixed  map[string]limiter.FixedWindow
	bucket map[string]limiter.TokenBucket
}

var (
	_ limiter.Storage            = (*memoryStore)(nil)
	_ limiter.TokenBucketStorage = (*memoryStore)(nil)
)

func newMemoryStore() *memoryStore {
	return &memoryStore{fixed: map[string]limiter.FixedWindow{}, bucket: map[string]limiter.TokenBucket{}}
}

// lock locks m and fails if it is closed; the caller unlocks.
func (m *memoryStore) lock() error {
	m.mu.Lock()
	if m.closed {
		return limiter.ErrClosed
	}
	return nil
}

func (m *memoryStore) AcquireFixedWindow(_ context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return limiter.State{}, err
	}
	w := m.fixed[r.Key]
	s := w.Acquire(r, elastic)
	m.fixed[r.Key] = w
	return s, nil
}

func (m *memoryStore) PeekFixedWindow(_ context.Context, r limiter.Request) (limiter.State, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return limiter.State{}, err
	}
	return m.fixed[r.Key].Peek(r), nil
}

func (m *memoryStore) AcquireTokenBucket(_ context.Context, r limiter.Request) (limiter.State, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return limiter.State{}, err
	}
	b := m.bucket[r.Key]
	s := b.Acquire(r)
	m.bucket[r.Key] = b
	return s, nil
}

func (m *memoryStore) PeekTokenBucket(_ context.Context, r limiter.Request) (limiter.State, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return limiter.State{}, err
	}
	return m.bucket[r.Key].Peek(r), nil
}

func (m *memoryStore) Clear(_ context.Context, key string) error {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return err
	}
	delete(m.fixed, key)
	delete(m.bucket, key)
	return nil
}

func (m *memoryStore) Check(context.Context) error {
	defer m.mu.Unlock()
	return m.lock()
}

func (m *memoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// A request that must pass two limits at once: 3 per minute for the whole
// API, then 2 per minute for each client. HitBatch stops at the first limit
// breached; that step and those after it count nothing, but the steps
// before it stay counted: the third request of 192.0.2.1, refused by its
// own limit, still took the API's last hit of the minute.
func ExampleHitBatch() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := newMemoryStore()
	global := limiter.MustParse("3/minute")
	perClient := limiter.MustParse("2/minute")

	results := make([]limiter.Result, 2)
	for i, client := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		at := now.Add(time.Duration(i) * time.Second)
		ops := []limiter.BatchOp{
			{Request: limiter.Request{Key: limiter.Key(global, "api"), Limit: global, Cost: 1, Now: at}},
			{Request: limiter.Request{Key: limiter.Key(perClient, "api", client), Limit: perClient, Cost: 1, Now: at}},
		}
		n, err := limiter.HitBatch(ctx, store, limiter.StrategyFixedWindow, ops, results)
		if err != nil {
			panic(err)
		}
		last := results[n-1]
		fmt.Printf("%s: steps run %d, allowed=%v, remaining %d under %v\n", client, n, last.Allowed, last.Remaining, last.Limit)
	}
	// Output:
	// 192.0.2.1: steps run 2, allowed=true, remaining 1 under 2 per 1 minute
	// 192.0.2.1: steps run 2, allowed=true, remaining 0 under 2 per 1 minute
	// 192.0.2.1: steps run 2, allowed=false, remaining 0 under 2 per 1 minute
	// 192.0.2.2: steps run 1, allowed=false, remaining 0 under 3 per 1 minute
	// 192.0.2.3: steps run 1, allowed=false, remaining 0 under 3 per 1 minute
}
