package conformance

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// A BenchHarnessMaker returns a fresh Harness for one benchmark, as a
// [HarnessMaker] does for one rule. A harness written against testing.TB
// serves both:
//
//	func newHarness(ctx context.Context, tb testing.TB) (conformance.Harness, error) { … }
//
//	conformance.Run(t, func(ctx context.Context, t *testing.T) (conformance.Harness, error) { return newHarness(ctx, t) })
//	conformance.RunBenchmarks(b, func(ctx context.Context, b *testing.B) (conformance.Harness, error) { return newHarness(ctx, b) })
type BenchHarnessMaker func(ctx context.Context, b *testing.B) (Harness, error)

// benchLimit is the limit every benchmark hits: a hundred per second.
var benchLimit = limiter.Limit{Amount: 100, Multiples: 1, Unit: limiter.Second}

// benchStep is how far the request instant moves per hit, per goroutine,
// when the storage accepts an injected clock: one key then sees 100,000 hits
// per second of request time (nearly all rejected), and each of 10,000 keys
// sees 10 (all allowed), so both paths are measured.
const benchStep = 10 * time.Microsecond

// RunBenchmarks measures the cost of one Strategy.Hit for every strategy the
// storages made by newHarness support, as sub-benchmarks named
// "<strategy>/OneKey/Serial", "<strategy>/OneKey/Parallel",
// "<strategy>/10000Keys/Serial" and "<strategy>/10000Keys/Parallel". Every
// hit is of cost 1 against a limit of 100 per second; the keys exist before
// the timer starts, so the numbers are those of a hit on a live key.
//
// With a harness whose AcceptsClock is true, the instant of each hit is
// computed (no clock read); otherwise each hit reads time.Now, whose cost is
// then included.
func RunBenchmarks(b *testing.B, newHarness BenchHarnessMaker) {
	b.Helper()
	h, err := newHarness(b.Context(), b)
	if err != nil {
		b.Fatalf("conformance: make harness: %v", err)
	}
	caps, acceptsClock := h.Capabilities(), h.AcceptsClock()
	h.Close()
	for _, a := range algorithms {
		if !a.supported(caps) {
			continue
		}
		for _, keys := range []int{1, 10000} {
			name := "OneKey"
			if keys > 1 {
				name = strconv.Itoa(keys) + "Keys"
			}
			for _, parallel := range []bool{false, true} {
				mode := "Serial"
				if parallel {
					mode = "Parallel"
				}
				b.Run(a.strategy+"/"+name+"/"+mode, func(b *testing.B) {
					benchHits(b, newHarness, a.strategy, acceptsClock, keys, parallel)
				})
			}
		}
	}
}

func benchHits(b *testing.B, newHarness BenchHarnessMaker, strategy string, acceptsClock bool, nkeys int, parallel bool) {
	ctx := b.Context()
	h, err := newHarness(ctx, b)
	if err != nil {
		b.Fatalf("make harness: %v", err)
	}
	defer h.Close()
	start := time.Now()
	var clock limiter.Clock = limiter.SystemClock
	if acceptsClock {
		clock = limiter.NewManualClock(start)
	}
	s, err := h.MakeStorage(ctx, clock)
	if err != nil {
		b.Fatalf("make storage: %v", err)
	}
	defer s.Close()
	st, err := limiter.NewStrategy(strategy, s)
	if err != nil {
		b.Fatalf("limiter.NewStrategy(%q): %v", strategy, err)
	}
	prefix := "bench:" + strconv.FormatInt(start.UnixNano(), 36) + ":" + strategy + ":"
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = limiter.Key(benchLimit, prefix, strconv.Itoa(i))
		if _, err := st.Hit(ctx, limiter.Request{Key: keys[i], Limit: benchLimit, Cost: 1, Now: start}); err != nil {
			b.Fatalf("%s hit: %v", strategy, err)
		}
	}
	// run hits keys from offset on, one after another, until more reports
	// false; it returns the first error.
	run := func(offset int, more func() bool) error {
		now := start
		for i := offset; more(); i++ {
			if acceptsClock {
				now = now.Add(benchStep)
			} else {
				now = time.Now()
			}
			if _, err := st.Hit(ctx, limiter.Request{Key: keys[i%nkeys], Limit: benchLimit, Cost: 1, Now: now}); err != nil {
				return err
			}
		}
		return nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		if err := run(0, b.Loop); err != nil {
			b.Fatalf("%s hit: %v", strategy, err)
		}
		return
	}
	var worker atomic.Int64
	var failed atomic.Pointer[error]
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine starts at its own key, so with many keys they
		// spread over the key space.
		offset := int(worker.Add(1)*7919) % nkeys
		if err := run(offset, pb.Next); err != nil {
			failed.CompareAndSwap(nil, &err)
			for pb.Next() {
			}
		}
	})
	if err := failed.Load(); err != nil {
		b.Fatalf("%s hit: %v", strategy, *err)
	}
}
