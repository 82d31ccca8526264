package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// Every strategy decides a hit on a live key without allocating, in every
// scenario of BenchmarkCore, counted exactly (runtime.MemStats over a full
// round of the keys, not testing.AllocsPerRun's truncated mean) — except
// moving-window in the two allowed scenarios: its log holds one entry per
// allowed hit, so a log still growing towards the limit's amount is
// reallocated now and then (BenchmarkCore reports the rate). The allocation
// counts of the report's other cells are the same code measured again.
func TestOurHitsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	for _, sc := range coreScenarios {
		for _, lib := range ourLibraries() {
			t.Run(sc.name+"/"+lib.name, func(t *testing.T) {
				if lib.algorithm == limiter.StrategyMovingWindow && sc.wantAllowed {
					t.Skip("moving-window: the log of a key under its limit grows with every hit")
				}
				allow := lib.make(t, sc.q)
				keys := benchKeys(sc.q.limit(), sc.keys)
				for _, k := range keys {
					if _, err := allow(ctx, k); err != nil {
						t.Fatal(err)
					}
				}
				n := max(1000, len(keys))
				i := 0
				var failed failures
				got := exactMallocs(n, func() {
					if allowed, err := allow(ctx, keys[i]); err != nil || allowed != sc.wantAllowed {
						failed.add(fmt.Errorf("hit on %q = %v, %v; want %v", keys[i], allowed, err, sc.wantAllowed))
					}
					if i++; i == len(keys) {
						i = 0
					}
				})
				failed.check(t, lib.name)
				if got != 0 {
					t.Errorf("%s: %d hits allocated %d objects, want 0", lib.name, n, got)
				}
			})
		}
	}
}

// headerPeers are the peer middlewares that set rate-limit headers, like
// ours with headers on. The hand-written x/time/rate middleware sets none.
var headerPeers = map[string]bool{"httprate": true, "ulule": true, "sethvargo": true, "throttled": true}

// What lim.Handler with a route limit adds to a request's allocations
// over bare chi, counted exactly, in each scenario of BenchmarkHTTP:
//
//   - headers off, one client: nothing;
//   - headers off, 10,000 clients: at most one, the storage key chilimit
//     builds for a client its key cache does not hold;
//   - headers on: at most a tenth of an allocation more than headers off
//     (the header values are carved from blocks shared by dozens of
//     requests), and fewer than every peer middleware that sets rate-limit
//     headers.
//
// The hand-written x/time/rate middleware (no headers) adds none, fewer than
// ours: the report judges that, this test does not assert it.
func TestHTTPAddedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random, so pooled objects are allocated again; make test runs this test without -race")
	}
	for _, sc := range httpScenarios {
		t.Run(sc.name, func(t *testing.T) {
			bare, n := requestMallocs(routers[0].make(t), sc.clients)
			added := map[string]float64{}
			for _, rt := range routers[1:] {
				total, _ := requestMallocs(rt.make(t), sc.clients)
				added[rt.name] = float64(total-bare) / float64(n)
			}
			t.Logf("bare chi: %d allocations in %d requests; the others add per request: %v", bare, n, added)
			on, off := added["limits-go:headers-on"], added["limits-go:headers-off"]
			if sc.clients == 1 && off != 0 {
				t.Errorf("headers off add %v allocations per request, want exactly 0", off)
			}
			if off > 1 {
				t.Errorf("headers off add %v allocations per request, want at most 1", off)
			}
			if on-off >= 0.1 {
				t.Errorf("headers on add %v allocations per request, headers off %v: want under 0.1 more", on, off)
			}
			for peer := range headerPeers {
				if on >= added[peer] {
					t.Errorf("limits-go:headers-on adds %v allocations per request, %s %v: want fewer", on, peer, added[peer])
				}
			}
		})
	}
}

// On Redis every strategy decides a hit in exactly one round trip, and a
// request to a route with two limits costs one round trip too: chilimit
// sends all of a request's limits to storage/redis as one batch.
func TestRedisRoundTrips(t *testing.T) {
	addr := servers.Redis(t)
	ctx := context.Background()
	for _, lib := range ourRedisLibraries() {
		t.Run(lib.name, func(t *testing.T) {
			var rt roundTrips
			allow := lib.make(t, redisClient(t, addr, &rt))
			key := clientKey(redisQuota.limit(), 1)
			// The first hit loads the script: EVALSHA, then EVAL.
			if _, err := allow(ctx, key); err != nil {
				t.Fatal(err)
			}
			before := rt.n.Load()
			for range 10 {
				if allowed, err := allow(ctx, key); err != nil || !allowed {
					t.Fatalf("%s: hit = %v, %v; want allowed", lib.name, allowed, err)
				}
			}
			if got := rt.n.Load() - before; got != 10 {
				t.Errorf("%s: 10 hits took %d round trips, want 10", lib.name, got)
			}
		})
	}
	t.Run("chilimit/"+twoLimits, func(t *testing.T) {
		limits, err := limiter.ParseMany(twoLimits)
		if err != nil {
			t.Fatal(err)
		}
		var rt roundTrips
		c := redisClient(t, addr, &rt)
		h := ourRedisRouter(t, c, twoLimits)
		w := &discardWriter{h: make(http.Header)}
		if got := serve(h, w, newRequest()); got != http.StatusOK { // loads the scripts
			t.Fatalf("first request: status %d, want 200", got)
		}
		before := rt.n.Load()
		if got := serve(h, w, newRequest()); got != http.StatusOK {
			t.Fatalf("second request: status %d, want 200", got)
		}
		got := rt.n.Load() - before
		t.Logf("a request to a route limited by %q takes %d round trip(s)", twoLimits, got)
		if len(limits) != 2 || got != 1 {
			t.Errorf("a request to a route with %d limits took %d round trips, want 1", len(limits), got)
		}
	})
}
