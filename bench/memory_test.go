package bench_test

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// liveKeys is how many keys the memory scenario holds live.
const liveKeys = 1_000_000

// memoryQuota is the limit of the memory scenario: every key stays live for
// the whole measurement.
var memoryQuota = quota{amount: 10, window: time.Minute}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// bytesPerKey hits n distinct client keys once each on a fresh limiter of
// lib and returns the heap it grew by per key, key strings included.
func bytesPerKey(tb testing.TB, lib library, n int) float64 {
	ctx := context.Background()
	l := memoryQuota.limit()
	before := heapInUse()
	allow := lib.make(tb, memoryQuota)
	for i := range n {
		if !allow(ctx, clientKey(l, i)) {
			tb.Fatalf("%s: first hit on key %d rejected", lib.name, i)
		}
	}
	after := heapInUse()
	// The limiter must still hold every key when the heap is read.
	if !allow(ctx, clientKey(l, 0)) {
		tb.Fatalf("%s: second hit on key 0 rejected", lib.name)
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
