package reliability

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// Soak sizes: bulkKeys clients send one request each; knownKeys clients
// send knownHits requests each against a limit of knownLimit per window.
const (
	bulkKeys   = 100_000
	knownKeys  = 200
	knownHits  = 15
	knownLimit = 10
	soakLimit  = "10 per 5 seconds"
	workers    = 32
)

// soakResult is what a soak counted.
type soakResult struct {
	bulkOK, bulkOther int64
	known             [knownKeys][2]int64 // [200s, 429s]
	knownOther        int64
}

// soak sends bulkKeys + knownKeys×knownHits requests through h from
// workers goroutines. Each known client's requests sit together in the
// queue (between runs of bulk clients), so they all fall in one window of
// its limit however long the whole soak takes.
func soak(h http.Handler) *soakResult {
	type job struct {
		known int // -1: a bulk client
		addr  string
	}
	jobs := make(chan job, 4*workers)
	res := &soakResult{}
	var known [knownKeys][2]atomic.Int64
	var bulkOK, bulkOther, knownOther atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				code := get(h, j.addr, "/r").Code
				switch {
				case j.known < 0 && code == http.StatusOK:
					bulkOK.Add(1)
				case j.known < 0:
					bulkOther.Add(1)
				case code == http.StatusOK:
					known[j.known][0].Add(1)
				case code == http.StatusTooManyRequests:
					known[j.known][1].Add(1)
				default:
					knownOther.Add(1)
				}
			}
		})
	}
	per := bulkKeys / knownKeys
	for k := range knownKeys {
		for b := k * per; b < (k+1)*per; b++ {
			jobs <- job{-1, fmt.Sprintf("10.%d.%d.%d:1", 100+b>>16, b>>8&0xff, b&0xff)}
		}
		addr := fmt.Sprintf("10.99.%d.%d:1", k>>8, k&0xff)
		for range knownHits {
			jobs <- job{k, addr}
		}
	}
	close(jobs)
	wg.Wait()
	res.bulkOK, res.bulkOther, res.knownOther = bulkOK.Load(), bulkOther.Load(), knownOther.Load()
	for k := range known {
		res.known[k] = [2]int64{known[k][0].Load(), known[k][1].Load()}
	}
	return res
}

// check asserts the soak's exact totals.
func (r *soakResult) check(t *testing.T) {
	t.Helper()
	if r.bulkOK != bulkKeys || r.bulkOther != 0 || r.knownOther != 0 {
		t.Errorf("bulk clients: %d×200 and %d others, known clients: %d neither 200 nor 429; want %d×200 and no others",
			r.bulkOK, r.bulkOther, r.knownOther, bulkKeys)
	}
	var ok, limited int64
	for k, c := range r.known {
		ok += c[0]
		limited += c[1]
		if c != [2]int64{knownLimit, knownHits - knownLimit} {
			t.Errorf("known client %d: %d×200 and %d×429, want %d and %d", k, c[0], c[1], knownLimit, knownHits-knownLimit)
		}
	}
	if ok != knownKeys*knownLimit || limited != knownKeys*(knownHits-knownLimit) {
		t.Errorf("known clients in total: %d×200 and %d×429, want %d and %d",
			ok, limited, knownKeys*knownLimit, knownKeys*(knownHits-knownLimit))
	}
}

// heapAlloc returns the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Heap growth the soak must show (so the measure can fail) and the most it
// may keep once the keys have expired.
const (
	minSoakGrowth = 4 << 20
	maxLeftover   = 1 << 20
)

// TestSoakMemory sends 100,000 clients and a known set through lim.Handler
// on the memory storage: exact totals, then once the 5-second windows are
// over (on a manual clock) the sweeper empties the storage and the heap and
// goroutine counts return to their baseline.
func TestSoakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	goroutines := runtime.NumGoroutine()
	base := heapAlloc()
	// A manual clock keeps every window open until the soak is measured,
	// however slow the machine; then it jumps past them.
	clock := limiter.NewManualClock(time.Now())
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lim, _ := newLimiter(t, chilimit.WithStorage(mem), chilimit.WithClock(clock), chilimit.WithDefaultLimits(soakLimit))
	start := time.Now()
	res := soak(router(lim))
	t.Logf("memory soak: %d requests in %v", bulkKeys+knownKeys*knownHits, time.Since(start))
	res.check(t)
	if n := mem.Len(); n != bulkKeys+knownKeys {
		t.Errorf("live keys right after the soak: %d, want %d", n, bulkKeys+knownKeys)
	}
	peak := heapAlloc()
	if peak < base+minSoakGrowth {
		t.Errorf("heap after the soak %d B, baseline %d B: the soak's keys do not show", peak, base)
	}
	clock.Advance(6 * time.Second)
	eventually(t, 10*time.Second, "every key swept", func() bool { return mem.Len() == 0 })
	res = nil
	if left := heapAlloc(); left > base+maxLeftover {
		t.Errorf("heap once the keys expired: %d B, baseline %d B, peak %d B: %d B kept, want at most %d",
			left, base, peak, left-base, maxLeftover)
	} else {
		t.Logf("heap: baseline %d B, peak %d B, after expiry %d B", base, peak, left)
	}
	_ = lim.Close()
	_ = mem.Close()
	eventually(t, 5*time.Second, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestSoakRedis is TestSoakMemory on Redis: exact totals, every key gone
// from Redis once its window and grace are over, and the client's heap and
// goroutines back to their baseline once the limiter is closed.
func TestSoakRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	p := servers.StartRedis(t)
	goroutines := runtime.NumGoroutine()
	base := heapAlloc()
	lim, _ := newLimiter(t, chilimit.WithStorageURI("redis://"+p.Addr()+"?pool_size=64"), chilimit.WithDefaultLimits(soakLimit))
	start := time.Now()
	res := soak(router(lim))
	t.Logf("redis soak: %d requests in %v", bulkKeys+knownKeys*knownHits, time.Since(start))
	res.check(t)
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr()})
	defer c.Close()
	if n, err := c.DBSize(context.Background()).Result(); err != nil || n == 0 {
		t.Errorf("keys in Redis right after the soak: %d, %v; want some still live", n, err)
	}
	eventually(t, 20*time.Second, "every key expired in Redis", func() bool {
		n, err := c.DBSize(context.Background()).Result()
		return err == nil && n == 0
	})
	_ = lim.Close()
	if left := heapAlloc(); left > base+maxLeftover {
		t.Errorf("heap after the soak and Close: %d B, baseline %d B: %d B kept, want at most %d", left, base, left-base, maxLeftover)
	}
	eventually(t, 5*time.Second, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= goroutines })
}
