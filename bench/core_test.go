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

// clientKey is the key of client i under l on /api/items.
func clientKey(l limiter.Limit, i int) string {
	return limiter.Key(l, "", "/api/items", clientIP(i))
}

// clientIP is the address of client i: 10.x.y.z.
func clientIP(i int) string {
	return "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
}

// BenchmarkCore measures one in-process decision per library, named
// Core/<scenario>/<serial|parallel>/<library>. Ours reads
// limiter.SystemClock, the clock chilimit uses by default, per hit, as the
// peers read theirs inside. An error from any library fails the benchmark.
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
			if _, err := allow(ctx, k); err != nil {
				b.Fatalf("%s: warm-up hit: %v", lib.name, err)
			}
		}
	}
	var wrong atomic.Int64
	var failed failures
	runOps(b, parallel, func(worker int) func() {
		// Each worker starts at its own key, so with many keys they spread
		// over the key space.
		i := worker * 7919 % len(keys)
		return func() {
			allowed, err := allow(ctx, keys[i])
			if err != nil {
				failed.add(err)
			} else if allowed != sc.wantAllowed {
				wrong.Add(1)
			}
			if i++; i == len(keys) {
				i = 0
			}
		}
	})
	failed.check(b, lib.name)
	n := wrong.Load()
	if n == 0 {
		return
	}
	if strings.HasPrefix(lib.name, "limits-go:") {
		b.Fatalf("%s: %d of the hits were not %s", lib.name, n, map[bool]string{true: "allowed", false: "rejected"}[sc.wantAllowed])
	}
	// A peer that answers wrongly without an error (throttled, now and then,
	// when goroutines race on one key) is reported, not stopped: the report
	// shows the rate.
	b.ReportMetric(float64(n)/float64(b.N), "wrong/op")
}
