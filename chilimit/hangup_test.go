package chilimit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// A client that hangs up must not escape a limit: its request's context is
// cancelled, which the storage calls made on it would answer with an error.

// requestWithCancel returns a request whose context the handler can
// cancel, as a client hanging up mid-request cancels it.
func requestWithCancel(method, path string) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return httptest.NewRequestWithContext(ctx, method, path, nil), cancel
}

// A deduct-when deduction is made after the handler ran even if the client
// hung up meanwhile: else a brute-forcer closing each connection is never
// counted by a "deduct failed logins" limit.
func TestDeductWhenCountsAClientThatHangsUp(t *testing.T) {
	lim, _ := newLimiter(t)
	failedLogin := func(_ *http.Request, status int) bool { return status >= 400 }
	var cancelNow atomic.Pointer[context.CancelFunc]
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1/hour", chilimit.DeductWhen(failedLogin))).Post("/login", func(w http.ResponseWriter, _ *http.Request) {
		(*cancelNow.Load())() // the client disconnects while the handler runs
		w.WriteHeader(http.StatusUnauthorized)
	})
	for i := range 3 {
		req, cancel := requestWithCancel(http.MethodPost, "/login")
		cancelNow.Store(&cancel)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if want := map[bool]int{true: 401, false: 429}[i == 0]; w.Code != want {
			t.Fatalf("failed login %d of a client that hangs up = %d, want %d", i+1, w.Code, want)
		}
	}
}

// Meta limits count a breach even when the client hangs up as it is
// found: a client must not breach limits for free by disconnecting.
func TestMetaLimitCountsAClientThatHangsUp(t *testing.T) {
	var cancelNow atomic.Pointer[context.CancelFunc]
	hangUp := func(*http.Request, *chilimit.RateLimitError) {
		if c := cancelNow.Load(); c != nil {
			(*c)()
		}
	}
	lim, clock := newLimiter(t, chilimit.WithMetaLimits("1/hour"), chilimit.WithOnBreach(hangUp))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1/hour")).Get("/x", text("x"))
	r.With(chilimit.Limit("100/hour")).Get("/y", text("y"))
	run(t, r, clock, []step{{path: "/x", code: 200}})
	req, cancel := requestWithCancel(http.MethodGet, "/x")
	cancelNow.Store(&cancel)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 429 {
		t.Fatalf("second /x = %d, want 429", w.Code)
	}
	cancelNow.Store(nil)
	// The breach counted against the meta limit, so /y is refused too.
	run(t, r, clock, []step{{path: "/y", code: 429}})
}

// With errors swallowed, a request whose client hung up before it was
// counted does not reach the handler: swallowing covers storage failures,
// and this request was never counted.
func TestSwallowErrorsStopsAnUncountedRequest(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithSwallowErrors(true))
	var ran atomic.Int32
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Post("/sms", func(http.ResponseWriter, *http.Request) { ran.Add(1) })
	for range 3 {
		req, cancel := requestWithCancel(http.MethodPost, "/sms")
		cancel() // the client sent the request and hung up
		r.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for requests never counted, want 0", n)
	}
}

// With deduct-when, X-RateLimit-Remaining counts the request's own
// deduction, as Flask-Limiter's headers do (it deducts before it writes
// them): "Remaining: 1" is not followed by a 429. The deduction is made
// when the status is known, before the headers go out, or after the
// handler when it wrote nothing.
func TestDeductWhenHeadersCountTheDeduction(t *testing.T) {
	always := func(*http.Request, int) bool { return true }
	for name, h := range map[string]http.HandlerFunc{
		"writes":          text("x"),
		"writes a status": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) },
		"writes nothing":  func(http.ResponseWriter, *http.Request) {},
	} {
		for _, standalone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/standalone=%v", name, standalone), func(t *testing.T) {
				lim, clock := newLimiter(t, chilimit.WithHeaders(true))
				r := chi.NewRouter()
				if !standalone {
					r.Use(lim.Handler)
				}
				r.With(lim.Limit("2/minute", chilimit.DeductWhen(always))).Get("/x", h)
				code := map[string]int{"writes": 200, "writes a status": 201, "writes nothing": 200}[name]
				run(t, r, clock, []step{
					{path: "/x", code: code, headers: map[string]string{"X-RateLimit-Remaining": "1"}},
					{path: "/x", code: code, headers: map[string]string{"X-RateLimit-Remaining": "0"}},
					{path: "/x", code: 429},
				})
			})
		}
	}
}

// hangupStorage is a memory storage whose client hangs up during an
// acquisition, once armed: it cancels the request's context first.
type hangupStorage struct {
	*memory.Storage
	armed  atomic.Bool
	cancel atomic.Pointer[context.CancelFunc]
}

func (s *hangupStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	if s.armed.Load() {
		(*s.cancel.Load())()
		if err := ctx.Err(); err != nil {
			return limiter.State{}, err
		}
	}
	return s.Storage.AcquireFixedWindow(ctx, r, elastic)
}

// A deduction outlives a hang-up also with no storage timeout
// (WithStorageTimeout(0)) on a storage that is not in-process.
func TestDeductWhenHangUpWithoutStorageTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{time.Second, 0} {
		t.Run(fmt.Sprint("timeout ", timeout), func(t *testing.T) {
			clock := limiter.NewManualClock(t0)
			store := &hangupStorage{Storage: newSharedMemory(t, clock)}
			lim, err := chilimit.New(chilimit.WithClock(clock), chilimit.WithStorage(store), chilimit.WithStorageTimeout(timeout),
				chilimit.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = lim.Close() })
			failedLogin := func(_ *http.Request, status int) bool { return status >= 400 }
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(lim.Limit("1/hour", chilimit.DeductWhen(failedLogin))).Post("/login", func(w http.ResponseWriter, _ *http.Request) {
				store.armed.Store(true) // the client hangs up during the deduction
				w.WriteHeader(http.StatusUnauthorized)
			})
			for i := range 3 {
				store.armed.Store(false)
				ctx, cancel := context.WithCancel(context.Background())
				store.cancel.Store(&cancel)
				w := httptest.NewRecorder()
				r.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodPost, "/login", nil))
				if want := map[bool]int{true: 401, false: 429}[i == 0]; w.Code != want {
					t.Fatalf("failed login %d = %d, want %d", i+1, w.Code, want)
				}
			}
		})
	}
}

// Behind a writer that hides the limiter's (no Unwrap), the headers of a
// deduct-when limit count the request's own deduction, as without it: the
// limit found Handler's state through the handoff table and gave it back
// before the handler ran.
func TestDeductWhenHeadersBehindAHidingWriter(t *testing.T) {
	always := func(*http.Request, int) bool { return true }
	for _, hide := range []bool{false, true} {
		t.Run(fmt.Sprint("hidden=", hide), func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithHeaders(true))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			if hide {
				r.Use(func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(hidingWriter{w}, r) })
				})
			}
			r.With(lim.Limit("2/minute", chilimit.DeductWhen(always))).Get("/x", text("x"))
			run(t, r, clock, []step{
				{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "1"}},
				{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "0"}},
				{path: "/x", code: 429},
			})
		})
	}
}

// Concurrent attempts are only tested against a deduct-when limit, none
// counted until one ends, so they all reach the handler (as documented on
// DeductWhen); a limit beside it that counts every request bounds them.
func TestDeductWhenConcurrentAttempts(t *testing.T) {
	const attempts = 12
	failedLogin := func(_ *http.Request, status int) bool { return status >= 400 }
	for _, tc := range []struct {
		name    string
		limits  []func(http.Handler) http.Handler
		reached int
	}{
		{"deduct-when alone", []func(http.Handler) http.Handler{chilimit.Limit("3/minute", chilimit.DeductWhen(failedLogin))}, attempts},
		{"with a cap", []func(http.Handler) http.Handler{chilimit.Limit("3/minute", chilimit.DeductWhen(failedLogin)), chilimit.Limit("5/minute")}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, _ := newLimiter(t)
			var inHandler atomic.Int32
			release := make(chan struct{})
			var releaseOnce sync.Once
			defer releaseOnce.Do(func() { close(release) }) // even when a check fails first
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(tc.limits...).Post("/login", func(w http.ResponseWriter, _ *http.Request) {
				inHandler.Add(1)
				<-release // a slow password check: every attempt is in flight at once
				w.WriteHeader(http.StatusUnauthorized)
			})
			codes := make(chan int, attempts)
			for range attempts {
				go func() { codes <- serve(r, http.MethodPost, "/login").Code }()
			}
			// The rejected attempts answer at once; the others wait in the
			// handler until every attempt has been decided.
			rejected := 0
			for int(inHandler.Load())+rejected < attempts {
				select {
				case code := <-codes:
					if code != http.StatusTooManyRequests {
						t.Fatalf("attempt answered %d before the handler was released, want 429", code)
					}
					rejected++
				case <-time.After(time.Millisecond):
				}
			}
			releaseOnce.Do(func() { close(release) })
			for range attempts - rejected {
				if code := <-codes; code != http.StatusUnauthorized {
					t.Fatalf("attempt that reached the handler answered %d, want 401", code)
				}
			}
			if got := int(inHandler.Load()); got != tc.reached {
				t.Fatalf("%d of %d concurrent attempts reached the handler, want %d", got, attempts, tc.reached)
			}
		})
	}
}

// A request whose own deadline passed before its limits were checked (chi's
// middleware.Timeout ahead of slow middleware) is answered 504, as the
// Timeout middleware would, not 500: its client is still there, and
// nothing failed in the storage. It does not reach the handler.
func TestDeadlinePassedBeforeTheCheck(t *testing.T) {
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // past the deadline
			next.ServeHTTP(w, r)
		})
	}
	for _, tc := range []struct {
		name    string
		swallow bool
		where   string // where the limit runs: "handler" (defaults) or "route"
	}{
		{"defaults in Handler", false, "handler"},
		{"route limit", false, "route"},
		{"route limit, swallowing errors", true, "route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []chilimit.Option{chilimit.WithSwallowErrors(tc.swallow)}
			if tc.where == "handler" {
				opts = append(opts, chilimit.WithDefaultLimits("10/hour"))
			}
			lim, _ := newLimiter(t, opts...)
			var reached atomic.Int32
			r := chi.NewRouter()
			r.Use(middleware.Timeout(time.Millisecond), slow, lim.Handler)
			h := func(w http.ResponseWriter, _ *http.Request) { reached.Add(1) }
			if tc.where == "route" {
				r.With(slow, chilimit.Limit("10/hour")).Get("/", h)
			} else {
				r.Get("/", h)
			}
			w := get(r, "/")
			if w.Code != http.StatusGatewayTimeout || reached.Load() != 0 {
				t.Fatalf("GET / = %d %q with the handler reached %d times, want 504 and 0", w.Code, w.Body.String(), reached.Load())
			}
		})
	}
}

// hangingStorage is a memory storage whose fixed-window calls, while
// hang is set, hang until their context ends, counting them; fail makes
// the calls on limits of amount 100 fail at once instead.
type hangingStorage struct {
	*memory.Storage
	hang, fail atomic.Bool
	calls      atomic.Int32
}

func (s *hangingStorage) wait(ctx context.Context, r limiter.Request) error {
	if s.fail.Load() && r.Limit.Amount == 100 {
		return errors.New("connection refused")
	}
	if !s.hang.Load() {
		return nil
	}
	s.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (s *hangingStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	if err := s.wait(ctx, r); err != nil {
		return limiter.State{}, err
	}
	return s.Storage.AcquireFixedWindow(ctx, r, elastic)
}

func (s *hangingStorage) PeekFixedWindow(ctx context.Context, r limiter.Request) (limiter.State, error) {
	if err := s.wait(ctx, r); err != nil {
		return limiter.State{}, err
	}
	return s.Storage.PeekFixedWindow(ctx, r)
}

// With errors swallowed, a hung storage costs a request one storage
// timeout, not one per step (application limits in Handler, a route limit
// behind other middleware, a deduct-when limit after the handler): once a
// call has failed, the request's later steps skip the storage.
func TestSwallowedHangCostsOneTimeout(t *testing.T) {
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	hs := &hangingStorage{Storage: mem}
	hs.hang.Store(true)
	lim, err := chilimit.New(chilimit.WithStorage(hs), chilimit.WithSwallowErrors(true), chilimit.WithStorageTimeout(20*time.Millisecond),
		chilimit.WithApplicationLimits("100/hour"), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	other := func(next http.Handler) http.Handler { return next }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(other, chilimit.Limit("10/hour"), other, chilimit.Limit("5/hour", chilimit.DeductWhen(func(*http.Request, int) bool { return true }))).
		Get("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	for i := range 3 {
		before := hs.calls.Load()
		if code := get(r, "/").Code; code != http.StatusUnauthorized {
			t.Fatalf("request %d = %d, want the handler's 401 (errors swallowed)", i, code)
		}
		if n := hs.calls.Load() - before; n != 1 {
			t.Fatalf("request %d waited on %d storage calls, want 1", i, n)
		}
	}
}

// Only a timeout makes a request skip its later storage steps: after a
// storage error that came at once (one Cluster master down), the other
// limits are still counted; and after a timeout the over-limit cache,
// in process, still rejects a client it knows to be over.
func TestSwallowedErrorsSkipOnlyAfterATimeout(t *testing.T) {
	mem, err := memory.New()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	hs := &hangingStorage{Storage: mem}
	lim, err := chilimit.New(chilimit.WithStorage(hs), chilimit.WithSwallowErrors(true), chilimit.WithStorageTimeout(20*time.Millisecond),
		chilimit.WithApplicationLimits("100/hour"), chilimit.WithOverLimitCache(true), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	other := func(next http.Handler) http.Handler { return next }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(other, chilimit.Limit("1/hour")).Get("/", text("ok"))
	hs.fail.Store(true) // the application limit's calls fail at once
	if a, b := get(r, "/").Code, get(r, "/").Code; a != 200 || b != 429 {
		t.Fatalf("with the application limit failing fast: %d, %d; want 200, 429 (the route limit still counted)", a, b)
	}
	hs.fail.Store(false)
	hs.hang.Store(true) // now the application limit times out
	if code := get(r, "/").Code; code != 429 {
		t.Fatalf("after a timeout, a client the over-limit cache knows = %d, want 429", code)
	}
}
