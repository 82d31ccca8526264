package chilimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
)

// A request through lim.Handler and a limit adds no allocation to what
// chi itself makes, headers on or off (issue 8's HTTP target).
func TestRequestAddsNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random, so pooled writers are reallocated")
	}
	bare := chi.NewRouter()
	bare.Get("/users/{id}", text("ok"))
	always := func(*http.Request, int) bool { return true }
	for _, tt := range []struct {
		name    string
		headers bool
		route   bool // a route limit; else the default limit alone
		opts    []chilimit.Option
		limit   []chilimit.LimitOption
		wrap    bool // lim.Handler(r) instead of r.Use(lim.Handler)
	}{
		{"route limit, headers on", true, true, nil, nil, false},
		{"route limit, headers off", false, true, nil, nil, false},
		{"default limit, headers on", true, false, nil, nil, false},
		// Deductions after the handler outlive the request's context.
		{"route limit with deduct-when", true, true, nil, []chilimit.LimitOption{chilimit.DeductWhen(always)}, false},
		// A key function of the user's sees the route, looked up ahead.
		{"default limit, own key function", true, false,
			[]chilimit.Option{chilimit.WithKeyFunc(func(r *http.Request) string { return chi.URLParam(r, "id") })}, nil, false},
		// Wrapped around the router, Handler adds the route context chi
		// then does not.
		{"wrapping the router, route limit, headers on", true, true, nil, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lim, _ := newLimiter(t, append([]chilimit.Option{chilimit.WithHeaders(tt.headers), chilimit.WithDefaultLimits("1000000000/day")}, tt.opts...)...)
			r := chi.NewRouter()
			var h http.Handler = r
			if tt.wrap {
				h = lim.Handler(r)
			} else {
				r.Use(lim.Handler)
			}
			if tt.route {
				r.With(chilimit.Limit("1000000000/hour", tt.limit...)).Get("/users/{id}", text("ok"))
			} else {
				r.Get("/users/{id}", text("ok"))
			}
			// Each request must be counted: the limit's remaining falls.
			first, second := serveDiscard(h), serveDiscard(h)
			if tt.headers && (first == "" || first == second) {
				t.Fatalf("X-RateLimit-Remaining = %q then %q, want two different values", first, second)
			}
			if !tt.headers && (first != "" || second != "") {
				t.Fatalf("X-RateLimit-Remaining = %q, %q with headers off, want none", first, second)
			}
			added := requestAllocs(h) - requestAllocs(bare)
			if added != 0 {
				t.Errorf("GET /users/42 makes %v allocations more than bare chi, want 0", added)
			}
		})
	}
}

// serveDiscard serves GET /users/42 into a fresh discarding writer and
// returns the X-RateLimit-Remaining it got.
func serveDiscard(h http.Handler) string {
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/users/42", nil))
	return w.h.Get("X-RateLimit-Remaining")
}

// requestAllocs returns the average allocations of GET /users/42 through h.
func requestAllocs(h http.Handler) float64 {
	req := httptest.NewRequest(http.MethodGet, "/users/42", nil)
	w := &discardWriter{h: make(http.Header)}
	return testing.AllocsPerRun(500, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
}

// The header values of a response stay as they were set while the
// limiter serves later requests: pooled writers never reuse the memory of
// values they handed out.
func TestHeaderValuesOutliveTheRequest(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("100000/hour")).Get("/", text("ok"))
	type kept struct {
		h    http.Header
		want map[string]string
	}
	var responses []kept
	for i := range 500 { // many times what one arena block holds
		w := get(r, "/", from("192.0.2."+itoa(int64(i%7))+":1234"))
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: GET / = %d, want 200", i, w.Code)
		}
		want := make(map[string]string)
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			want[k] = strings.Clone(w.Header().Get(k))
		}
		responses = append(responses, kept{w.Header(), want})
	}
	for i, resp := range responses {
		for k, v := range resp.want {
			if got := resp.h.Get(k); got != v {
				t.Fatalf("response %d: %s = %q after later requests, was %q", i, k, got, v)
			}
		}
	}
	if got := responses[7].want["X-RateLimit-Remaining"]; got != "99998" {
		t.Errorf("8th request (the 2nd of 192.0.2.0): X-RateLimit-Remaining = %q, want 99998", got)
	}
}

// A handler that adds to a rate-limit header changes its own response
// only.
func TestHeaderAddDoesNotReachOtherValues(t *testing.T) {
	lim, _ := newLimiter(t, chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("10/hour")).Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-RateLimit-Limit", "extra")
	})
	w := get(r, "/")
	h := w.Header()
	if got, want := h.Values("X-RateLimit-Limit"), []string{"10", "extra"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("X-RateLimit-Limit = %q, want %q", got, want)
	}
	if got := h.Get("X-RateLimit-Remaining"); got != "9" {
		t.Errorf("X-RateLimit-Remaining = %q, want 9", got)
	}
}

// allocsOf is the allocations of one request with method and path through h.
func allocsOf(h http.Handler, method, path string) float64 {
	req := httptest.NewRequest(method, path, nil)
	return testing.AllocsPerRun(200, func() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	})
}

// A HEAD that finds no route is never cached, and its look-up follows the
// HEAD's way router by router: it costs no more allocations than a GET
// 404, however many routes the routers hold, with Handler in the root's
// stack and with Handler and a limit wrapped around the root.
func TestHead404CostsLikeGet404(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random, so pooled writers are reallocated")
	}
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprint("wrapped ", wrapped), func(t *testing.T) {
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("1000000/hour"))
			r := chi.NewRouter()
			var h http.Handler = r
			if wrapped {
				h = lim.Handler(chilimit.Limit("1000000/hour", chilimit.OverrideDefaults(false))(r))
			} else {
				r.Use(lim.Handler)
			}
			bare := chi.NewRouter()
			for _, rt := range []chi.Router{r, bare} {
				for i := range 200 {
					rt.Get(fmt.Sprintf("/r%d/{id}", i), text("x"))
				}
				rt.Route("/api", func(api chi.Router) { api.Get("/items", text("items")) })
			}
			get := allocsOf(h, http.MethodGet, "/api/nope") - allocsOf(bare, http.MethodGet, "/api/nope")
			head := allocsOf(h, http.MethodHead, "/api/nope") - allocsOf(bare, http.MethodHead, "/api/nope")
			t.Logf("added allocations: GET 404 %v, HEAD 404 %v", get, head)
			if head > get+10 {
				t.Errorf("HEAD 404 adds %v allocations, GET 404 %v", head, get)
			}
		})
	}
}

// An error handler (which sees the route on a rejection) adds no
// allocation to an allowed request, with Handler below the root too.
func TestErrorHandlerAddsNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random")
	}
	eh := func(w http.ResponseWriter, _ *http.Request, _ error) {
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}
	build := func(mw func(http.Handler) http.Handler) http.Handler {
		r, users := chi.NewRouter(), chi.NewRouter()
		if mw != nil {
			users.Use(mw)
		}
		users.Get("/{id}", text("ok"))
		r.Mount("/users", users)
		return r
	}
	bare := build(nil)
	for _, withEH := range []bool{false, true} {
		opts := []chilimit.Option{chilimit.WithHeaders(true), chilimit.WithDefaultLimits("1000000000/day")}
		if withEH {
			opts = append(opts, chilimit.WithErrorHandler(eh))
		}
		lim, _ := newLimiter(t, opts...)
		h := build(lim.Handler)
		if first, second := serveDiscard(h), serveDiscard(h); first == "" || first == second {
			t.Fatalf("X-RateLimit-Remaining %q then %q", first, second)
		}
		if added := requestAllocs(h) - requestAllocs(bare); added != 0 {
			t.Errorf("error handler %v: GET /users/42 makes %v allocations more than bare chi, want 0", withEH, added)
		}
	}
}

// A request counted under five limits, two in Handler (the application
// limits) and three in the route's marker, adds no allocation: the record
// of what a request counted holds only route limits, which alone share
// buckets.
func TestFiveCountedLimitsAddNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random")
	}
	lim, _ := newLimiter(t, chilimit.WithHeaders(true),
		chilimit.WithApplicationLimits("1000000000/day;1000000000/hour"))
	r, bare := chi.NewRouter(), chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1000000000/second;1000000000/minute;1000000000/month")).Get("/users/{id}", text("ok"))
	bare.Get("/users/{id}", text("ok"))
	if first, second := serveDiscard(r), serveDiscard(r); first == "" || first == second {
		t.Fatalf("X-RateLimit-Remaining %q then %q, want two different values", first, second)
	}
	if added := requestAllocs(r) - requestAllocs(bare); added != 0 {
		t.Errorf("GET /users/42 makes %v allocations more than bare chi, want 0", added)
	}
}
