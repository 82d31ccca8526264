package reliability

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// remaining peeks, through a storage of its own, at how many requests the
// client at addr has left under the default limit l of route /r.
func remaining(t testing.TB, s limiter.Storage, l, client string) int64 {
	t.Helper()
	return remainingPrefixed(t, s, "", l, client)
}

// remainingPrefixed is remaining for a limiter with a key prefix.
func remainingPrefixed(t testing.TB, s limiter.Storage, prefix, l, client string) int64 {
	t.Helper()
	lim, err := limiter.Parse(l)
	if err != nil {
		t.Fatal(err)
	}
	strat, err := limiter.NewStrategy(limiter.StrategyFixedWindow, s)
	if err != nil {
		t.Fatal(err)
	}
	key := limiter.Key(lim, prefix, "default", "/r", "", client)
	res, err := strat.Test(context.Background(), limiter.Request{Key: key, Limit: lim, Cost: 1, Now: time.Now()})
	if err != nil {
		t.Fatalf("peek %q: %v", key, err)
	}
	return res.Remaining
}

// verifyNoLeak checks, when the test's other cleanups have run, that the
// test left no goroutine behind.
func verifyNoLeak(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

// TestRedisReplyDropped cuts the connection after Redis ran a hit's script
// but before its reply reaches the client: the request fails or is
// served, but the hit is counted once, never twice (a client retrying the
// script after a lost reply would count it again), and no goroutine
// outlives the test.
func TestRedisReplyDropped(t *testing.T) {
	verifyNoLeak(t)
	p := servers.StartRedis(t)
	px := startProxy(t, p.Addr())
	lim, _ := newLimiter(t,
		chilimit.WithStorageURI("redis://"+px.addr()),
		chilimit.WithDefaultLimits("10 per minute"),
	)
	checkReplyDropped(t, p, px, lim)
}

// TestRedisReplyDroppedRetryingClient is TestRedisReplyDropped with a
// client of the caller's whose go-redis retries are on (MaxRetries left at
// its default), which limiter.Open would have turned off: the storage's
// script calls opt out of them.
func TestRedisReplyDroppedRetryingClient(t *testing.T) {
	verifyNoLeak(t)
	p := servers.StartRedis(t)
	px := startProxy(t, p.Addr())
	c := goredis.NewClient(&goredis.Options{Addr: px.addr()})
	t.Cleanup(func() { _ = c.Close() })
	lim, _ := newLimiter(t,
		chilimit.WithStorage(mustRedisStorage(t, c)),
		chilimit.WithDefaultLimits("10 per minute"),
	)
	checkReplyDropped(t, p, px, lim)
}

// checkReplyDropped drops the replies to three requests through lim, whose
// storage reaches p through px, and checks each was counted once.
func checkReplyDropped(t *testing.T, p *servers.Process, px *proxy, lim *chilimit.Limiter) {
	t.Helper()
	direct := openRedis(t, "redis://"+p.Addr())
	h := router(lim)
	// Load the scripts, so the reply dropped below is a script's result.
	if code := get(h, "10.0.0.9:1", "/r").Code; code != http.StatusOK {
		t.Fatalf("warm-up: %d, want 200", code)
	}
	const client = "10.0.0.1"
	const drops = 3
	var codes []int
	for range drops {
		px.dropNext.Store(1)
		codes = append(codes, get(h, client+":1", "/r").Code)
	}
	if n := px.dropped.Load(); n != drops {
		t.Fatalf("proxy dropped %d replies, want %d", n, drops)
	}
	// Each cut request ran its script exactly once: 3 counted.
	if got := remaining(t, direct, "10 per minute", client); got != 10-drops {
		t.Errorf("after %d requests whose reply was lost (statuses %v): remaining %d, want %d (each counted once)",
			drops, codes, got, 10-drops)
	}
	if got, want := statuses(h, client+":1", "/r", 10-drops+1), repeat(200, 10-drops, 429, 1); !slices.Equal(got, want) {
		t.Errorf("after the lost replies: %v, want %v", got, want)
	}
	for i, c := range codes {
		if c != http.StatusInternalServerError {
			t.Errorf("request %d whose reply was lost: %d, want 500 (the outcome is unknown)", i, c)
		}
	}
}

// TestRedisSlowReplies adds latency to every reply: below the storage
// timeout concurrent requests are limited exactly; above it requests fail
// at the timeout, each counted at most once, and no goroutine outlives the
// test.
func TestRedisSlowReplies(t *testing.T) {
	verifyNoLeak(t)
	p := servers.StartRedis(t)
	px := startProxy(t, p.Addr())
	direct := openRedis(t, "redis://"+p.Addr())
	const timeout = 400 * time.Millisecond
	lim, _ := newLimiter(t,
		chilimit.WithStorageURI("redis://"+px.addr()),
		chilimit.WithDefaultLimits("5 per minute"),
		chilimit.WithStorageTimeout(timeout),
	)
	h := router(lim)
	if code := get(h, "10.0.0.9:1", "/r").Code; code != http.StatusOK {
		t.Fatalf("warm-up: %d, want 200", code)
	}

	px.latency.Store(int64(100 * time.Millisecond))
	var wg sync.WaitGroup
	codes := make(chan int, 12)
	start := time.Now()
	for range 12 {
		wg.Go(func() { codes <- get(h, "10.0.0.1:1", "/r").Code })
	}
	wg.Wait()
	close(codes)
	took := time.Since(start)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200] != 5 || count[429] != 7 {
		t.Errorf("12 concurrent requests, 100ms replies, limit 5: %v, want 5×200 and 7×429", count)
	}
	if took < 100*time.Millisecond {
		t.Errorf("requests with 100ms replies took %v", took)
	}

	px.latency.Store(int64(timeout + 300*time.Millisecond))
	for i := range 3 {
		start := time.Now()
		code := get(h, "10.0.0.2:1", "/r").Code
		took := time.Since(start)
		if code != http.StatusInternalServerError || took < timeout || took > timeout+300*time.Millisecond {
			t.Errorf("request %d with replies slower than the timeout: %d after %v, want 500 after %v", i, code, took, timeout)
		}
	}
	px.latency.Store(0)
	// The three scripts ran (their replies came too late): counted once each.
	eventually(t, 5*time.Second, "the slow scripts counted", func() bool {
		return remaining(t, direct, "5 per minute", "10.0.0.2") <= 2
	})
	if got := remaining(t, direct, "5 per minute", "10.0.0.2"); got != 2 {
		t.Errorf("after 3 timed-out requests: remaining %d, want 2 (each counted once)", got)
	}
}
