package chilimit

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/limiter"
)

// A marker created per request, inside a handler, is a new marker each
// time: it is still enforced, but the limiter remembers at most
// maxUnindexed of them, rebuilds its index at most once for each of those,
// and warns once that markers belong with the router.
func TestMarkerCreatedPerRequest(t *testing.T) {
	logs := new(bytes.Buffer)
	lim, err := New(WithClock(limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))), WithDefaultLimits("1000000/hour"),
		WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/quota", func(w http.ResponseWriter, req *http.Request) {
		lim.Limit("700/hour")(ok).ServeHTTP(w, req)
	})
	const n = 1000
	rebuilds, allowed := 0, 0
	prev := lim.idx.Load()
	for range n {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/quota", nil))
		if w.Code == http.StatusOK {
			allowed++
		}
		if idx := lim.idx.Load(); idx == nil || idx != prev {
			rebuilds++
			prev = idx
		}
	}
	held := 0
	lim.unindexed.Range(func(any, any) bool { held++; return true })
	if held > maxUnindexed {
		t.Errorf("after %d requests the limiter remembers %d markers, want at most %d", n, held, maxUnindexed)
	}
	if rebuilds > maxUnindexed+1 {
		t.Errorf("%d requests dropped or rebuilt the index %d times, want at most %d", n, rebuilds, maxUnindexed+1)
	}
	if allowed != 700 {
		t.Errorf("%d requests through a per-request 700/hour marker: %d allowed, want 700", n, allowed)
	}
	if c := strings.Count(logs.String(), "not per request"); c != 1 {
		t.Errorf("%d warnings about per-request markers, want 1; log:\n%s", c, logs)
	}
}
