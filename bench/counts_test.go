package bench_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// Every strategy decides a hit on a live key without allocating, in every
// scenario of BenchmarkCore, except moving-window while under its limit: its
// log holds one entry per allowed hit, so a log that is still growing
// towards the limit's amount reallocates now and then.
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
					allow(ctx, k)
				}
				i := 0
				got := testing.AllocsPerRun(1000, func() {
					allow(ctx, keys[i%len(keys)])
					i++
				})
				if got != 0 {
					t.Errorf("%s: %v allocs per hit, want 0", lib.name, got)
				}
			})
		}
	}
}

// headerPeers are the peer middlewares that set rate-limit headers, like
// ours with headers on. The hand-written x/time/rate middleware sets none.
var headerPeers = map[string]bool{"httprate": true, "ulule": true, "sethvargo": true, "throttled": true}

// lim.Handler with a route limit adds no allocation to a request, headers
// on or off, and so no more than any peer and fewer than every peer
// middleware that sets rate-limit headers.
func TestHTTPAddedAllocs(t *testing.T) {
	added := map[string]float64{}
	for _, rt := range routers[1:] {
		added[rt.name] = addedAllocs(t, rt.make(t))
	}
	t.Logf("allocations added to a request over bare chi: %v", added)
	ours := added["limits-go:headers-on"]
	if !raceEnabled {
		for _, name := range []string{"limits-go:headers-on", "limits-go:headers-off"} {
			if added[name] != 0 {
				t.Errorf("%s adds %v allocations to a request, want 0", name, added[name])
			}
		}
		for peer, n := range added {
			if !strings.HasPrefix(peer, "limits-go:") && ours > n {
				t.Errorf("limits-go:headers-on adds %v allocations, %s %v: want no more", ours, peer, n)
			}
		}
	}
	for peer := range headerPeers {
		if ours >= added[peer] {
			t.Errorf("limits-go:headers-on adds %v allocations, %s %v: want fewer", ours, peer, added[peer])
		}
	}
	if off := added["limits-go:headers-off"]; off > ours {
		t.Errorf("headers off add %v allocations, more than headers on (%v)", off, ours)
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
			allow(ctx, key) // loads the script: EVALSHA, then EVAL
			before := rt.n.Load()
			for range 10 {
				if !allow(ctx, key) {
					t.Fatalf("%s: hit rejected or failed", lib.name)
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
		serve := func() int {
			w := &discardWriter{h: make(http.Header)}
			h.ServeHTTP(w, newRequest())
			if w.status == 0 {
				return http.StatusOK
			}
			return w.status
		}
		serve() // loads the scripts
		before := rt.n.Load()
		if got := serve(); got != http.StatusOK {
			t.Fatalf("second request: status %d, want 200", got)
		}
		got := rt.n.Load() - before
		t.Logf("a request to a route limited by %q takes %d round trip(s)", twoLimits, got)
		if len(limits) != 2 || got != 1 {
			t.Errorf("a request to a route with %d limits took %d round trips, want 1", len(limits), got)
		}
	})
}
