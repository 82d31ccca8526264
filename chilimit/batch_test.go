package chilimit_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// batchStorage is a memory storage that also runs batches, as the Redis
// storage does in one round trip. It counts single-key acquisitions and
// batches, and fails every call while down is set.
type batchStorage struct {
	*memory.Storage
	batches, singles atomic.Int64
	down             atomic.Bool
}

var errBatchDown = errors.New("storage down")

func (s *batchStorage) AcquireBatch(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
	s.batches.Add(1)
	if s.down.Load() {
		return 0, errBatchDown
	}
	return limiter.AcquireEach(ctx, s.Storage, strategy, ops, states)
}

func (s *batchStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	s.singles.Add(1)
	if s.down.Load() {
		return limiter.State{}, errBatchDown
	}
	return s.Storage.AcquireFixedWindow(ctx, r, elastic)
}

func (s *batchStorage) Check(ctx context.Context) error {
	if s.down.Load() {
		return errBatchDown
	}
	return nil
}

func newBatchLimiter(t *testing.T, opts ...chilimit.Option) (*chilimit.Limiter, *batchStorage, *limiter.ManualClock) {
	t.Helper()
	clock := limiter.NewManualClock(t0)
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	bs := &batchStorage{Storage: mem}
	l, err := chilimit.New(append([]chilimit.Option{chilimit.WithClock(clock), chilimit.WithStorage(bs),
		chilimit.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(); _ = mem.Close() })
	return l, bs, clock
}

// TestBatchOneStorageOperationPerRequest checks that a request meeting
// several limits makes one storage operation when the storage runs batches,
// with the same outcome as limit-by-limit evaluation.
func TestBatchOneStorageOperationPerRequest(t *testing.T) {
	l, bs, clock := newBatchLimiter(t, chilimit.WithDefaultLimits("100/day"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.With(chilimit.Limit("3/second;5/hour", chilimit.OverrideDefaults(false))).Get("/two", text("ok"))

	steps := []step{
		{path: "/two", code: 200, headers: map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2"}},
		{path: "/two", code: 200},
		{path: "/two", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "0"}},
		{path: "/two", code: 429, body: "3 per 1 second"},
		{path: "/two", advance: time.Second, code: 200, headers: map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2"}},
		{path: "/two", code: 200, headers: map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "1"}},
		// The hour limit is now full (5): the rejected request above counted
		// nothing against it.
		{path: "/two", code: 429, body: "5 per 1 hour"},
	}
	run(t, r, clock, steps)
	if got, want := bs.batches.Load(), int64(len(steps)); got != want {
		t.Errorf("AcquireBatch calls = %d, want one per request (%d)", got, want)
	}
	if got := bs.singles.Load(); got != 0 {
		t.Errorf("single-key acquisitions = %d, want 0 (all went through the batch)", got)
	}
}

// TestBatchPolicyListsUncheckedLimits checks that a batch stopped by its
// first limit still lists the later ones in RateLimit-Policy, as
// limit-by-limit evaluation does.
func TestBatchPolicyListsUncheckedLimits(t *testing.T) {
	l, bs, clock := newBatchLimiter(t, chilimit.WithHeaders(true), chilimit.WithIETFHeaders(true))
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.With(chilimit.Limit("1/second;5/hour;100/day")).Get("/", text("ok"))
	policy := `"1 per 1 second";q=1;w=1, "5 per 1 hour";q=5;w=3600, "100 per 1 day";q=100;w=86400`
	run(t, r, clock, []step{
		{path: "/", code: 200, headers: map[string]string{"RateLimit-Policy": policy}},
		{path: "/", code: 429, headers: map[string]string{"RateLimit-Policy": policy, "RateLimit": `"1 per 1 second";r=0;t=1`}},
	})
	if bs.batches.Load() != 2 {
		t.Fatalf("AcquireBatch calls = %d, want 2", bs.batches.Load())
	}
}

// TestBatchFailureFallsBack checks that a failing batch hands the request to
// the in-memory fallback without counting it twice.
func TestBatchFailureFallsBack(t *testing.T) {
	l, bs, clock := newBatchLimiter(t, chilimit.WithInMemoryFallbackEnabled(true))
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.With(chilimit.Limit("2/second;10/hour")).Get("/x", text("ok"))

	bs.down.Store(true)
	run(t, r, clock, []step{
		{path: "/x", code: 200},
		{path: "/x", code: 200},
		{path: "/x", code: 429, body: "2 per 1 second"},
	})
	if got := bs.batches.Load(); got != 1 {
		t.Errorf("AcquireBatch calls while down = %d, want 1 (then the fallback serves)", got)
	}
}

// TestBatchCancelledRequestKeepsStorage checks that a batch cut short by
// its own request's end (the client hung up) leaves the storage in use.
func TestBatchCancelledRequestKeepsStorage(t *testing.T) {
	l, bs, clock := newBatchLimiter(t, chilimit.WithInMemoryFallback("1/hour"),
		chilimit.WithHealthCheckBackoff(time.Hour, time.Hour))
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.With(chilimit.Limit("5/second;10/hour")).Get("/x", text("ok"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx))
	// Under the fallback's 1/hour the second of these would be rejected.
	run(t, r, clock, repeat(3, step{path: "/x", code: 200}))
	if got := bs.batches.Load(); got != 4 {
		t.Errorf("AcquireBatch calls = %d, want 4: every request still goes to the storage", got)
	}
}

// TestBatchStorageErrorWithoutFallback checks the 500 of a failing batch.
func TestBatchStorageErrorWithoutFallback(t *testing.T) {
	l, bs, clock := newBatchLimiter(t)
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.With(chilimit.Limit("2/second;10/hour")).Get("/x", text("ok"))
	bs.down.Store(true)
	run(t, r, clock, []step{{path: "/x", code: http.StatusInternalServerError}})
}

// hungStorage never answers a hit: it waits for the call's deadline.
type hungStorage struct{ *memory.Storage }

func (s hungStorage) AcquireFixedWindow(ctx context.Context, _ limiter.Request, _ bool) (limiter.State, error) {
	<-ctx.Done()
	return limiter.State{}, ctx.Err()
}

func (s hungStorage) Check(context.Context) error { return errBatchDown }

// TestFallbackAfterStorageTimeout checks that the request whose storage call
// ran out of time is still served by the in-memory fallback: the fallback
// must not inherit the expired deadline of the storage call.
func TestFallbackAfterStorageTimeout(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	l, err := chilimit.New(chilimit.WithClock(clock), chilimit.WithStorage(hungStorage{mem}),
		chilimit.WithStorageTimeout(20*time.Millisecond), chilimit.WithInMemoryFallbackEnabled(true),
		chilimit.WithDefaultLimits("2/minute"), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	r := chi.NewRouter()
	r.Use(l.Handler)
	r.Get("/x", text("ok"))
	run(t, r, clock, []step{
		{path: "/x", code: 200}, // times out on the storage, served by the fallback
		{path: "/x", code: 200},
		{path: "/x", code: 429, body: "2 per 1 minute"},
	})
}

// pingsButFails is a memory storage that answers health checks while its
// hits fail, as Redis out of memory, or a Cluster that lost a master,
// answers PING.
type pingsButFails struct{ *memory.Storage }

func (s pingsButFails) AcquireFixedWindow(context.Context, limiter.Request, bool) (limiter.State, error) {
	return limiter.State{}, errors.New("OOM command not allowed when used memory > 'maxmemory'")
}

func (pingsButFails) Check(context.Context) error { return nil }

// A storage that passes its health checks but fails every hit is left
// and re-entered again and again; each switch soon after a recovery waits
// twice as long as the last, up to the back-off's maximum, and the
// switches are logged once per log interval.
func TestFallbackFlapDamped(t *testing.T) {
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	var logs syncBuffer
	lim, err := chilimit.New(chilimit.WithStorage(pingsButFails{mem}), chilimit.WithDefaultLimits("1000/hour"),
		chilimit.WithInMemoryFallbackEnabled(true), chilimit.WithHealthCheckBackoff(time.Millisecond, 50*time.Millisecond),
		chilimit.WithLogInterval(time.Hour), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", text("ok"))
	const msg = "storage failed; using the in-memory fallback"
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond || strings.Count(logs.String(), msg) < 2 {
		if code := get(r, "/").Code; code != 200 {
			t.Fatalf("GET / = %d, want 200 from the fallback", code)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("no second switch to the fallback in 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	// Undamped, a 1ms check would switch every millisecond or so: some
	// 300 times. Damped: 1, 2, 4 … 50ms apart, about a dozen.
	if n := strings.Count(logs.String(), msg); n > 30 {
		t.Errorf("%d switches to the fallback in %v, want the back-off to space them out", n, time.Since(start).Round(time.Millisecond))
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"chilimit: "+msg); n != 1 {
		t.Errorf("%d switches logged at WARN, want 1 per log interval:\n%s", n, logs.String())
	}
}
