package memory_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// BenchmarkHit measures one Strategy.Hit per strategy through the
// conformance benchmarks: one key and 10,000 keys, serial and parallel.
func BenchmarkHit(b *testing.B) {
	conformance.RunBenchmarks(b, func(context.Context, *testing.B) (conformance.Harness, error) {
		return benchHarness{}, nil
	})
}

// benchHarness makes storages with the default sweep interval, as a program
// gets them.
type benchHarness struct{ harness }

func (benchHarness) MakeStorage(_ context.Context, clock limiter.Clock) (limiter.Storage, error) {
	return memory.New(memory.WithClock(clock))
}

// clientKey returns the storage key of client i under l, as chilimit builds
// it for a client address: about 45 bytes.
func clientKey(l limiter.Limit, i int) string {
	ip := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	return limiter.Key(l, "", "/api/items", ip)
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// liveKeyBytes hits n distinct client keys once each under strategy and
// returns the heap growth per key, key strings included.
func liveKeyBytes(tb testing.TB, strategy string, n int) float64 {
	ctx := context.Background()
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Minute}
	clock := limiter.NewManualClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	before := heapInUse()
	s, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	st := limiter.MustNewStrategy(strategy, s)
	for i := range n {
		if _, err := st.Hit(ctx, limiter.Request{Key: clientKey(l, i), Limit: l, Cost: 1, Now: clock.Now()}); err != nil {
			tb.Fatal(err)
		}
	}
	after := heapInUse()
	if got := s.Len(); got != n {
		tb.Fatalf("%s: Len = %d after %d keys, want %d", strategy, got, n, n)
	}
	runtime.KeepAlive(s)
	return float64(after-before) / float64(n)
}

// BenchmarkBytesPerLiveKey reports the heap each live key costs, key string
// included, with 1,000,000 keys per strategy, as the B/key metric. Run it
// with -benchtime=1x: each iteration builds the million keys.
func BenchmarkBytesPerLiveKey(b *testing.B) {
	const keys = 1_000_000
	for _, strategy := range limiter.Strategies() {
		b.Run(strategy, func(b *testing.B) {
			var total float64
			n := 0
			for b.Loop() {
				total += liveKeyBytes(b, strategy, keys)
				n++
			}
			b.ReportMetric(total/float64(n), "B/key")
			b.ReportMetric(float64(len(clientKey(limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Minute}, keys-1))), "keylen")
		})
	}
}

// Memory follows live keys: once keys expire and are swept, the heap they
// took is given back.
func TestMemoryTracksLiveKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 50,000 keys; skipped with -short")
	}
	const n = 50_000
	ctx := context.Background()
	l := limiter.Limit{Amount: 10, Multiples: 1, Unit: limiter.Second}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := limiter.NewManualClock(t0)
	s, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := heapInUse()
	for _, strategy := range limiter.Strategies() {
		st := limiter.MustNewStrategy(strategy, s)
		for i := range n / 5 {
			if _, err := st.Hit(ctx, limiter.Request{Key: clientKey(l, i), Limit: l, Cost: 1, Now: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	full := heapInUse()
	if full < base+n*50 {
		t.Fatalf("heap grew %d bytes for %d keys; the measurement is off", full-base, n)
	}
	clock.Set(t0.Add(2 * time.Second)) // every key has expired
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d 10s after every key expired, want 0", s.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
	swept := heapInUse()
	kept := float64(int64(swept)-int64(base)) / float64(full-base)
	t.Logf("heap: %d bytes before, %d with %d live keys, %d after they expired and were swept (%.1f%% kept)",
		base, full, n, swept, 100*kept)
	if kept > 0.10 {
		t.Errorf("after every key expired and was swept the heap kept %.0f%% of what the keys took, want under 10%%", 100*kept)
	}
}
