package chilimit

import (
	"log/slog"
	"net/http"
	"reflect"
	"sync"

	"github.com/go-chi/chi/v5"
)

// A LimitOption configures a route limit made by [Limit], [LimitFunc],
// [SharedLimit] or their [Limiter] methods.
type LimitOption func(*group)

// KeyFunc sets the key function of this limit only, as key_func of
// Flask-Limiter's limit decorator. It runs where the limit is declared: in
// a route's With chain or around its handler, after routing, so it can read
// URL parameters and context values set by earlier middleware; in a
// sub-router's Use stack or a mount's With chain, before that router
// routes, so it sees the mount's parameters only. The default is the
// limiter's key function (see [WithKeyFunc]).
//
// A limit keyed by a function of its own counts in buckets apart from
// those of the limiter's key function, even for equal keys, so a user name
// that reads as an address never fills that address's buckets. fn is the
// limiter's own only when it is the very function value given to
// WithKeyFunc, or when both are this package's address keys ([RemoteAddr],
// [ForwardedFor], [Forwarded], [ClientIPHeader]); a method value or closure made again (keys.Key written
// twice) is another function value. To key a limit as the limiter does,
// leave KeyFunc out.
func KeyFunc(fn func(r *http.Request) string) LimitOption { return func(g *group) { g.keyFunc = fn } }

// PerMethod counts the limit separately for each HTTP method of the route.
// The default is false: all methods share the buckets. A HEAD that
// middleware.GetHead serves with the GET handler counts as the GET.
func PerMethod(perMethod bool) LimitOption { return func(g *group) { g.perMethod = perMethod } }

// Methods restricts the limit to requests with one of these methods (any
// case); others are not counted by it and, unless another route limit that
// replaces the defaults applies, get the default limits. The default is
// every method, and so is Methods() with none (Flask-Limiter's methods=[]
// would exempt every method: use [Exempt] for that). A HEAD that
// middleware.GetHead serves with the GET handler is a GET here: it runs
// the same handler, and must not get around a Methods("GET") limit (so
// Methods("HEAD") on such a route matches nothing).
func Methods(methods ...string) LimitOption {
	return func(g *group) { g.methods = upperAll(methods) }
}

// ErrorMessage replaces the limit's text in the 429 body. The default is the
// breached limit's text, such as "1 per 1 day".
func ErrorMessage(msg string) LimitOption { return func(g *group) { g.message = msg } }

// ErrorMessageFunc computes the 429 body per request. It wins over
// [ErrorMessage].
func ErrorMessageFunc(fn func(r *http.Request) string) LimitOption {
	return func(g *group) { g.messageFunc = fn }
}

// ExemptWhen skips this limit for requests where fn returns true (the
// route's other limits and the defaults' override are unaffected). The
// default is never.
func ExemptWhen(fn func(r *http.Request) bool) LimitOption {
	return func(g *group) { g.exemptWhen = fn }
}

// OverrideDefaults says whether the limit replaces the default limits on its
// routes (true, the default) or adds to them (false).
func OverrideDefaults(override bool) LimitOption { return func(g *group) { g.override = override } }

// DeductWhen makes the limit count a request only when fn, called once the
// response status is known (when the handler writes it, or when it returns
// without writing) with that status and the request as the limit saw it,
// returns true. The request is always tested first and rejected if the
// limit is already exhausted. The default is to count every request.
//
// A request that passed this limit's test and was then rejected by another
// limit reaches fn with status 429, and counts if fn says so. A request
// this limit rejected itself is not offered to fn: a full bucket takes no
// more hits, and the extra hit Flask-Limiter 1.x makes there changes
// nothing but the window of fixed-window-elastic-expiry.
//
// Limits of the same text keyed alike on one route are one bucket: beside
// a limit that counts every request, the request is counted once whatever
// fn says; several deduct-when limits count it once if any of them says so.
//
// Requests in flight are not counted yet, so concurrent requests all pass
// the test however few the limit allows: a client that sends 50 failed
// logins at once reaches the handler 50 times (Flask-Limiter's
// deduct_when is alike). Where that matters, as with a slow password
// check, add a limit on the route that counts every request:
//
//	failed := chilimit.DeductWhen(func(_ *http.Request, status int) bool { return status == http.StatusUnauthorized })
//	r.With(chilimit.Limit("3/minute", failed), chilimit.Limit("10/minute")).Post("/login", login)
func DeductWhen(fn DeductFunc) LimitOption { return func(g *group) { g.deductWhen = fn } }

// Cost sets how many units each request takes from the limit; a cost above
// a limit's amount is always rejected, and a cost below 1 only tests the
// limit. The default is 1.
func Cost(cost int64) LimitOption { return func(g *group) { g.cost, g.costFunc = cost, nil } }

// CostFunc computes the cost of each request (see [Cost]); a result below
// 1 tests the limit without deducting from it. Under the moving-window
// strategy a hit stores one instant per unit (on Redis, a list element
// each), so a cost taken from the request (a body size) should be capped,
// or counted in larger units: one request of a million units writes a
// million instants, and holds a Redis server while it does.
func CostFunc(fn func(r *http.Request) int64) LimitOption { return func(g *group) { g.costFunc = fn } }

// OnBreach sets a function called when this limit is breached, in addition
// to the limiter's (see [WithOnBreach]). The default is none.
func OnBreach(fn BreachFunc) LimitOption { return func(g *group) { g.onBreach = fn } }

// Scope makes the limit shared: every route carrying a limit with this
// scope name counts in the same buckets (per key), as Flask-Limiter's
// shared_limit; limits keyed by a [KeyFunc] of their own count apart from
// those keyed by the limiter's key function. The default is no scope: each route pattern has its own
// buckets. An empty name, like an empty scope from [ScopeFunc], means the
// route pattern, as an empty scope does in Flask-Limiter.
func Scope(name string) LimitOption {
	return func(g *group) { g.kind, g.scope, g.scopeFunc = kindShared, name, nil }
}

// ScopeFunc makes the limit shared with a scope computed per request from
// the request and the route pattern, such as the request's host. A nil fn
// changes nothing, as the other options' nil functions: the limit is not
// shared unless [Scope] says so.
func ScopeFunc(fn func(r *http.Request, pattern string) string) LimitOption {
	return func(g *group) {
		if fn != nil {
			g.kind, g.scopeFunc = kindShared, fn
		}
	}
}

// Limit returns a middleware that rate limits the routes it is attached to
// with r.With, r.Use on a sub-router, or r.With(...).Mount/Route, or that
// it wraps directly (r.Handle("/x", chilimit.Limit("1/second")(h)),
// r.Mount("/files", chilimit.Limit("3/hour")(files))), as Flask-Limiter's
// limit decorator. spec holds one or more limits
// ("1/second", "10/minute;100/day"); stacked markers add up, each a limit
// of its own, except that limits of the same text keyed alike are one
// bucket, which a request fills once. By default the limit replaces the
// default limits on its routes (see [OverrideDefaults]).
//
// A spec that does not parse is logged at ERROR and the routes fall back to
// the default limits. Limit logs it when it is called, before any Limiter
// is known, so through [slog.Default], not a [WithLogger] logger; use
// [Limiter.Limit] to have it logged through the limiter's.
//
// The limit is enforced by the [Limiter] whose Handler runs upstream (the
// nearest whose route index sees it, when several do; use [Limiter.Limit]
// to choose); with none,
// by a process-wide limiter over an in-memory storage keyed by
// [RemoteAddr].
func Limit(spec string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(nil, spec, nil, opts))
}

// LimitFunc is [Limit] with the limit string computed per request by fn, for
// limits kept in configuration or a database. A string that does not parse
// is logged at ERROR and the route gets the default limits for that request.
// Parses are cached while fn keeps returning the same string.
func LimitFunc(fn func(r *http.Request) string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(nil, "", fn, opts))
}

// SharedLimit is [Limit] with [Scope](scope): every route carrying it shares
// its buckets (those keyed by a [KeyFunc] of their own apart, see Scope).
func SharedLimit(spec, scope string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(nil, spec, nil, append([]LimitOption{Scope(scope)}, opts...)))
}

// Limit is [Limit] bound to l: the limit is enforced by l whether or not
// l.Handler runs upstream, and errors are logged through l's logger. Under
// l.Handler it cooperates with it, even with other Limiters' Handlers in
// between, and the defaults it replaces are l's.
func (l *Limiter) Limit(spec string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(l, spec, nil, opts))
}

// LimitFunc is [LimitFunc] bound to l.
func (l *Limiter) LimitFunc(fn func(r *http.Request) string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(l, "", fn, opts))
}

// SharedLimit is [SharedLimit] bound to l.
func (l *Limiter) SharedLimit(spec, scope string, opts ...LimitOption) func(http.Handler) http.Handler {
	return newMarker(newRouteGroup(l, spec, nil, append([]LimitOption{Scope(scope)}, opts...)))
}

func newRouteGroup(l *Limiter, spec string, fn func(*http.Request) string, opts []LimitOption) *group {
	g := &group{kind: kindRoute, spec: spec, override: true, cost: 1, bound: l}
	for _, o := range opts {
		if o != nil {
			o(g)
		}
	}
	if g.keyFunc != nil {
		g.keyFuncID = keyFuncIdentity(g.keyFunc)
	}
	if fn != nil {
		g.dynamic = []*dynamicSource{{fn: fn}}
		return g
	}
	ls, err := compileSpecs([]string{spec})
	if err != nil {
		g.err = err
		logger := slog.Default()
		if l != nil {
			logger = l.logger
		}
		logger.Error("chilimit: malformed route limit; its routes fall back to the default limits",
			"limit", spec, "error", err)
		return g
	}
	g.limits = ls
	return g
}

// ExemptScope says what an exemption covers; combine the flags with |.
type ExemptScope uint8

const (
	// ExemptDefault exempts from the default limits.
	ExemptDefault ExemptScope = 1 << iota
	// ExemptApplication exempts from the application limits.
	ExemptApplication
	// ExemptAncestors exempts from route limits declared on enclosing
	// routers: limits declared at the exemption's own level or below still
	// apply. An enclosing r.Group or r.With is not an enclosing router
	// here (see [Exempt]).
	ExemptAncestors
	// ExemptDescendants extends a sub-router's exemption to the routers
	// mounted inside it; without it the exemption covers the sub-router's
	// own routes only.
	ExemptDescendants
	// ExemptMeta exempts from the meta limits (see [WithMetaLimits]).
	ExemptMeta

	// ExemptAll is every flag: what [Exempt] does.
	ExemptAll = ExemptDefault | ExemptApplication | ExemptAncestors | ExemptDescendants | ExemptMeta
)

// Exempt marks routes as exempt from rate limiting: r.With(chilimit.Exempt)
// for one route, sub.Use(chilimit.Exempt) or r.With(chilimit.Exempt).Mount
// for a whole sub-router and the routers nested in it. It exempts from the
// default, application and meta limits and from route limits declared on
// enclosing routers ([ExemptAll]); limits declared at the exempted level or
// below still apply. Use [ExemptFrom] for a narrower exemption.
//
// The enclosing routers are the routers the route is mounted in (r.Route,
// r.Mount) and their Use stacks. r.Group and r.With do not make a level of
// their own: chi keeps a route's Group and With middlewares as one flat
// list, the same for a Group nested in a Group as for a single Group, so
// in
//
//	r.Group(func(r chi.Router) {
//		r.Use(chilimit.Limit("1/hour"))
//		r.Group(func(r chi.Router) {
//			r.Use(chilimit.Exempt)
//			r.Get("/x", x) // the 1/hour limit still applies
//		})
//	})
//
// the limit counts as declared at the exemption's level and applies. To
// spare routes a group's limit, declare them outside that group, in a
// sibling Group for instance.
//
// Exemptions are read by a Limiter's Handler, from its route index: a
// route limit of a Limiter whose Handler does not run upstream (it runs on
// its own) still counts on exempted routes, and so do that Limiter's meta
// limits. Install the Handler.
func Exempt(next http.Handler) http.Handler {
	return visible(&exemptHandler{scope: ExemptAll, next: next}, next)
}

// ExemptFrom is [Exempt] restricted to the given scope, for example
// ExemptFrom(ExemptDefault|ExemptApplication) to exempt a sub-router's own
// routes but not the routers mounted below it.
func ExemptFrom(scope ExemptScope) func(http.Handler) http.Handler {
	mw := func(next http.Handler) http.Handler { return visible(&exemptHandler{scope: scope, next: next}, next) }
	registerMarker(mw)
	return mw
}

// exemptHandler is what an exemption marker leaves in the chain: it passes
// the request on; lim.Handler learns of it from the route index.
type exemptHandler struct {
	scope ExemptScope
	next  http.Handler
}

func (h *exemptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// markerHandler is what a Limit marker leaves in the chain.
type markerHandler struct {
	g    *group
	next http.Handler
	// router is next when it is a chi router the marker wraps from outside
	// (chilimit.Limit("10/second")(r)).
	router chi.Routes
}

// routerIn returns the chi router h is, or that a Limiter's Handler wrapped
// around a router has; nil for other handlers.
func routerIn(h http.Handler) chi.Routes {
	if lh, ok := h.(*routerLimiter); ok {
		return lh.router
	}
	rs, _ := h.(chi.Routes)
	return rs
}

func newMarker(g *group) func(http.Handler) http.Handler {
	mw := func(next http.Handler) http.Handler {
		m := &markerHandler{g: g, next: next}
		m.router = routerIn(next)
		return visible(m, next)
	}
	registerMarker(mw)
	return mw
}

// routed is a marker or exemption as its middleware returns it: wrapped
// around a chi sub-router, as in r.Mount("/api", chilimit.Limit("10/second")(api)),
// it shows chi's Mount and the route index the sub-router's routes, which a
// plain wrapper would hide; wrapped around a plain handler, it shows it as
// a sub-router of one route (see [handlerRoutes]). It serves through the
// marker.
type routed struct {
	http.Handler            // the *markerHandler or *exemptHandler
	sub          chi.Routes // the sub-router it wraps
}

// Routes implements chi.Routes with the sub-router's.
func (r *routed) Routes() []chi.Route { return r.sub.Routes() }

// Middlewares implements chi.Routes with the sub-router's.
func (r *routed) Middlewares() chi.Middlewares { return r.sub.Middlewares() }

// Match implements chi.Routes with the sub-router's.
func (r *routed) Match(rctx *chi.Context, method, path string) bool {
	return r.sub.Match(rctx, method, path)
}

// Find implements chi.Routes with the sub-router's.
func (r *routed) Find(rctx *chi.Context, method, path string) string {
	return r.sub.Find(rctx, method, path)
}

var _ chi.Routes = (*routed)(nil)

// handlerRoutes is a plain http.Handler seen as a sub-router whose one
// route, "/*", serves it for every method.
//
// chi's Mount serves whatever it mounts through a closure of its own, and
// keeps the mounted handler where Routes shows it only if it is a
// chi.Routes: a marker around a mounted plain handler
// (r.Mount("/static", chilimit.Exempt(files))) would be invisible to the
// route index, and Handler would count the defaults before the request
// reached it. Seen as this sub-router, the marker is recorded on the mount,
// as one around a real sub-router is. Routing does not change: chi serves
// a mount through its closure either way, and Find reports the same
// pattern, "/static/*". What changes is what chi.Walk and Routes report:
// the mount as a sub-router holding "/*" served by the handler, not a
// "/static/*" route served by chi's closure.
type handlerRoutes struct{ h http.Handler }

// Routes implements chi.Routes: "/*" for every method chi knows.
func (hr handlerRoutes) Routes() []chi.Route {
	if hr.h == nil {
		return nil
	}
	m := chi.NewRouter()
	m.Handle("/*", hr.h)
	return m.Routes()
}

// Middlewares implements chi.Routes: none.
func (hr handlerRoutes) Middlewares() chi.Middlewares { return nil }

// Match implements chi.Routes: the handler takes every path.
func (hr handlerRoutes) Match(*chi.Context, string, string) bool { return true }

// Find implements chi.Routes: every path is "/*", added to rctx's route
// patterns as a router's Find adds its route's.
func (hr handlerRoutes) Find(rctx *chi.Context, _, _ string) string {
	if rctx != nil {
		rctx.RoutePatterns = append(rctx.RoutePatterns, "/*")
	}
	return "/*"
}

// visible returns marker h, wrapped around next, as a [routed] that shows
// chi what next routes.
func visible(h, next http.Handler) http.Handler {
	sub, ok := next.(chi.Routes)
	if !ok {
		sub = handlerRoutes{next}
	}
	return &routed{Handler: h, sub: sub}
}

// wrappers lists the markers and exemptions wrapped directly around h,
// outermost first, and returns what they wrap.
func wrappers(h http.Handler) ([]http.Handler, http.Handler) {
	var out []http.Handler
	for {
		switch v := h.(type) {
		case *routed:
			h = v.Handler
		case *markerHandler:
			out, h = append(out, v), v.next
		case *exemptHandler:
			out, h = append(out, v), v.next
		case *routerLimiter:
			// A Limiter's Handler wrapped around a router: first in its
			// stack, for the index.
			out, h = append(out, foreignMiddleware{owner: v.l}), v.next
		default:
			return out, h
		}
	}
}

// markerCode holds the code pointers of the middlewares this package
// returns. The route index invokes a middleware (with a probe handler) to
// read its settings only when its code pointer is here, so third-party
// middleware is never called. Markers register themselves when created: one
// closure literal can have several code pointers (one per site the compiler
// inlined its enclosing function into), so no fixed list would do.
var markerCode sync.Map // uintptr → struct{}

func registerMarker(mw func(http.Handler) http.Handler) {
	markerCode.LoadOrStore(codePointer(mw), struct{}{})
}

func init() { registerMarker(Exempt) }

func codePointer(mw func(http.Handler) http.Handler) uintptr {
	return reflect.ValueOf(mw).Pointer()
}

// probe reads a middleware's marker settings, if it is one of ours.
func probe(mw func(http.Handler) http.Handler) http.Handler {
	if mw == nil {
		return nil
	}
	if _, ok := markerCode.Load(codePointer(mw)); !ok {
		return nil
	}
	h, _ := mw(probeHandler).(*routed)
	if h == nil {
		return nil
	}
	return h.Handler
}

var probeHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
