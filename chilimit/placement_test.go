package chilimit_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// The tests in this file pin down where a limit is counted and what it
// sees: route limits run where they are declared, after the middleware
// before them, as the package documentation says.

type userKey struct{}

// withUser is an authentication middleware: it puts X-User in the context.
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, r.Header.Get("X-User"))))
	})
}

func userOf(r *http.Request) string { u, _ := r.Context().Value(userKey{}).(string); return u }

// The limiter's key function runs again for a route limit behind
// middleware that changed the context, so it sees the user: application
// limits, counted in Handler before authentication, must not fix the key
// for the route's limits.
func TestRouteLimitKeySeesLaterContext(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithKeyFunc(userOf), chilimit.WithApplicationLimits("1000/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Use(withUser)
	r.With(chilimit.Limit("1/hour")).Get("/me", text("me"))
	run(t, r, clock, []step{
		{path: "/me", opts: []reqOpt{header("X-User", "alice")}, code: 200},
		{path: "/me", opts: []reqOpt{header("X-User", "bob")}, code: 200},
		{path: "/me", opts: []reqOpt{header("X-User", "alice")}, code: 429},
	})
}

// rejectAll is an authentication middleware that lets nobody in.
func rejectAll(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

// A route limit declared before an authentication middleware counts the
// requests that middleware rejects, also when the route carries more
// limits after it: each marker counts where it is declared. Before, the
// route's last marker counted them all, and never ran for a rejected
// request, so brute-force protection placed before auth did nothing.
func TestLimitBeforeAuthCountsRejectedRequests(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1000/hour"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("2/minute")) // anti brute force, before auth
		r.Use(rejectAll)
		r.With(chilimit.Limit("100/day")).Get("/x", text("x"))
	})
	run(t, r, clock, []step{{path: "/api/x", code: 401}, {path: "/api/x", code: 401}, {path: "/api/x", code: 429}})
}

// Markers with nothing between them are still counted as one set, smallest
// window first, so a request refused by the smaller window does not use up
// the larger one; a middleware between them splits the set.
func TestAdjacentMarkersCountTogether(t *testing.T) {
	passThrough := func(next http.Handler) http.Handler { return next }
	for _, tc := range []struct {
		name  string
		chain func(chi.Router) chi.Router
		// after a refusal by 1/second, the request a second later meets
		// 2/hour: still free when the refusal did not count against it.
		wantLater int
	}{
		{"adjacent", func(r chi.Router) chi.Router {
			return r.With(chilimit.Limit("2/hour"), chilimit.Limit("1/second"))
		}, 200},
		{"split by a middleware", func(r chi.Router) chi.Router {
			return r.With(chilimit.Limit("2/hour"), passThrough, chilimit.Limit("1/second"))
		}, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			r.Use(lim.Handler)
			tc.chain(r).Get("/x", text("x"))
			run(t, r, clock, []step{
				{path: "/x", code: 200},
				{path: "/x", code: 429, body: "1 per 1 second"},
				{path: "/x", advance: time.Second, code: tc.wantLater},
			})
		})
	}
}

// A route limit installed before the limiter's Handler cannot take over the
// route's defaults, which Handler would otherwise leave to it: Handler
// counts them itself, and the misplacement is logged.
func TestMarkerBeforeHandler(t *testing.T) {
	var logs syncBuffer
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := chi.NewRouter()
	r.Use(chilimit.Limit("100/hour", chilimit.OverrideDefaults(false)))
	r.Use(lim.Handler)
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200}, {path: "/x", code: 429, body: "1 per 1 hour"}})
	if !strings.Contains(logs.String(), "runs before the limiter's Handler") {
		t.Errorf("logs = %q, want a warning about the marker's place", logs.String())
	}
}

// Without lim.Handler, a limit on a sub-router counts per route, as under
// Handler and as Flask-Limiter's blueprint limits count per endpoint, and
// never counts a 404. It used chi's pattern at the marker, "/api/*",
// shared by every route of the sub-router and by its 404s.
func TestStandaloneSubRouterLimit(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Route("/api", func(r chi.Router) {
		r.Use(lim.Limit("1/hour"))
		r.Get("/a", text("a"))
		r.Get("/b", text("b"))
	})
	r.With(lim.Limit("1/hour")).Get("/c", text("c"))
	run(t, r, clock, []step{
		{path: "/api/nope", code: 404}, {path: "/api/nope", code: 404},
		{path: "/api/a", code: 200}, {path: "/api/b", code: 200},
		{path: "/api/a", code: 429}, {path: "/api/b", code: 429},
		{method: http.MethodPost, path: "/api/a", code: 405},
		{path: "/c", code: 200}, {path: "/c", code: 429},
	})
}

// Without lim.Handler, stacked limits report the smallest window in the
// headers, as under Handler; the inner marker used to overwrite them with
// its own.
func TestStandaloneStackedHeaders(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.With(lim.Limit("10/second"), lim.Limit("100/day")).Get("/x", text("x"))
	r.With(lim.Limit("100/day"), lim.Limit("10/second")).Get("/y", text("y"))
	run(t, r, clock, []step{
		{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9"}},
		{path: "/y", code: 200, headers: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9"}},
	})
}

// The callbacks Handler runs before chi routes see the route as after
// routing: URL parameters and the route pattern, as Flask-Limiter's run
// after Flask matched the URL. Before, on routes without markers of their
// own, they saw an empty route, and behaved otherwise than on routes with
// markers, where the defaults are checked after routing.
func TestHandlerCallbacksSeeTheRoute(t *testing.T) {
	byUser := func(r *http.Request) string { return chi.URLParam(r, "user") }
	t.Run("default limits exempt when", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"),
			chilimit.WithDefaultLimitsExemptWhen(func(r *http.Request) bool { return byUser(r) == "admin" }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/u/{user}", text("u"))
		run(t, r, clock, []step{{path: "/u/admin", code: 200}, {path: "/u/admin", code: 200}, {path: "/u/bob", code: 200}, {path: "/u/bob", code: 429}})
	})
	t.Run("key function and dynamic default", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithKeyFunc(byUser),
			chilimit.WithDefaultLimitFuncs(func(r *http.Request) string {
				if chi.RouteContext(r.Context()).RoutePattern() == "/u/{user}" {
					return "1/hour"
				}
				return ""
			}))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Get("/u/{user}", text("u"))
		run(t, r, clock, []step{{path: "/u/alice", code: 200}, {path: "/u/bob", code: 200}, {path: "/u/alice", code: 429}})
	})
	t.Run("request filter", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"),
			chilimit.WithRequestFilter(func(r *http.Request) bool { return byUser(r) == "ops" }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Route("/api", func(r chi.Router) { r.Get("/u/{user}", text("u")) })
		run(t, r, clock, []step{{path: "/api/u/ops", code: 200}, {path: "/api/u/ops", code: 200}, {path: "/api/u/x", code: 200}, {path: "/api/u/x", code: 429}})
	})
}

// A marker of another limiter, behind a writer wrapper without Unwrap, and a
// marker behind http.TimeoutHandler: when the TimeoutHandler answers at its
// deadline while the inner marker waits for the state, the request still
// ends. The response's first write used to wait for the handoff table's
// shard lock, which the waiting marker held.
func TestTimeoutHandlerWithForeignMarkerEnds(t *testing.T) {
	l1, _ := newLimiter(t)
	l2, _ := newLimiter(t)
	r := chi.NewRouter()
	r.Use(l1.Handler)
	r.Use(hideWriter)
	r.Use(l2.Limit("100/hour"))
	r.Use(func(next http.Handler) http.Handler { return http.TimeoutHandler(next, 20*time.Millisecond, "timeout") })
	r.With(l1.Limit("100/hour")).Get("/x", text("x"))
	serveWithin(t, r, "/x", 5*time.Second) // 5s after the TimeoutHandler's 20ms deadline
}

// A marker followed by a second Handler, of its own limiter or another's,
// still counts: only markers before the limiter's own first Handler run
// before it.
func TestMarkerBetweenTwoHandlers(t *testing.T) {
	for _, second := range []string{"same limiter", "other limiter"} {
		t.Run(second, func(t *testing.T) {
			lim, clock := newLimiter(t)
			inner := lim
			if second == "other limiter" {
				inner, _ = newLimiter(t)
			}
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.Route("/api", func(api chi.Router) {
				api.Use(lim.Limit("1/hour"))
				api.Use(inner.Handler)
				api.Get("/x", text("x"))
			})
			run(t, r, clock, []step{{path: "/api/x", code: 200}, {path: "/api/x", code: 429}})
		})
	}
}

// A breach counts against the meta limits under the key the meta limits
// are checked with, also when the key function reads the route.
func TestMetaBreachKeyedLikeMetaCheck(t *testing.T) {
	byTenant := func(r *http.Request) string { return chi.URLParam(r, "tenant") }
	lim, clock := newLimiter(t, chilimit.WithKeyFunc(byTenant),
		chilimit.WithDefaultLimits("1/minute"), chilimit.WithMetaLimits("1/day"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/t/{tenant}", text("t"))
	run(t, r, clock, []step{
		{path: "/t/acme", code: 200},
		{path: "/t/acme", code: 429, body: "1 per 1 minute"},
		{path: "/t/acme", advance: 2 * time.Minute, code: 429, body: "1 per 1 day"},
		{path: "/t/other", code: 200},
	})
}

// The headers report the limits counted so far even when the route's own
// marker does not apply to the request.
func TestHeadersWhenMarkerDoesNotApply(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true), chilimit.WithApplicationLimits("10/minute"))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("5/minute", chilimit.Methods(http.MethodPost))).Get("/x", text("x"))
	run(t, r, clock, []step{{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9"}}})
}

// Without Handler: a HEAD that chi answers 405 (no middleware.GetHead) is
// not counted; with GetHead it counts as the GET it is served as.
func TestStandaloneHead(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Limit("1/hour"))
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{method: http.MethodHead, path: "/x", code: 405}, {path: "/x", code: 200}, {path: "/x", code: 429}})

	lim, clock = newLimiter(t)
	r = chi.NewRouter()
	r.Use(middleware.GetHead)
	r.Use(lim.Limit("1/hour"))
	r.Get("/x", text("x"))
	run(t, r, clock, []step{{method: http.MethodHead, path: "/x", code: 200}, {path: "/x", code: 429}})
}

// Without Handler, a sub-router's root counts in one bucket whether asked
// for as /api or /api/.
func TestStandaloneMountStub(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Route("/api", func(api chi.Router) { api.Use(lim.Limit("1/hour")); api.Get("/", text("root")) })
	run(t, r, clock, []step{{path: "/api", code: 200, body: "root"}, {path: "/api/", code: 429}})
}

// Without Handler, a limit on a sub-router behind http.StripPrefix, whose
// rewritten path the root router cannot look up, still counts (under the
// mount, as chi sees it).
func TestStandaloneBehindStripPrefix(t *testing.T) {
	lim, clock := newLimiter(t)
	sub := chi.NewRouter()
	sub.Use(lim.Limit("1/hour"))
	sub.Get("/x", text("x"))
	r := chi.NewRouter()
	r.Mount("/v1", http.StripPrefix("/v1", sub))
	run(t, r, clock, []step{{path: "/v1/x", code: 200}, {path: "/v1/x", code: 429}})
}

// On a route with limits of its own, the defaults go with the route's last
// marker, where the key function sees what middleware before it put in the
// context: middleware that answers before that marker (authentication)
// keeps the defaults from counting its answers. A limit declared before
// that middleware counts them, the defaults with it.
func TestDefaultsGoWithTheLastMarker(t *testing.T) {
	auth := requireAuthorization
	signedIn := header("Authorization", "Bearer x")
	adds := chilimit.Limit("100/day", chilimit.OverrideDefaults(false))
	for _, tc := range []struct {
		name  string
		chain []func(http.Handler) http.Handler
		steps []step
	}{
		{"limit behind authentication", []func(http.Handler) http.Handler{auth, adds}, []step{
			{path: "/x", code: 401}, {path: "/x", code: 401}, {path: "/x", code: 401},
			{path: "/x", opts: []reqOpt{signedIn}, code: 200}, {path: "/x", opts: []reqOpt{signedIn}, code: 200},
			{path: "/x", opts: []reqOpt{signedIn}, code: 429, body: "2 per 1 minute"},
		}},
		{"limit before authentication", []func(http.Handler) http.Handler{adds, auth}, []step{
			{path: "/x", code: 401}, {path: "/x", code: 401}, {path: "/x", code: 429, body: "2 per 1 minute"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/minute"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			r.With(tc.chain...).Get("/x", text("x"))
			run(t, r, clock, tc.steps)
		})
	}
}

// The defaults are checked with the route's limits at its last marker,
// smallest window first, so a request the route limit rejects does not
// count against them, whatever runs between Handler and the marker: the
// same Handler again, or middleware that only passes the request on.
func TestDefaultsCheckedWithRouteLimitsSmallestWindowFirst(t *testing.T) {
	for _, between := range []string{"nothing", "the Handler again", "a logger"} {
		t.Run(between, func(t *testing.T) {
			lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/hour"))
			r := chi.NewRouter()
			r.Use(lim.Handler)
			switch between {
			case "the Handler again":
				r.Use(lim.Handler)
			case "a logger":
				r.Use(middleware.RequestID)
			}
			r.With(chilimit.Limit("1/minute", chilimit.OverrideDefaults(false))).Get("/x", text("x"))
			run(t, r, clock, []step{
				{path: "/x", code: 200},
				{path: "/x", code: 429, body: "1 per 1 minute"},
				{path: "/x", advance: time.Minute, code: 200},
				{path: "/x", advance: time.Minute, code: 429, body: "2 per 1 hour"},
			})
		})
	}
}

// The limits Handler counts show in the headers of a response that
// middleware before the route's markers answers, as on a route without
// markers: the application limits (the defaults wait for the marker).
func TestHeadersWhenMiddlewareAnswersBeforeMarkers(t *testing.T) {
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		})
	}
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("2/minute"), chilimit.WithApplicationLimits("5/hour"), chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(auth).Get("/plain", text("x"))
	r.With(auth, chilimit.Limit("100/day", chilimit.OverrideDefaults(false))).Get("/adds", text("x"))
	r.With(auth, chilimit.Limit("100/day")).Get("/replaces", text("x"))
	run(t, r, clock, []step{
		{path: "/plain", code: 401, headers: map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}},
		{path: "/adds", code: 401, headers: map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "3"}},
		{path: "/replaces", code: 401, headers: map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "2"}},
	})
}

// Behind http.StripPrefix("/api"), the path "/apikeys" only looks like it
// starts with the mount's "/api": it was rewritten, and counts under the
// mount.
func TestStandaloneStripPrefixPathSharingTheMountsText(t *testing.T) {
	lim, clock := newLimiter(t)
	sub := chi.NewRouter()
	sub.Use(lim.Limit("1/hour"))
	sub.Get("/apikeys", text("keys"))
	r := chi.NewRouter()
	r.Mount("/api", http.StripPrefix("/api", sub))
	run(t, r, clock, []step{
		{path: "/api/apikeys", code: 200, body: "keys"},
		{path: "/api/apikeys", code: 429, body: "1 per 1 hour"},
	})
}

// Behind http.StripPrefix("/v1"), the rewritten path "/items" is not the
// root's route "/items": the limit counts under the mount, in its own
// bucket, not in that route's.
func TestStandaloneStripPrefixNotARootRoute(t *testing.T) {
	lim, clock := newLimiter(t)
	v1 := chi.NewRouter()
	v1.Use(lim.Limit("1/hour"))
	v1.Get("/items", text("v1 items"))
	r := chi.NewRouter()
	r.With(lim.Limit("1/hour")).Get("/items", text("legacy items"))
	r.Mount("/v1", http.StripPrefix("/v1", v1))
	run(t, r, clock, []step{
		{path: "/items", code: 200, body: "legacy items"},
		{path: "/v1/items", code: 200, body: "v1 items"},
		{path: "/v1/items", code: 429},
	})
}

// Handler and a route limit also work wrapped around the router, as
// handlers given to the server: lim.Handler(r) as if installed with r.Use,
// with the route markers inside; a limit around the router counts each
// route apart, as r.Use(limit) does.
func TestWrappingTheRouter(t *testing.T) {
	t.Run("Handler", func(t *testing.T) {
		lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithHeaders(true))
		r := chi.NewRouter()
		r.Get("/x", text("x"))
		r.With(chilimit.Limit("2/hour")).Get("/y/{id}", text("y"))
		r.With(chilimit.Exempt).Get("/free", text("free"))
		run(t, lim.Handler(r), clock, concat([]step{
			{path: "/x", code: 200, headers: map[string]string{"X-RateLimit-Limit": "1"}},
			{path: "/x", code: 429},
			{path: "/y/1", code: 200, headers: map[string]string{"X-RateLimit-Limit": "2"}},
			{path: "/y/2", code: 200},
			{path: "/y/3", code: 429, body: "2 per 1 hour"},
			{path: "/nowhere", code: 404},
			{path: "/nowhere", code: 404},
		}, repeat(3, step{path: "/free", code: 200})))
	})
	t.Run("Limit", func(t *testing.T) {
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Get("/x", text("x"))
		r.Get("/y", text("y"))
		run(t, lim.Limit("1/hour")(r), clock, []step{
			{path: "/x", code: 200}, {path: "/x", code: 429}, {path: "/y", code: 200}, {path: "/nowhere", code: 404},
		})
	})
}

// Handler outside any chi router, around a plain handler, counts none of
// its limits: it says so once.
func TestHandlerOutsideRouterWarns(t *testing.T) {
	logs := new(syncBuffer)
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"), chilimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	run(t, lim.Handler(text("plain")), clock, repeat(3, step{path: "/", code: 200}))
	if n := strings.Count(logs.String(), "outside a chi router"); n != 1 {
		t.Fatalf("warnings = %d, want 1:\n%s", n, logs.String())
	}
}

// Without Handler, a limit in a sub-router's stack or a mount's With chain
// counts a request whose path the root router rewrote (StripSlashes,
// CleanPath before it, as the package doc asks) as the route chi serves.
func TestStandaloneLimitAfterRootPathRewrite(t *testing.T) {
	for name, tc := range map[string]struct {
		mw   func(http.Handler) http.Handler
		path string
	}{
		"StripSlashes": {middleware.StripSlashes, "/api/items/"},
		"CleanPath":    {middleware.CleanPath, "/api//items"},
	} {
		t.Run(name, func(t *testing.T) {
			lim, clock := newLimiter(t)
			r := chi.NewRouter()
			r.Use(tc.mw)
			r.Route("/api", func(r chi.Router) {
				r.Use(lim.Limit("1/hour"))
				r.Get("/items", text("items"))
			})
			r.With(lim.Limit("1/hour")).Route("/v2", func(r chi.Router) {
				r.Get("/items", text("v2 items"))
			})
			run(t, r, clock, []step{
				{path: "/api/items", code: 200, body: "items"},
				{path: tc.path, code: 429, body: "1 per 1 hour"},
				{path: "/v2/items", code: 200, body: "v2 items"},
				{path: "/v2" + tc.path[len("/api"):], code: 429, body: "1 per 1 hour"},
			})
		})
	}
}

// Without Handler, a limit in a sub-router's stack after path-rewriting
// middleware there counts the route chi serves; a 404 inside the mount is
// not counted, even where the root router has a route for the rest of its
// path.
func TestStandaloneLimitInSubRouter(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Get("/nope", text("root nope"))
	r.Route("/api", func(api chi.Router) {
		api.Use(middleware.StripSlashes, lim.Limit("2/hour"))
		api.Get("/items", text("items"))
	})
	sub := chi.NewRouter()
	sub.Get("/x", text("x"))
	r.Mount("/wrapped", lim.Limit("2/hour")(sub))
	run(t, r, clock, concat(
		[]step{{path: "/api/items/", code: 200, body: "items"}, {path: "/api/items", code: 200}, {path: "/api/items/", code: 429}},
		repeat(3, step{path: "/api/nope", code: 404}),
		repeat(3, step{path: "/wrapped/nope", code: 404}),
		[]step{{path: "/wrapped/x", code: 200}, {path: "/wrapped/x", code: 200}, {path: "/wrapped/x", code: 429}},
	))
}

// A route limit keyed by a function of its own (per user name) and one
// keyed by the limiter's key (per address), with the same text on one
// route, never share a bucket: an attacker posting the user name
// "203.0.113.9" spends only the per-user bucket of that name, not the
// per-address bucket of the client at 203.0.113.9.
func TestOwnKeyFunctionHasItsOwnBuckets(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Handler)
	byUsername := func(r *http.Request) string { return r.Header.Get("X-Username") }
	r.Route("/auth", func(auth chi.Router) {
		auth.Use(chilimit.Limit("3/minute")) // per address
		auth.With(chilimit.Limit("3/minute", chilimit.KeyFunc(byUsername))).Post("/login", text("ok"))
	})
	attacker := []reqOpt{from("198.51.100.66:1234"), header("X-Username", "203.0.113.9")}
	victim := []reqOpt{from("203.0.113.9:5555"), header("X-Username", "alice")}
	run(t, r, clock, concat(
		repeat(3, step{method: "POST", path: "/auth/login", opts: attacker, code: 200}),
		[]step{
			{method: "POST", path: "/auth/login", opts: attacker, code: 429},
			{method: "POST", path: "/auth/login", opts: victim, code: 200},
		}))
}

// Two route limits of the same text on one route, keyed alike (a
// sub-router's limit and the route's own), are one bucket: a request fills
// it once, not twice. A different cost is a different count.
func TestSameLimitTwiceOnARouteCountsOnce(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(api chi.Router) {
		api.Use(chilimit.Limit("2/minute"))
		api.With(chilimit.Limit("2/minute", chilimit.Methods("POST"))).Post("/orders", text("ok"))
		api.With(chilimit.Limit("4/minute", chilimit.Cost(1)), chilimit.Limit("4/minute", chilimit.Cost(2))).Post("/big", text("big"))
	})
	run(t, r, clock, []step{
		{method: "POST", path: "/api/orders", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "1"}},
		{method: "POST", path: "/api/orders", code: 200, headers: map[string]string{"X-RateLimit-Remaining": "0"}},
		{method: "POST", path: "/api/orders", code: 429},
		{method: "POST", path: "/api/big", code: 200}, // 1 + 2 of 4
		{method: "POST", path: "/api/big", code: 429}, // 3 + 1 fits, 4 + 2 does not
	})
}

// Wrapped around a router, Handler runs before the router's own stack:
// path-rewriting middleware there rewrites after Handler looked the path up,
// so /x/, served as /x, is taken for a 404 and not counted, and Handler
// says so when made.
func TestWrappedHandlerWarnsOfPathRewritingInside(t *testing.T) {
	logs := new(syncBuffer)
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"),
		chilimit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	r := chi.NewRouter()
	r.Use(middleware.StripSlashes)
	r.Get("/x", text("x"))
	h := lim.Handler(r)
	if n := strings.Count(logs.String(), "path-rewriting"); n != 1 {
		t.Errorf("path-rewriting warnings = %d, want 1:\n%s", n, logs.String())
	}
	run(t, h, clock, []step{
		{path: "/x", code: 200, body: "x"},
		{path: "/x/", code: 200, body: "x"},
		{path: "/x", code: 429},
	})
}

// Both wrapped around the router, lim.Handler(chilimit.Limit(...)(r)) is
// r.Use(lim.Handler, chilimit.Limit(...)): the route limit replaces the
// defaults.
func TestWrappedHandlerAroundWrappedLimit(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
	r := chi.NewRouter()
	r.Get("/x", text("x"))
	run(t, lim.Handler(chilimit.Limit("3/hour")(r)), clock, concat(
		repeat(3, step{path: "/x", code: 200, body: "x"}),
		[]step{{path: "/x", code: 429, body: "3 per 1 hour"}},
	))
}

// The other order, chilimit.Limit(...)(lim.Handler(r)): a limit before
// Handler limits on its own.
func TestWrappedLimitAroundWrappedHandler(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Get("/x", text("x"))
	run(t, lim.Limit("1/hour")(lim.Handler(r)), clock, []step{
		{path: "/x", code: 200, body: "x"},
		{path: "/x", code: 429},
	})
}

// headerKeyOf is a key-function factory, as users write them.
func headerKeyOf(header string) func(*http.Request) string {
	return func(r *http.Request) string { return r.Header.Get(header) }
}

// A shared limit keyed by a function of its own shares its buckets across
// routes, even when each route's function is a closure of its own from one
// factory; and a route limit passing the limiter's own key function keys
// as the limiter.
func TestSharedLimitOwnKeyFunctionSharesBuckets(t *testing.T) {
	lim, clock := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.SharedLimit("2/minute", "search", chilimit.KeyFunc(headerKeyOf("X-User")))).Get("/a", text("a"))
	r.With(chilimit.SharedLimit("2/minute", "search", chilimit.KeyFunc(headerKeyOf("X-User")))).Get("/b", text("b"))
	alice := []reqOpt{header("X-User", "alice")}
	run(t, r, clock, []step{
		{path: "/a", opts: alice, code: http.StatusOK},
		{path: "/b", opts: alice, code: http.StatusOK},
		{path: "/a", opts: alice, code: http.StatusTooManyRequests},
		{path: "/b", opts: alice, code: http.StatusTooManyRequests},
	})
}

func TestSharedLimitLimitersKeyFunctionSharesBuckets(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithKeyFunc(chilimit.RemoteAddr))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.SharedLimit("2/minute", "search", chilimit.KeyFunc(chilimit.RemoteAddr))).Get("/a", text("a"))
	r.With(chilimit.SharedLimit("2/minute", "search")).Get("/b", text("b"))
	run(t, r, clock, []step{
		{path: "/a", code: http.StatusOK},
		{path: "/b", code: http.StatusOK},
		{path: "/a", code: http.StatusTooManyRequests},
		{path: "/b", code: http.StatusTooManyRequests},
	})
}

// A deduct-when limit beside a plain one of the same text on one route,
// keyed alike: the plain one counts, once.
func TestDeductWhenLimitBesideSamePlainLimitCountsOnce(t *testing.T) {
	lim, clock := newLimiter(t)
	always := func(*http.Request, int) bool { return true }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("2/minute"))
		r.With(chilimit.Limit("2/minute", chilimit.DeductWhen(always))).Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: http.StatusOK},
		{path: "/api/items", code: http.StatusOK},
		{path: "/api/items", code: http.StatusTooManyRequests},
	})
}

// Two deduct-when limits of the same text on one route, keyed alike, are one
// bucket a request's deduction fills once, as two plain ones are.
func TestSameDeductWhenLimitTwiceOnARouteCountsOnce(t *testing.T) {
	always := func(*http.Request, int) bool { return true }
	for _, deduct := range []bool{false, true} {
		var opts []chilimit.LimitOption
		if deduct {
			opts = append(opts, chilimit.DeductWhen(always))
		}
		lim, clock := newLimiter(t)
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Route("/api", func(api chi.Router) {
			api.Use(chilimit.Limit("2/minute", opts...))
			api.With(chilimit.Limit("2/minute", opts...)).Get("/x", text("ok"))
		})
		t.Logf("deduct-when %v", deduct)
		run(t, r, clock, []step{{path: "/api/x", code: 200}, {path: "/api/x", code: 200}, {path: "/api/x", code: 429}})
	}
}

type deductUserKey struct{}

// A route limit's deduct-when predicate sees the request as the limit saw
// it, with what middleware before it put in the context (the user), as its
// key function does.
func TestDeductWhenSeesTheRoutesRequest(t *testing.T) {
	lim, _ := newLimiter(t)
	authenticate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), deductUserKey{}, "alice")))
		})
	}
	var keyUser, deductUser any
	limit := lim.Limit("10/minute",
		chilimit.KeyFunc(func(r *http.Request) string { keyUser = r.Context().Value(deductUserKey{}); return "k" }),
		chilimit.DeductWhen(func(r *http.Request, status int) bool {
			deductUser = r.Context().Value(deductUserKey{})
			return status >= 400
		}))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(authenticate, limit).Post("/login", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	if w := serve(r, http.MethodPost, "/login"); w.Code != 401 {
		t.Fatalf("POST /login = %d", w.Code)
	}
	if keyUser != "alice" {
		t.Fatalf("key function saw user %v", keyUser)
	}
	if deductUser != "alice" {
		t.Fatalf("deduct-when predicate saw user %v, want %q (what the key function and the handler saw)", deductUser, "alice")
	}
}

// A plain limit inside a deduct-when limit of the same text (one bucket)
// counts every request at once; the deduct-when one does not count it
// again. Two deduct-when limits of one bucket with different predicates
// deduct once when either says so.
func TestPlainLimitInsideDeductWhenLimitStillCounts(t *testing.T) {
	lim, clock := newLimiter(t)
	serverErrors := func(_ *http.Request, status int) bool { return status >= 500 }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("2/minute", chilimit.DeductWhen(serverErrors)))
		r.With(chilimit.Limit("2/minute")).Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: http.StatusOK},
		{path: "/api/items", code: http.StatusOK},
		{path: "/api/items", code: http.StatusTooManyRequests},
	})
}

// twoPredicateLogin returns a router whose POST /api/login always answers
// 401 under two limits of the same text, one bucket: one in /api's stack
// deducting server errors, one on the route deducting failed logins.
func twoPredicateLogin(lim *chilimit.Limiter, limit string) chi.Router {
	serverErrors := func(_ *http.Request, status int) bool { return status >= 500 }
	failedLogins := func(_ *http.Request, status int) bool { return status == http.StatusUnauthorized }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit(limit, chilimit.DeductWhen(serverErrors)))
		r.With(chilimit.Limit(limit, chilimit.DeductWhen(failedLogins))).Post("/login", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		})
	})
	return r
}

func TestDeductWhenLimitsOfOneBucketEitherPredicate(t *testing.T) {
	lim, clock := newLimiter(t)
	r := twoPredicateLogin(lim, "2/minute")
	run(t, r, clock, []step{
		{method: http.MethodPost, path: "/api/login", code: http.StatusUnauthorized},
		{method: http.MethodPost, path: "/api/login", code: http.StatusUnauthorized},
		{method: http.MethodPost, path: "/api/login", code: http.StatusTooManyRequests},
	})
}

// headerKey keys by a request header, as a method value.
type headerKey string

func (h headerKey) Key(r *http.Request) string { return r.Header.Get(string(h)) }

// Two method values of one method are different key functions: a shared
// limit keyed by one of its own (per user) never shares the buckets of the
// limiter's (per address), though both are headerKey.Key.
func TestOwnKeyMethodValueCountsApart(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithKeyFunc(headerKey("X-Real-IP").Key))
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.SharedLimit("1/minute", "login")).Post("/login/address", text("ok"))
	r.With(chilimit.SharedLimit("1/minute", "login", chilimit.KeyFunc(headerKey("X-User").Key))).Post("/login/user", text("ok"))
	run(t, r, clock, []step{
		{method: http.MethodPost, path: "/login/address", opts: []reqOpt{header("X-Real-IP", "203.0.113.9")}, code: 200},
		{method: http.MethodPost, path: "/login/user", opts: []reqOpt{header("X-Real-IP", "198.51.100.1"), header("X-User", "203.0.113.9")}, code: 200},
	})
}

// The headers report a bucket's state after the request's own count, when
// that count comes from another limit of the bucket than the one reported:
// a plain limit inside a deduct-when one, or the second of two deduct-when
// limits whose predicate says so.
func TestHeadersOfOneBucketCountedByAnotherLimit(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	always := func(_ *http.Request, status int) bool { return true }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("3/minute", chilimit.DeductWhen(always)))
		r.With(chilimit.Limit("3/minute")).Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: http.StatusOK, headers: map[string]string{"X-RateLimit-Remaining": "2"}},
		{path: "/api/items", code: http.StatusOK, headers: map[string]string{"X-RateLimit-Remaining": "1"}},
	})
}

func TestHeadersOfOneBucketDeductedByTheSecondPredicate(t *testing.T) {
	lim, clock := newLimiter(t, chilimit.WithHeaders(true))
	r := twoPredicateLogin(lim, "3/minute")
	run(t, r, clock, []step{
		{method: http.MethodPost, path: "/api/login", code: http.StatusUnauthorized, headers: map[string]string{"X-RateLimit-Remaining": "2"}},
		{method: http.MethodPost, path: "/api/login", code: http.StatusUnauthorized, headers: map[string]string{"X-RateLimit-Remaining": "1"}},
	})
}

// passThrough is middleware that does nothing, between two limits.
func passThrough(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
}

// A deduct-when deduction stands when the plain limit of its bucket never
// counts: a smaller limit beside it rejects the request first.
func TestDeductionKeptWhenPlainCountNeverRuns(t *testing.T) {
	lim, clock := newLimiter(t)
	always := func(_ *http.Request, _ int) bool { return true }
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("3/minute", chilimit.DeductWhen(always)))
		r.Use(passThrough)
		r.With(chilimit.Limit("1/second;3/minute")).Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: http.StatusOK},                                    // 3/minute: 1
		{path: "/api/items", code: http.StatusTooManyRequests},                       // 1/second; 3/minute: 2 (deduct-when, 429)
		{path: "/api/items", advance: time.Second, code: http.StatusOK},              // 3/minute: 3
		{path: "/api/items", advance: time.Second, code: http.StatusTooManyRequests}, // 3/minute full
	})
}

// Two deduct-when limits of one bucket: the first's predicate panics on
// the handler's 200 (a recoverer answers 500); the second's says yes to
// everything. The bucket counts the request once, as it does when the
// first predicate merely says no.
func TestDeductWhenPanicKeepsTheOtherPredicateOfTheBucket(t *testing.T) {
	lim, clock := newLimiter(t)
	panicsOn200 := func(_ *http.Request, status int) bool {
		if status == http.StatusOK {
			panic("predicate bug")
		}
		return false
	}
	always := func(*http.Request, int) bool { return true }
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, lim.Handler)
	r.Route("/api", func(r chi.Router) {
		r.Use(chilimit.Limit("1/minute", chilimit.DeductWhen(panicsOn200)))
		r.With(chilimit.Limit("1/minute", chilimit.DeductWhen(always))).Get("/items", text("items"))
	})
	run(t, r, clock, []step{
		{path: "/api/items", code: http.StatusInternalServerError},
		{path: "/api/items", code: http.StatusTooManyRequests},
	})
}

// In dry run, one bucket's breach is reported once, wherever its limits
// sit: adjacent in a chain, or with middleware between them.
func TestDryRunBreachReportedOncePerBucket(t *testing.T) {
	for _, sep := range []bool{false, true} {
		breaches := 0
		lim, clock := newLimiter(t, chilimit.WithDryRun(true),
			chilimit.WithOnBreach(func(*http.Request, *chilimit.RateLimitError) { breaches++ }))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.Route("/api", func(r chi.Router) {
			r.Use(chilimit.Limit("1/minute"))
			if sep {
				r.Use(passThrough)
			}
			r.With(chilimit.Limit("1/minute")).Get("/items", text("items"))
		})
		run(t, r, clock, []step{{path: "/api/items", code: 200}, {path: "/api/items", code: 200}})
		if breaches != 1 {
			t.Errorf("separate %v: on-breach called %d times for one bucket, want 1", sep, breaches)
		}
	}
}

// Handler wrapped around a mounted router, r.Mount("/api", lim.Handler(api)),
// is api.Use(lim.Handler): exemptions, limits replacing the defaults and a
// bucket per route inside api all work.
func TestHandlerWrappedAroundMountedRouter(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		t.Run(map[bool]string{false: "api.Use(lim.Handler)", true: "lim.Handler(api)"}[wrapped], func(t *testing.T) {
			build := func() (http.Handler, *limiter.ManualClock) {
				lim, clock := newLimiter(t, chilimit.WithDefaultLimits("1/hour"))
				api := chi.NewRouter()
				if !wrapped {
					api.Use(lim.Handler)
				}
				api.With(chilimit.Exempt).Get("/health", text("ok"))
				api.With(chilimit.Limit("3/hour")).Get("/bulk", text("bulk"))
				api.Get("/x", text("x"))
				api.Get("/y", text("y"))
				r := chi.NewRouter()
				if wrapped {
					r.Mount("/api", lim.Handler(api))
				} else {
					r.Mount("/api", api)
				}
				return r, clock
			}
			t.Run("exempt", func(t *testing.T) {
				h, clock := build()
				run(t, h, clock, repeat(3, step{path: "/api/health", code: 200}))
			})
			t.Run("override", func(t *testing.T) {
				h, clock := build()
				run(t, h, clock, concat(repeat(3, step{path: "/api/bulk", code: 200}),
					[]step{{path: "/api/bulk", code: 429, body: "3 per 1 hour"}}))
			})
			t.Run("per route", func(t *testing.T) {
				h, clock := build()
				run(t, h, clock, []step{{path: "/api/x", code: 200}, {path: "/api/y", code: 200}, {path: "/api/x", code: 429}})
			})
		})
	}
}
