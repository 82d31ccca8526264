package reliability

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	_ "github.com/limits-go/limits/storage/memcached"
)

// TestMemcachedRestarted restarts memcached (every count is lost) for each
// strategy it supports: while it is down requests get 500, and once it is
// back every client's limit starts over cleanly and holds exactly. The
// limiter's clock, by which the memcached storage decides, stands still
// (see frozenClock).
func TestMemcachedRestarted(t *testing.T) {
	p := servers.StartMemcached(t)
	for i, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			lim, _ := newLimiter(t,
				chilimit.WithStorageURI("memcached://"+p.Addr()+"?key_prefix="+strategy),
				chilimit.WithStrategy(strategy),
				frozenClock(),
				chilimit.WithDefaultLimits("3 per minute"),
			)
			h := router(lim)
			client := "10.2.0." + itoa(i+1) + ":1"
			if got, want := statuses(h, client, "/r", 5), repeat(200, 3, 429, 2); !slices.Equal(got, want) {
				t.Fatalf("before the restart: %v, want %v", got, want)
			}
			p.Kill()
			if got, want := statuses(h, client, "/r", 2), repeat(500, 2, 0, 0); !slices.Equal(got, want) {
				t.Errorf("memcached down: %v, want %v", got, want)
			}
			p.Restart()
			// Connections left to the old process are replaced before a
			// request goes out on them.
			if code := get(h, "10.2.9."+itoa(i+1)+":1", "/r").Code; code != http.StatusOK {
				t.Errorf("first request after the restart: %d, want 200", code)
			}
			if got, want := statuses(h, client, "/r", 5), repeat(200, 3, 429, 2); !slices.Equal(got, want) {
				t.Errorf("after the restart: %v, want %v (a clean new window)", got, want)
			}
		})
	}
}

// TestMemcachedHungDeadline pauses memcached (SIGSTOP): a request gives up
// at the limiter's storage timeout with 500, or is let through at that
// timeout with swallow-errors, and both work again once it resumes.
func TestMemcachedHungDeadline(t *testing.T) {
	p := servers.StartMemcached(t)
	const timeout = 200 * time.Millisecond
	for _, swallow := range []bool{false, true} {
		name, want := "500", http.StatusInternalServerError
		if swallow {
			name, want = "swallowed", http.StatusOK
		}
		t.Run(name, func(t *testing.T) {
			lim, _ := newLimiter(t,
				chilimit.WithStorageURI("memcached://"+p.Addr()+"?key_prefix=hung-"+name),
				chilimit.WithDefaultLimits("2 per minute"),
				chilimit.WithStorageTimeout(timeout),
				chilimit.WithSwallowErrors(swallow),
			)
			h := router(lim)
			if code := get(h, "10.7.0.1:1", "/r").Code; code != http.StatusOK {
				t.Fatalf("before the pause: %d, want 200", code)
			}
			p.Pause()
			for i := range 3 {
				start := time.Now()
				code := get(h, "10.7.0.2:1", "/r").Code
				took := time.Since(start)
				if code != want || took < timeout || took > timeout+300*time.Millisecond {
					t.Errorf("request %d with memcached paused: %d after %v, want %d after %v", i, code, took, want, timeout)
				}
			}
			p.Resume()
			eventually(t, 5*time.Second, "memcached answering after the pause", func() bool {
				return get(h, "10.7.0.3:1", "/r").Code == http.StatusOK
			})
			if got, want := statuses(h, "10.7.0.1:1", "/r", 2), []int{200, 429}; !slices.Equal(got, want) {
				t.Errorf("after the pause, the first client: %v, want %v (its count kept)", got, want)
			}
		})
	}
}

// TestMemcachedReplyDropped cuts the connection after memcached ran the
// write of a hit (an increment, or a compare-and-swap) but before its
// reply arrives, for each strategy: the request fails, and the hit is
// counted exactly once. The limiter's clock stands still (see frozenClock).
func TestMemcachedReplyDropped(t *testing.T) {
	verifyNoLeak(t)
	p := servers.StartMemcached(t)
	writes := map[string]string{
		limiter.StrategyFixedWindow:              "incr ",
		limiter.StrategyFixedWindowElasticExpiry: "incr ",
		limiter.StrategySlidingWindowCounter:     "incr ",
		limiter.StrategyMovingWindow:             "cas ",
		limiter.StrategyTokenBucket:              "cas ",
	}
	for i, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			px := startProxyMatching(t, p.Addr(), writes[strategy])
			lim, _ := newLimiter(t,
				chilimit.WithStorageURI("memcached://"+px.addr()+"?key_prefix=drop-"+strategy),
				chilimit.WithStrategy(strategy),
				frozenClock(),
				chilimit.WithDefaultLimits("5 per minute"),
			)
			h := router(lim)
			client := "10.9.0." + itoa(i+1) + ":1"
			// The first hit creates the state; the second writes to it.
			if code := get(h, client, "/r").Code; code != http.StatusOK {
				t.Fatalf("first hit: %d, want 200", code)
			}
			px.dropNext.Store(1)
			first := get(h, client, "/r").Code
			dropped := px.dropped.Load()
			px.dropNext.Store(0)
			rest := statuses(h, client, "/r", 6)
			t.Logf("%s: reply dropped %d times; first request %d, then %v", strategy, dropped, first, rest)
			if first != http.StatusInternalServerError {
				t.Errorf("request whose reply was lost: %d, want 500", first)
			}
			if dropped != 1 {
				t.Fatalf("replies dropped: %d, want 1", dropped)
			}
			// The write ran before its reply was cut: it counts, once.
			if want := repeat(200, 3, 429, 3); !slices.Equal(rest, want) {
				t.Errorf("after one hit and one lost reply: %v, want %v (the lost one counted once)", rest, want)
			}
		})
	}
}
