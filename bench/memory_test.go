package bench_test

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// liveKeys is how many keys the memory scenario holds live.
const liveKeys = 1_000_000

// memoryQuota is the limit of the memory scenario: 10 hits a day. No run
// comes near a day, so no key expires while the heap is measured (and no
// sweeper, ours every 10 seconds, removes one), and a token bucket takes
// 2.4 hours to refill a token, so the check after the measurement can
// exhaust key 0.
var memoryQuota = quota{amount: 10, window: 24 * time.Hour}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// bytesPerKey hits n distinct client keys once each on a fresh limiter of
// lib and returns the heap it grew by per key, key strings included. Then it
// proves the limiter held the keys when the heap was read: key 0, hit once,
// takes at most amount-1 more hits before a rejection, where a limiter that
// had dropped it would allow amount.
func bytesPerKey(tb testing.TB, lib library, n int) float64 {
	ctx := context.Background()
	l := memoryQuota.limit()
	start := time.Now()
	before := heapInUse()
	allow := lib.make(tb, memoryQuota)
	for i := range n {
		if allowed, err := allow(ctx, clientKey(l, i)); err != nil || !allowed {
			tb.Fatalf("%s: first hit on key %d = %v, %v; want allowed", lib.name, i, allowed, err)
		}
	}
	after := heapInUse()
	if took, refill := time.Since(start), memoryQuota.window/time.Duration(memoryQuota.amount); took > refill/2 {
		tb.Fatalf("%s: %d keys took %v, so key 0 may have been refilled (a token every %v): the retention check would not hold", lib.name, n, took, refill)
	}
	key := clientKey(l, 0)
	for more := int64(0); ; more++ {
		allowed, err := allow(ctx, key)
		if err != nil {
			tb.Fatalf("%s: hit on key 0: %v", lib.name, err)
		}
		if !allowed {
			break
		}
		if more == memoryQuota.amount-1 {
			tb.Fatalf("%s: key 0 took %d more hits after the heap was read, over its limit of %d: the limiter no longer held it", lib.name, more+1, memoryQuota.amount)
		}
	}
	runtime.KeepAlive(allow)
	return float64(int64(after)-int64(before)) / float64(n)
}

// BenchmarkMemory reports the heap each live key costs (B/key), with
// 1,000,000 keys of about 50 bytes each hit once, named
// Memory/1000000-keys/heap/<library>. Run it with -benchtime=1x: each
// iteration builds the million keys.
func BenchmarkMemory(b *testing.B) {
	for _, lib := range append(ourLibraries(), peerLibraries()...) {
		b.Run("1000000-keys/heap/"+lib.name, func(b *testing.B) {
			var total float64
			n := 0
			for b.Loop() {
				total += bytesPerKey(b, lib, liveKeys)
				n++
			}
			b.ReportMetric(total/float64(n), "B/key")
		})
	}
}
