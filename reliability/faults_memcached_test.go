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
// back every client's limit starts over cleanly and holds exactly.
func TestMemcachedRestarted(t *testing.T) {
	p := servers.StartMemcached(t)
	for i, strategy := range limiter.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			lim, _ := newLimiter(t,
				chilimit.WithStorageURI("memcached://"+p.Addr()+"?key_prefix="+strategy),
				chilimit.WithStrategy(strategy),
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
			// Connections to the old process are gone; the first request
			// may still meet one of them.
			eventually(t, 5*time.Second, "memcached answering after the restart", func() bool {
				return get(h, "10.2.9."+itoa(i+1)+":1", "/r").Code == http.StatusOK
			})
			if got, want := statuses(h, client, "/r", 5), repeat(200, 3, 429, 2); !slices.Equal(got, want) {
				t.Errorf("after the restart: %v, want %v (a clean new window)", got, want)
			}
		})
	}
}
