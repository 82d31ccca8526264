package chilimit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// Regression: Handler as inline middleware (Group/With) in front of a Mount: it runs
// after the root routed to the mount and before chi's mountHandler, which
// computes the sub-router's path from chi's unexported routeParams. The
// look-ahead's Find overwrote them and undo does not restore them, so the
// sub-router routes "/" instead of "/users/42".
func TestInlineHandlerBeforeMount(t *testing.T) {
	for _, how := range []string{"Group", "With"} {
		t.Run(how, func(t *testing.T) {
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"),
				chilimit.WithKeyFunc(func(r *http.Request) string { return "k" + chi.URLParam(r, "id") }))
			sub := chi.NewRouter()
			sub.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "u"+chi.URLParam(r, "id")) })
			r := chi.NewRouter()
			if how == "Group" {
				r.Group(func(g chi.Router) { g.Use(lim.Handler); g.Mount("/api", sub) })
			} else {
				r.With(lim.Handler).Mount("/api", sub)
			}
			w := get(r, "/api/users/42")
			if w.Code != 200 || w.Body.String() != "u42" {
				t.Fatalf("GET /api/users/42 = %d %q, want 200 \"u42\"", w.Code, w.Body.String())
			}
		})
	}
}

// Regression: Handler not at the root (in a sub-router's Use stack, or inline): the
// look-ahead appends the whole route from the root on top of the patterns
// chi has already recorded, so the callbacks see a doubled pattern.
func TestHandlerBelowRootCallbacksSeeThePattern(t *testing.T) {
	for _, how := range []string{"sub-router", "inline"} {
		t.Run(how, func(t *testing.T) {
			var mu sync.Mutex
			var seen string
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("100/hour"),
				chilimit.WithKeyFunc(func(r *http.Request) string {
					mu.Lock()
					defer mu.Unlock()
					seen = chi.RouteContext(r.Context()).RoutePattern()
					return "k"
				}))
			r := chi.NewRouter()
			if how == "sub-router" {
				r.Route("/api", func(api chi.Router) { api.Use(lim.Handler); api.Get("/x/{id}", text("x")) })
			} else {
				r.With(lim.Handler).Get("/api/x/{id}", text("x"))
			}
			if w := get(r, "/api/x/1"); w.Code != 200 {
				t.Fatalf("GET = %d", w.Code)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen != "/api/x/{id}" {
				t.Fatalf("key function saw RoutePattern %q, want %q", seen, "/api/x/{id}")
			}
		})
	}
}

// Regression: A panic in a marker that borrowed the state through the handoff table
// (a writer wrapper without Unwrap between Handler and the marker) never
// calls giveBack: Handler's recover calls drop, which waits on the
// WaitGroup for good. The request never ends; Recoverer never answers.
func TestPanicInBorrowingMarkerEnds(t *testing.T) {
	lim, _ := newLimiter(t)
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, lim.Handler, hideWriter)
	r.With(lim.Limit("10/hour", chilimit.CostFunc(func(*http.Request) int64 { panic("cost func") }))).Get("/x", text("x"))
	if code := serveWithin(t, r, "/x", 3*time.Second); code != 500 {
		t.Fatalf("code %d, want 500", code)
	}
}

// Regression: The detached context lives in the pooled writer: once the request is
// over it is reset (parent = nil) and reused. A storage that keeps the
// context it was given (async audit, tracing spans, a goroutine that
// outlives the call) gets a nil-pointer panic, or another request's values.
// context.WithoutCancel's context stayed valid.
type keepCtxStorage struct {
	limiter.Storage
	mu   sync.Mutex
	ctxs []context.Context
}

func (s *keepCtxStorage) AcquireFixedWindow(ctx context.Context, r limiter.Request, elastic bool) (limiter.State, error) {
	s.mu.Lock()
	s.ctxs = append(s.ctxs, ctx)
	s.mu.Unlock()
	return s.Storage.AcquireFixedWindow(ctx, r, elastic)
}

type ctxKey struct{}

func TestDetachedContextOutlivesRequest(t *testing.T) {
	clock := limiter.NewManualClock(t0)
	store := &keepCtxStorage{Storage: newSharedMemory(t, clock)}
	lim, err := chilimit.New(chilimit.WithClock(clock), chilimit.WithStorage(store), chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	always := func(*http.Request, int) bool { return true }
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "v")))
		})
	})
	r.Use(lim.Handler)
	r.With(lim.Limit("10/hour", chilimit.DeductWhen(always))).Get("/x", text("x"))
	if w := get(r, "/x"); w.Code != 200 {
		t.Fatalf("GET /x = %d", w.Code)
	}
	store.mu.Lock()
	ctxs := append([]context.Context(nil), store.ctxs...)
	store.mu.Unlock()
	if len(ctxs) == 0 {
		t.Fatal("no storage call recorded")
	}
	for i, ctx := range ctxs {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("storage call %d: ctx.Value after the request panics: %v", i, p)
				}
			}()
			if v := ctx.Value(ctxKey{}); v != "v" {
				t.Errorf("storage call %d: ctx.Value = %v, want \"v\"", i, v)
			}
		}()
	}
}

// Regression: isOwnHandler is per limiter, but buildIndex's root-stack scan still
// takes any limiter's Handler for its own: another limiter's Handler before
// StripSlashes makes this one warn although its own Handler comes after.
func TestPathRewriteWarningOtherLimitersHandler(t *testing.T) {
	var buf syncBuffer
	l1, _ := newLimiter(t, chilimit.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	l2, _ := newLimiter(t)
	r := chi.NewRouter()
	r.Use(l2.Handler, middleware.StripSlashes, l1.Handler)
	r.Get("/x", text("x"))
	get(r, "/x")
	if strings.Contains(buf.String(), "path-rewriting middleware runs after") {
		t.Fatalf("l1 warns about StripSlashes after its Handler, though it runs before: %s", buf.String())
	}
}

// With two limiters on one router, each one's route markers cooperate with
// its own Handler wherever the other's Handler sits: a marker bound to the
// outer limiter, behind the inner limiter's Handler (and behind a writer
// without Unwrap), used to find the inner one's state, run on its own, and
// leave the outer limiter waiting for it to count the defaults, which were
// then never counted. An unbound marker belongs to the nearest Handler
// before it; the outer limiter counts its defaults itself.
func TestMarkersOfTwoLimitersKeepTheirDefaults(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		name := "unwrappable writers"
		if hidden {
			name = "writer without Unwrap"
		}
		t.Run(name, func(t *testing.T) {
			build := func(marker func(outer, inner *chilimit.Limiter) func(http.Handler) http.Handler) (http.Handler, *limiter.ManualClock) {
				outer, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"))
				inner, _ := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
				r := chi.NewRouter()
				r.Use(outer.Handler, inner.Handler)
				if hidden {
					r.Use(hideWriter)
				}
				// The inner limiter's marker makes both Handlers hand their
				// state to the markers behind the hidden writer.
				r.With(marker(outer, inner), inner.Limit("1000/hour")).Get("/x", text("x"))
				return r, clock
			}
			t.Run("outer's marker beside the defaults", func(t *testing.T) {
				h, clock := build(func(outer, _ *chilimit.Limiter) func(http.Handler) http.Handler {
					return outer.Limit("5/hour", chilimit.OverrideDefaults(false))
				})
				run(t, h, clock, concat(repeat(2, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "2 per 1 hour"}}))
			})
			t.Run("outer's marker for another method", func(t *testing.T) {
				h, clock := build(func(outer, _ *chilimit.Limiter) func(http.Handler) http.Handler {
					return outer.Limit("5/hour", chilimit.Methods(http.MethodPost))
				})
				run(t, h, clock, concat(repeat(2, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "2 per 1 hour"}}))
			})
			t.Run("outer's marker overriding the defaults", func(t *testing.T) {
				h, clock := build(func(outer, _ *chilimit.Limiter) func(http.Handler) http.Handler {
					return outer.Limit("3/hour")
				})
				run(t, h, clock, concat(repeat(3, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "3 per 1 hour"}}))
			})
			t.Run("unbound marker", func(t *testing.T) {
				h, clock := build(func(_, _ *chilimit.Limiter) func(http.Handler) http.Handler {
					return chilimit.Limit("5/hour")
				})
				run(t, h, clock, concat(repeat(2, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "2 per 1 hour"}}))
			})
		})
	}
}

// Another limiter's route limit placed before this limiter's Handler is
// not this limiter's to warn about: only its own markers, and unbound ones
// no other Handler takes, run before it misplaced.
func TestNoMisplacementWarningForAnotherLimitersMarker(t *testing.T) {
	var logs syncBuffer
	outer, _ := newLimiter(t)
	inner, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := chi.NewRouter()
	r.Use(outer.Handler, outer.Limit("100/hour"), chilimit.Limit("100/hour"), inner.Handler)
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429, body: "1 per 1 hour"}})
	if strings.Contains(logs.String(), "runs before the limiter's Handler") {
		t.Errorf("inner warns about the outer limiter's markers: %s", logs.String())
	}
}

// An outer Handler can end before an inner one: http.TimeoutHandler between
// them answers at its deadline while the inner chain still runs. The outer
// state leaves the handoff chain then, and the requests that reuse the
// route context (chi pools them) find only their own states: each limiter
// still counts its marker exactly.
func TestHandoffChainWhenOuterHandlerEndsFirst(t *testing.T) {
	outer, clock := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	inner, _ := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	release := make(chan struct{})
	var slow atomic.Bool
	slow.Store(true)
	r := chi.NewRouter()
	r.Use(outer.Handler)
	r.Use(func(next http.Handler) http.Handler { return http.TimeoutHandler(next, 20*time.Millisecond, "timeout") })
	r.Use(inner.Handler, hideWriter)
	r.With(outer.Limit("3/hour"), inner.Limit("1000/hour")).Get("/x", func(w http.ResponseWriter, r *http.Request) {
		if slow.CompareAndSwap(true, false) {
			<-release
		}
		_, _ = io.WriteString(w, "x")
	})
	if code := serveWithin(t, r, "/x", 5*time.Second); code != http.StatusServiceUnavailable {
		t.Fatalf("slow request = %d, want 503 from the TimeoutHandler", code)
	}
	close(release)
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 200}, {path: "/x", code: 429, body: "3 per 1 hour"}})
}

// One limiter's Handler installed on both sides of another's (a, b, a): the
// second a.Handler only passes the request on, so an unbound marker after
// it belongs to b, the nearest Handler that prepared the request, and a
// counts its defaults itself. a's index took the marker for a's, whose
// defaults then waited for it in vain.
func TestHandlerInstalledAroundAnotherLimiters(t *testing.T) {
	a, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	b, _ := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	r := chi.NewRouter()
	r.Use(a.Handler, b.Handler, a.Handler)
	r.With(chilimit.Limit("2/hour", chilimit.OverrideDefaults(false))).Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429, body: "1 per 1 hour"}})
}

// An unbound marker behind another limiter's route limit that runs on its
// own (no Handler of that limiter) still belongs to the Handler upstream:
// it found the nearer stand-alone state and left the Handler's defaults
// uncounted.
func TestUnboundMarkerBehindAnotherLimitersStandaloneLimit(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer hidden %v", hidden), func(t *testing.T) {
			a, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
			b, _ := newLimiter(t)
			r := chi.NewRouter()
			r.Use(a.Handler)
			if hidden {
				r.Use(hideWriter)
			}
			r.With(b.Limit("1000/hour"), chilimit.Limit("1000/hour", chilimit.OverrideDefaults(false))).Get("/x", text("x"))
			run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429, body: "1 per 1 hour"}})
		})
	}
}

// http.TimeoutHandler between two Handlers answers at its deadline while
// the inner chain runs on. When the outer Handler ends, the inner state
// leaves the handoff table with it: chi pools route contexts, and the next
// request routed with the same one (here one the inner limiter filters)
// took the stale state for its own, applying the inner limit under a
// cancelled context (a 500).
func TestStaleInnerStateNotTakenByNextRequest(t *testing.T) {
	outer, _ := newLimiter(t)
	inner, _ := newLimiter(t, chilimit.WithRequestFilter(func(r *http.Request) bool { return r.Header.Get("X-Skip") != "" }))
	var mu sync.Mutex
	var gate, done, entered chan struct{}
	var rctxs []*chi.Context
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			rctxs = append(rctxs, chi.RouteContext(r.Context()))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	r.Use(outer.Handler)
	r.Use(func(next http.Handler) http.Handler { return http.TimeoutHandler(next, 20*time.Millisecond, "timeout") })
	r.Use(inner.Handler, hideWriter)
	r.With(outer.Limit("1000/hour"), inner.Limit("1/hour")).Get("/x", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		g, d, e := gate, done, entered
		mu.Unlock()
		if r.Header.Get("X-Skip") == "" && g != nil {
			close(e)
			<-g
			defer close(d)
		}
		_, _ = io.WriteString(w, "x")
	})
	reused := 0
	// Until chi has reused the route context a few times, which it does in
	// some rounds only (sync.Pool).
	round := 0
	for ; round < 200 && reused < 5; round++ {
		addr := from(fmt.Sprintf("192.0.%d.%d:1234", round/250, round%250+1))
		mu.Lock()
		gate, done, entered = make(chan struct{}), make(chan struct{}), make(chan struct{})
		g, d, e := gate, done, entered
		rctxs = rctxs[:0]
		mu.Unlock()
		if w := get(r, "/x", addr); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("round %d: slow request = %d, want 503 from the TimeoutHandler", round, w.Code)
		}
		<-e // the slow request's markers ran
		w2 := get(r, "/x", addr, header("X-Skip", "1"))
		mu.Lock()
		same := len(rctxs) == 2 && rctxs[0] == rctxs[1]
		gate = nil
		mu.Unlock()
		close(g)
		<-d
		time.Sleep(5 * time.Millisecond) // the inner Handler ends
		if same {
			reused++
		}
		if w2.Code != http.StatusOK {
			t.Fatalf("round %d (route context reused: %v): request the inner limiter filters = %d %q, want 200", round, same, w2.Code, w2.Body.String())
		}
	}
	if reused == 0 {
		t.Fatal("chi never reused the route context: the test proved nothing")
	}
	t.Logf("route context reused in %d of %d rounds", reused, round)
}

// A middleware between two Handlers may write to the outer one's writer
// while the inner chain runs (a heartbeat that sends the headers early).
// The outer state's response has started, but the inner Handler's state
// must stay in the handoff table until that Handler ends: its markers,
// behind a writer without Unwrap, found none and ran on the process-wide
// limiter, keyed by the remote address instead of the inner limiter's key.
func TestInnerStateKeptWhileOuterResponseStarts(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer hidden %v", hidden), func(t *testing.T) {
			outer, clock := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
			inner, _ := newLimiter(t, chilimit.WithKeyFunc(func(*http.Request) string { return "everyone" }))
			heartbeat := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					beats := make(chan chan struct{})
					go func() {
						for done := range beats {
							w.WriteHeader(http.StatusOK) // headers out at once; body later
							_ = http.NewResponseController(w).Flush()
							close(done)
						}
					}()
					defer close(beats)
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), beatKey{}, beats)))
				})
			}
			slowAuth := func(next http.Handler) http.Handler { // takes a while: one beat
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					done := make(chan struct{})
					r.Context().Value(beatKey{}).(chan chan struct{}) <- done
					<-done
					next.ServeHTTP(w, r)
				})
			}
			r := chi.NewRouter()
			r.Use(outer.Handler, heartbeat, inner.Handler)
			if hidden {
				r.Use(hideWriter)
			}
			r.Use(slowAuth)
			r.With(outer.Limit("1000/hour", chilimit.OverrideDefaults(false)), chilimit.Limit("1/hour")).Get("/beat", text("x"))
			run(t, r, clock, []step{
				{path: "/beat", opts: []reqOpt{from("198.51.100.1:1")}, code: 200, body: "x"},
				// Another address, the same inner key. The heartbeat sent
				// 200 already: the breach shows in the body.
				{path: "/beat", opts: []reqOpt{from("198.51.100.2:1")}, code: 200, body: "1 per 1 hour"},
			})
		})
	}
}

// An unbound marker behind a disabled or filtering inner Handler limits
// nothing, as with writers that unwrap: behind one that does not, the
// handoff table held no state for it, and the process-wide limiter
// enforced it.
func TestUnboundMarkerBehindSkippingHandler(t *testing.T) {
	for i, opt := range []chilimit.Option{chilimit.WithEnabled(false),
		chilimit.WithRequestFilter(func(*http.Request) bool { return true })} {
		for _, hidden := range []bool{false, true} {
			t.Run(fmt.Sprintf("inner %d, writer hidden %v", i, hidden), func(t *testing.T) {
				outer, clock := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
				inner, _ := newLimiter(t, opt)
				r := chi.NewRouter()
				r.Use(outer.Handler, inner.Handler)
				if hidden {
					r.Use(hideWriter)
				}
				path := fmt.Sprintf("/skip-%d-%v", i, hidden)
				r.With(chilimit.Limit("1/hour")).Get(path, text("x"))
				addr := from("198.51.100.20:1")
				run(t, r, clock, repeat(3, step{path: path, opts: []reqOpt{addr}, code: 200}))
			})
		}
	}
}

// One limiter: a root route limit exempted on a sub-router is known to the
// route but not active; behind a writer without Unwrap it found no state
// (Handler recorded one only for routes with active markers) and the
// process-wide limiter enforced the limit the exemption removed.
func TestExemptedMarkerBehindWriterWithoutUnwrap(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer hidden %v", hidden), func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			if hidden {
				r.Use(hideWriter)
			}
			r.Use(chilimit.Limit("1/hour"))
			r.Route("/free", func(api chi.Router) {
				api.Use(chilimit.Exempt)
				api.Get(fmt.Sprintf("/%v", hidden), text("x"))
			})
			addr := from("198.51.100.30:1")
			run(t, r, clock, repeat(3, step{path: fmt.Sprintf("/free/%v", hidden), opts: []reqOpt{addr}, code: 200}))
		})
	}
}

type beatKey struct{}

// Another limiter's Handler the index cannot see, wrapped in a closure (as
// middleware.Maybe wraps one): the outer limiter's index counts the unbound
// marker as its own, and the marker works on the state of the Handler
// whose index counts it, not on the nearer one's. It took the inner
// Handler's, whose index knows it as the outer one's and so passed it by:
// the limit, which replaces the outer defaults, was never enforced.
func TestUnboundMarkerBehindHandlerInClosure(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		t.Run(fmt.Sprintf("writer hidden %v", hidden), func(t *testing.T) {
			outer, clock := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
			inner, _ := newLimiter(t)
			r := chi.NewRouter()
			r.Use(outer.Handler, func(next http.Handler) http.Handler { return inner.Handler(next) })
			if hidden {
				r.Use(hideWriter)
			}
			r.With(chilimit.Limit("1/hour")).Get("/x", text("x"))
			run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429, body: "1 per 1 hour"}})
		})
	}
}

// One limiter's Handler installed twice with a writer without Unwrap
// between: the second finds the first's state through the handoff table
// and passes the request on. It prepared the request again, counting the
// application limits twice.
func TestHandlerTwiceBehindWriterWithoutUnwrap(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithApplicationLimits("3/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler, hideWriter, lim.Handler)
	r.With(chilimit.Limit("1000/hour", chilimit.OverrideDefaults(false))).Get("/x", text("x"))
	run(t, r, clock, concat(repeat(3, step{path: "/x", code: 200}), []step{{path: "/x", code: 429, body: "3 per 1 hour"}}))
}

// A route marker the index cannot see (inside a closure), with the
// Handler's writer in plain view, works on that state directly: it borrowed
// it from the handoff table, which marks it lent, and the deduct-when
// deduction then came after the headers went out.
func TestUnindexedMarkerKeepsDeductionInHeaders(t *testing.T) {
	always := func(*http.Request, int) bool { return true }
	for _, closure := range []bool{false, true} {
		t.Run(fmt.Sprintf("closure %v", closure), func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithHeaders(true))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			mws := []func(http.Handler) http.Handler{lim.Limit("5/hour", chilimit.DeductWhen(always))}
			if closure {
				inner := chilimit.Limit("10/day", chilimit.OverrideDefaults(false))
				mws = append(mws, func(next http.Handler) http.Handler { return inner(next) })
			}
			r.With(mws...).Get("/x", text("x"))
			run(t, r, clock, []step{
				{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}},
				{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "3"}},
			})
		})
	}
}

// A route limit behind a writer wrapper the route index cannot see into (a
// TimeoutHandler around a mounted router or an endpoint) is counted by the
// limiter whose Handler runs first, with its key function, while the route
// also has a limit the index sees: two clients behind one address each get
// their own bucket.
func TestMarkerBehindAnOpaqueTimeoutHandler(t *testing.T) {
	for i, tt := range []struct {
		name  string
		build func(lim *chilimit.Limiter) http.Handler
	}{
		{"mount with a chain", func(lim *chilimit.Limiter) http.Handler {
			api := chi.NewRouter()
			api.With(chilimit.Limit("1/minute")).Get("/report", text("ok"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(chilimit.Limit("100/minute")).Mount("/api", http.TimeoutHandler(api, time.Minute, "timeout"))
			return r
		}},
		{"mount wrapped by a limit", func(lim *chilimit.Limiter) http.Handler {
			api := chi.NewRouter()
			api.With(chilimit.Limit("1/minute")).Get("/report", text("ok"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Mount("/api", chilimit.Limit("100/minute")(http.TimeoutHandler(api, time.Minute, "timeout")))
			return r
		}},
		{"endpoint", func(lim *chilimit.Limiter) http.Handler {
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(chilimit.Limit("100/minute")).Method(http.MethodGet, "/api/report",
				http.TimeoutHandler(chilimit.Limit("1/minute")(text("ok")), time.Minute, "timeout"))
			return r
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lim, _ := newLimiter(t, chilimit.WithKeyFunc(func(r *http.Request) string { return r.Header.Get("X-Client") }))
			h := tt.build(lim)
			// An address of its own per case: a limit that found no
			// limiter would count in the process-wide one, which outlives
			// the test.
			addr := from(fmt.Sprintf("198.18.9.%d:1", i+1))
			if w := get(h, "/api/report", addr, header("X-Client", "alice")); w.Code != http.StatusOK {
				t.Fatalf("alice's first request = %d, want 200", w.Code)
			}
			if w := get(h, "/api/report", addr, header("X-Client", "alice")); w.Code != http.StatusTooManyRequests {
				t.Errorf("alice's second request = %d, want 429", w.Code)
			}
			if w := get(h, "/api/report", addr, header("X-Client", "bob")); w.Code != http.StatusOK {
				t.Errorf("bob's first request, from alice's address = %d %q, want 200: the inner limit is not counted by the limiter", w.Code, w.Body.String())
			}
		})
	}
}
