package memcached

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// TestContentionCountsNothing squeezes the retry bound down to one attempt
// so that concurrent compare-and-swap hits give up, and checks that a hit
// that gave up returned ErrContention and counted nothing: the state holds
// exactly the allowed hits.
func TestContentionCountsNothing(t *testing.T) {
	saved := maxAttempts
	maxAttempts = 1
	defer func() { maxAttempts = saved }()

	c := memcache.New(servers.Memcached(t))
	c.MaxIdleConns = 16
	defer c.Close()
	s, err := New(c, WithKeyPrefix("contention:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	l := limiter.Limit{Amount: 1000, Multiples: 1, Unit: limiter.Hour}
	for _, tc := range []struct {
		name    string
		acquire func(limiter.Request) (limiter.State, error)
		peek    func(limiter.Request) (limiter.State, error)
	}{
		{"token-bucket",
			func(r limiter.Request) (limiter.State, error) { return s.AcquireTokenBucket(t.Context(), r) },
			func(r limiter.Request) (limiter.State, error) { return s.PeekTokenBucket(t.Context(), r) }},
		{"moving-window",
			func(r limiter.Request) (limiter.State, error) { return s.AcquireMovingWindow(t.Context(), r) },
			func(r limiter.Request) (limiter.State, error) { return s.PeekMovingWindow(t.Context(), r) }},
	} {
		r := limiter.Request{Key: "contended-" + tc.name + "-" + now.String(), Limit: l, Cost: 1, Now: now}
		var mu sync.Mutex
		allowed, gaveUp := 0, 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 40 {
					st, err := tc.acquire(r)
					mu.Lock()
					switch {
					case errors.Is(err, ErrContention):
						gaveUp++
					case err != nil:
						t.Errorf("%s: unexpected error %v", tc.name, err)
					case st.Allowed:
						allowed++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		st, err := tc.peek(r)
		if err != nil {
			t.Fatal(err)
		}
		if st.Remaining != l.Amount-int64(allowed) {
			t.Errorf("%s: %d allowed, %d gave up; remaining %d, want %d", tc.name, allowed, gaveUp, st.Remaining, l.Amount-int64(allowed))
		}
		if gaveUp == 0 {
			t.Logf("%s: no call gave up; contention did not happen this run", tc.name)
		}
		t.Logf("%s: %d allowed, %d gave up with ErrContention", tc.name, allowed, gaveUp)
	}
}
