package bench_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// A coreScenario is one shape of traffic for the in-process decision
// benchmarks.
type coreScenario struct {
	name string
	// keys is how many distinct keys the hits go round.
	keys int
	// q is the limit; warm is how many hits each key takes before the timer
	// starts.
	q    quota
	warm int
	// wantAllowed is what every timed hit must answer.
	wantAllowed bool
}

var coreScenarios = []coreScenario{
	// A limit no benchmark reaches: every hit is allowed.
	{name: "one-key-allowed", keys: 1, q: quota{amount: 1_000_000_000, window: time.Hour}, warm: 1, wantAllowed: true},
	{name: "10000-keys-allowed", keys: 10_000, q: quota{amount: 1_000_000_000, window: time.Hour}, warm: 1, wantAllowed: true},
	// One hit per hour, taken before the timer starts: every hit is
	// rejected.
	{name: "one-key-rejected", keys: 1, q: quota{amount: 1, window: time.Hour}, warm: 1, wantAllowed: false},
}

// benchKeys returns n storage keys as chilimit builds them for client
// addresses under one route, about 50 bytes each. Every library gets the
// same strings.
func benchKeys(l limiter.Limit, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = clientKey(l, i)
	}
	return keys
}

// clientKey is the key of client i, 10.x.y.z, under l on /api/items.
func clientKey(l limiter.Limit, i int) string {
	ip := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	return limiter.Key(l, "", "/api/items", ip)
}

// BenchmarkCore measures one in-process decision per library, named
// Core/<scenario>/<serial|parallel>/<library>. Ours reads
// limiter.SystemClock, the clock chilimit uses by default, per hit, as the
// peers read theirs inside.
func BenchmarkCore(b *testing.B) {
	libs := append(ourLibraries(), peerLibraries()...)
	for _, sc := range coreScenarios {
		for _, parallel := range []bool{false, true} {
			mode := "serial"
			if parallel {
				mode = "parallel"
			}
			for _, lib := range libs {
				b.Run(sc.name+"/"+mode+"/"+lib.name, func(b *testing.B) {
					benchDecide(b, lib, sc, parallel)
				})
			}
		}
	}
}

func benchDecide(b *testing.B, lib library, sc coreScenario, parallel bool) {
	ctx := context.Background()
	allow := lib.make(b, sc.q)
	keys := benchKeys(sc.q.limit(), sc.keys)
	for _, k := range keys {
		for range sc.warm {
			allow(ctx, k)
		}
	}
	var wrong atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		i := 0
		for b.Loop() {
			if allow(ctx, keys[i]) != sc.wantAllowed {
				wrong.Add(1)
			}
			if i++; i == len(keys) {
				i = 0
			}
		}
	} else {
		var worker atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine starts at its own key, so with many keys they
			// spread over the key space.
			i := int(worker.Add(1)*7919) % len(keys)
			for pb.Next() {
				if allow(ctx, keys[i]) != sc.wantAllowed {
					wrong.Add(1)
				}
				if i++; i == len(keys) {
					i = 0
				}
			}
		})
	}
	b.StopTimer()
	n := wrong.Load()
	if n == 0 {
		return
	}
	if strings.HasPrefix(lib.name, "limits-go:") {
		b.Fatalf("%s: %d of the hits were not %s", lib.name, n, map[bool]string{true: "allowed", false: "rejected"}[sc.wantAllowed])
	}
	// A peer that answers wrongly (throttled, now and then, when goroutines
	// race on one key) is reported, not stopped: the report shows the rate.
	b.ReportMetric(float64(n)/float64(b.N), "wrong/op")
}
