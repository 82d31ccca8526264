package chilimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// A Limiter rate limits the requests of a chi router with the semantics of
// Flask-Limiter. Install its [Limiter.Handler] on the root router; declare
// route limits with [Limit] (or [Limiter.Limit]) and exemptions with
// [Exempt]. A Limiter is safe for concurrent use; [Limiter.Close] releases
// its storage and stops its health checks.
//
// With static limits and an in-memory storage, a request that passes
// allocates nothing of its own (IETF headers aside): a Limiter keeps the
// storage keys of up to 1,024 recent (limit, client) pairs of at most 256
// bytes each (under 400 KB), and header values come from blocks each shared
// by dozens of responses.
type Limiter struct {
	keyFunc           func(*http.Request) string
	keyFuncID         keyFuncID // a route limit's own key function with this identity keys as the limiter's
	defaults          *group
	defaultsPerMethod bool
	application       *group
	meta              *group
	strategy          limiter.Strategy
	storage           limiter.Storage
	batch             bool // storage is a limiter.BatchStorage: all of a request's limits in one operation
	ownsStorage       bool
	timeout           time.Duration
	inProcess         bool // the storage is the memory storage: no call outlives its request
	headers           bool
	names             HeaderNames
	retryAfterDate    bool
	ietf              bool
	swallow           bool
	// lookahead: callbacks Handler runs before routing may read the route
	// (see routedAhead).
	lookahead    bool
	keyPrefix    string
	enabled      bool
	logger       *slog.Logger
	clock        limiter.Clock
	errorHandler ErrorHandler
	filters      []func(*http.Request) bool
	dryRun       bool
	onBreach     BreachFunc
	logInterval  time.Duration

	fb   *fallback       // nil: no in-memory fallback
	over *overLimitCache // nil: every hit reaches the storage
	keys *keyCache

	idx       atomic.Pointer[routeIndex]
	served    atomic.Pointer[servedIndex]
	finder    routeFinder
	unindexed sync.Map // *group → true: markers met outside the index

	dryRunRejections   atomic.Uint64
	emptyKeyLog        logGate
	storageLog         logGate
	dynamicLog         logGate
	pathRewriteWarning sync.Once
	noRouterWarning    sync.Once
	// markerBeforeHandlerWarning: a route marker runs before Handler.
	markerBeforeHandlerWarning sync.Once
	closeOnce                  sync.Once
	closeErr                   error
}

// New returns a Limiter configured by opts. Malformed default, application,
// fallback or meta limits, an unknown strategy, a storage URI that cannot
// be opened, a strategy the storage cannot run, and bad environment values
// (see [FromEnv]) are errors wrapping [ErrInvalidConfig], and also the
// limiter package's sentinel for what was wrong ([limiter.ErrInvalidLimit],
// [limiter.ErrInvalidURI], [limiter.ErrUnknownStrategy], ...).
func New(opts ...Option) (*Limiter, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, invalid("nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.lookup != nil {
		if err := cfg.applyEnv(); err != nil {
			return nil, err
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.deprecatedGlobal {
		cfg.logger.Warn("chilimit: RATELIMIT_GLOBAL is deprecated; use RATELIMIT_DEFAULT")
	}
	l := &Limiter{
		keyFunc:           cfg.keyFunc,
		keyFuncID:         keyFuncIdentity(cfg.keyFunc),
		defaultsPerMethod: cfg.defaultsPerMethod,
		timeout:           cfg.storageTimeout,
		headers:           cfg.headers,
		names: HeaderNames{
			Limit:      textproto.CanonicalMIMEHeaderKey(cfg.headerNames.Limit),
			Remaining:  textproto.CanonicalMIMEHeaderKey(cfg.headerNames.Remaining),
			Reset:      textproto.CanonicalMIMEHeaderKey(cfg.headerNames.Reset),
			RetryAfter: textproto.CanonicalMIMEHeaderKey(cfg.headerNames.RetryAfter),
		},
		retryAfterDate: cfg.retryAfterDate,
		ietf:           cfg.ietf,
		swallow:        cfg.swallow,
		keyPrefix:      cfg.keyPrefix,
		enabled:        cfg.enabled,
		logger:         cfg.logger,
		clock:          cfg.clock,
		errorHandler:   cfg.errorHandler,
		filters:        cfg.filters,
		dryRun:         cfg.dryRun,
		onBreach:       cfg.onBreach,
		logInterval:    cfg.logInterval,
		keys:           newKeyCache(),
	}
	l.lookahead = len(cfg.filters) > 0 || cfg.defaultsExempt != nil || len(cfg.defaultFuncs) > 0 ||
		len(cfg.applicationFuncs) > 0 || len(cfg.fallbackFuncs) > 0 ||
		cfg.defaultsCostFunc != nil || !builtinKeyFunc(cfg.keyFunc)
	var err error
	if l.defaults, err = configGroup(kindDefault, cfg.describe(setDefaults, "default limits"), cfg.defaults); err != nil {
		return nil, err
	}
	l.defaults.addDynamic(cfg.defaultFuncs)
	l.defaults.perMethod = cfg.defaultsPerMethod
	l.defaults.exemptWhen = cfg.defaultsExempt
	l.defaults.deductWhen = cfg.defaultsDeduct
	l.defaults.cost, l.defaults.costFunc = cfg.defaultsCost, cfg.defaultsCostFunc
	if l.application, err = configGroup(kindApplication, cfg.describe(setApplication, "application limits"), cfg.application); err != nil {
		return nil, err
	}
	l.application.addDynamic(cfg.applicationFuncs)
	if l.meta, err = configGroup(kindMeta, cfg.describe(setMeta, "meta limits"), cfg.metaLimits); err != nil {
		return nil, err
	}
	var fallbackLimits *group
	if len(cfg.fallbackLimits) > 0 || len(cfg.fallbackFuncs) > 0 {
		if fallbackLimits, err = configGroup(kindFallback, cfg.describe(setFallbackLimits, "in-memory fallback limits"), cfg.fallbackLimits); err != nil {
			return nil, err
		}
		fallbackLimits.addDynamic(cfg.fallbackFuncs)
	}

	if cfg.storage != nil {
		l.storage = cfg.storage
	} else {
		opts := cfg.storageOpts
		if cfg.clock != limiter.SystemClock && isMemoryURI(cfg.storageURI) {
			// The sweeper must judge expiry by the clock the requests'
			// instants come from; an option given explicitly still wins.
			opts = append([]limiter.StorageOption{memory.WithClock(cfg.clock)}, opts...)
		}
		if l.storage, err = limiter.Open(context.Background(), cfg.storageURI, opts...); err != nil {
			// Open's error names the URI, its password masked.
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, cfg.describe(setStorage, "storage"), err)
		}
		l.ownsStorage = true
	}
	if _, l.inProcess = l.storage.(*memory.Storage); l.inProcess {
		l.timeout = 0 // nothing to wait for
	}
	_, l.batch = l.storage.(limiter.BatchStorage)
	if l.strategy, err = limiter.NewStrategy(cfg.strategy, l.storage); err != nil {
		l.closeStorage()
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, cfg.describe(setStrategy, "strategy"), err)
	}
	// A limit the storage cannot hold would fail every request it meets.
	for _, c := range []struct {
		g    *group
		what string
	}{{l.defaults, cfg.describe(setDefaults, "default limits")},
		{l.application, cfg.describe(setApplication, "application limits")},
		{l.meta, cfg.describe(setMeta, "meta limits")}} {
		if err := l.checkLimits(c.g); err != nil {
			l.closeStorage()
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, c.what, err)
		}
	}
	if cfg.overLimitCache && cfg.strategy != limiter.StrategyFixedWindowElasticExpiry {
		l.over = newOverLimitCache()
	}
	if fallbackLimits != nil || cfg.fallbackEnabled {
		if l.fb, err = newFallback(l, cfg, fallbackLimits); err != nil {
			l.closeStorage()
			return nil, err
		}
	}
	return l, nil
}

func configGroup(kind groupKind, what string, specs []string) (*group, error) {
	g := &group{kind: kind, cost: 1}
	ls, err := compileSpecs(specs)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, what, err)
	}
	g.limits = ls
	return g, nil
}

// Close stops the fallback health checks and closes the storage if the
// limiter opened it (from a URI). It is safe to call more than once.
func (l *Limiter) Close() error {
	l.closeOnce.Do(func() {
		if l.fb != nil {
			l.fb.close()
		}
		l.closeErr = l.closeStorage()
		l.served.Store(nil) // the router may go
	})
	return l.closeErr
}

func (l *Limiter) closeStorage() error {
	if l.ownsStorage {
		return l.storage.Close()
	}
	return nil
}

// Reset clears every limit the storage holds (Flask-Limiter's reset), if
// the storage implements [limiter.ResetAller]; otherwise it returns an error
// wrapping [limiter.ErrUnsupported]. It clears the storage's whole
// namespace, whatever [WithKeyPrefix] says: the counters of other
// applications sharing the storage with another key prefix go too, as in
// Flask-Limiter. Give each application its own storage prefix (the
// storage URI's prefix parameter) to reset one alone.
func (l *Limiter) Reset(ctx context.Context) error {
	ra, ok := l.storage.(limiter.ResetAller)
	if !ok {
		return fmt.Errorf("chilimit: reset %T: %w", l.storage, limiter.ErrUnsupported)
	}
	if _, err := ra.ResetAll(ctx); err != nil {
		return fmt.Errorf("chilimit: reset: %w", err)
	}
	if l.fb != nil {
		_, _ = l.fb.storage.ResetAll(ctx)
	}
	if l.over != nil {
		l.over.reset()
	}
	return nil
}

// Enabled reports whether the limiter limits anything (see [WithEnabled]).
func (l *Limiter) Enabled() bool { return l.enabled }

// DryRunRejections returns how many requests the limiter let through in
// dry-run mode that it would have rejected (see [WithDryRun]); a request
// over several limits counts once.
func (l *Limiter) DryRunRejections() uint64 { return l.dryRunRejections.Load() }

// Handler is the middleware to install on the root router with r.Use. For
// each request it finds the route chi will match, applies the meta,
// application and default limits that the route's middleware stack does
// not exempt or override, sets the rate-limit headers, and rejects the
// request with 429 when a limit is breached. Route limits declared with
// [Limit] run where they are declared and cooperate with it. The router's
// own 404 and 405 responses are never counted.
//
// Path-rewriting middleware such as middleware.StripSlashes or CleanPath
// must run before Handler, so it looks up the path chi will route.
//
// Handler may also wrap the router itself, lim.Handler(r), as an
// http.Handler given to the server: it then makes the route context chi
// would make, and works as if installed first in r's stack. Path-rewriting
// middleware in that stack then runs after it (Handler logs a warning);
// install Handler with r.Use after such middleware instead.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	h := &limiterHandler{l: l, next: next}
	h.router, _ = next.(chi.Routes)
	if h.router != nil {
		for _, mw := range h.router.Middlewares() {
			if rewritesRootPath(codePointer(mw)) {
				l.pathRewriteWarning.Do(func() {
					l.logger.Warn("chilimit: path-rewriting middleware runs in the router the limiter's Handler " +
						"wraps, after it; install the Handler in the router with r.Use after that middleware instead")
				})
			}
		}
		return &routerLimiter{h}
	}
	return h
}

// routerLimiter is Handler wrapped around a router. It shows chi that
// router (chi.Routes), so r.Mount("/api", lim.Handler(api)) mounts it as
// a sub-router, whose routes look-ups and the route index see into.
type routerLimiter struct{ *limiterHandler }

// Routes implements chi.Routes with the wrapped router's.
func (h *routerLimiter) Routes() []chi.Route { return h.router.Routes() }

// Middlewares implements chi.Routes with the wrapped router's.
func (h *routerLimiter) Middlewares() chi.Middlewares { return h.router.Middlewares() }

// Match implements chi.Routes with the wrapped router's.
func (h *routerLimiter) Match(rctx *chi.Context, method, path string) bool {
	return h.router.Match(rctx, method, path)
}

// Find implements chi.Routes with the wrapped router's.
func (h *routerLimiter) Find(rctx *chi.Context, method, path string) string {
	return h.router.Find(rctx, method, path)
}

// limiterHandler is what Handler returns: the route index recognises its
// own limiter's by l.
type limiterHandler struct {
	l    *Limiter
	next http.Handler
	// router is next when it is a chi router: Handler wraps it rather
	// than running in its middleware stack.
	router chi.Routes
}

func (h *limiterHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.router != nil && chi.RouteContext(r.Context()) == nil {
		r, c := withRouteContext(r, h.router)
		defer routeContexts.Put(c)
		h.l.serve(w, r, h.next)
		return
	}
	h.l.serve(w, r, h.next)
}

// routeContexts recycles the route contexts of withRouteContext.
var routeContexts = sync.Pool{New: func() any { return chi.NewRouteContext() }}

// withRouteContext returns r with a fresh chi route context for the router
// rs, as rs.ServeHTTP would add one: a limiter wrapped around a router
// looks the route up in it, and the router then routes with it. Put c back
// into routeContexts when the request is done.
func withRouteContext(r *http.Request, rs chi.Routes) (*http.Request, *chi.Context) {
	c := routeContexts.Get().(*chi.Context)
	c.Reset()
	c.Routes = rs
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, c)), c
}

func (l *Limiter) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !l.enabled {
		// Route markers downstream must learn that nothing is limited.
		rw := getWriter(w)
		defer putWriter(rw)
		rw.st.lim, rw.st.req, rw.st.entry, rw.st.skip = l, r, emptyEntry, true
		handoffs.putFor(r, &rw.st) // the same for markers behind a writer that hides rw
		defer handoffs.drop(&rw.st)
		next.ServeHTTP(rw, r)
		return
	}
	if st := stateOf(w, l); st != nil && st.entry != nil {
		next.ServeHTTP(w, r) // installed twice on one path
		return
	}
	pattern, entry, _, method := l.lookup(r)
	if entry != nil && entry.handlerTwice && handoffs.recordedFor(r, l) {
		next.ServeHTTP(w, r) // installed twice, behind a writer without Unwrap
		return
	}
	rw := getWriter(w)
	defer putWriter(rw)
	st := &rw.st
	st.init(l, r)
	st.pattern = pattern
	st.entry = entry
	st.method = method
	// Route markers find the state through the writer (even markers the
	// index cannot see), and deductions need the status.
	out := http.ResponseWriter(rw)
	// The callbacks run here see the route's URL parameters and pattern,
	// as after routing, when any may read them; undone before chi routes.
	var ahead routeAhead
	cr := r
	if l.lookahead && entry != nil {
		if ahead = fillAhead(r); ahead.fresh {
			cr = routedCopy(r)
		}
	}
	if entry == nil || l.filtered(cr) {
		ahead.undo()
		st.skip = true
		if entry == nil {
			st.entry = emptyEntry
		} else if len(entry.all) > 0 {
			handoffs.putFor(r, st) // the route's markers must learn it too
			defer handoffs.drop(st)
		}
		next.ServeHTTP(out, r)
		return
	}
	st.markersLeft = len(entry.active)
	if len(entry.all) > 0 || entry.handlerTwice {
		// For markers behind a writer wrapper that hides rw (handoff.go),
		// those this limiter exempts as well as its own, and for this
		// Handler installed again behind one.
		handoffs.putFor(r, st)
	}
	// finish ends the request: markers that borrowed st let go of it, then
	// the deduct-when predicates see the status, whatever it is (a 429
	// too, as Flask-Limiter's after_request does).
	finish := func(status int) {
		handoffs.drop(st)
		rw.settle(status)
	}
	defer func() {
		if p := recover(); p != nil {
			handoffs.drop(st)
			l.deductAfterPanic(st, r, p)
			panic(p)
		}
	}()

	var breach *RateLimitError
	var err error
	if l.fb != nil && l.fb.group != nil && l.fb.dead.Load() {
		st.fallbackMode = true
		st.markersLeft = 0 // the fallback limits replace the route limits
		if !entry.exemptDefault {
			l.prepare(st, l.fb.group, cr, pattern, l.resolveLimits(l.fb.group, cr))
		}
	} else {
		if len(l.meta.limits) > 0 && !entry.exemptMeta {
			breach, err = l.checkMeta(st, cr)
		}
		// The application limits count every request that reaches the
		// route, as in Flask-Limiter's before_request, whatever middleware
		// between here and the route's markers then does.
		l.prepareApplication(st, cr)
		if st.markersLeft == 0 {
			l.prepareDefaults(st, cr) // else the route's last marker decides
		}
	}
	if breach == nil && err == nil && len(st.checks) > 0 {
		breach, err = l.evaluate(st, cr)
	}
	if l.stop(out, cr, st, breach, err) {
		ahead.undo()
		st.release()
		finish(rw.statusCode())
		return
	}
	ahead.undo()
	// The headers describe what was counted here, whatever answers next;
	// the route's markers rewrite them.
	l.writeHeaders(out, st, false)
	st.release()
	next.ServeHTTP(out, r)
	finish(rw.statusCode())
}

// routeAhead is a look-ahead written into a request's live chi route
// context, for the callbacks Handler runs before chi routes: Flask-Limiter's
// (key functions, exempt_when, request filters, callable limits) run after
// Flask matched the URL, and may read the view's arguments. It records what
// undo restores, so chi then routes as if nothing happened: the exported
// fields chi's Find changes (its unexported ones chi resets itself when it
// routes). It costs no allocation: the route context is chi's own.
type routeAhead struct {
	rctx             *chi.Context
	path             string
	params, patterns int
	fresh            bool // use a copy of the request instead
}

// fillAhead looks r's route up into r's own chi route context.
func fillAhead(r *http.Request) routeAhead {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return routeAhead{}
	}
	if rctx.RoutePath != "" || len(rctx.RoutePatterns) > 0 || len(rctx.URLParams.Keys) > 0 {
		// Not on the root router before it routes: chi has state here
		// (routeParams, read by a Mount's handler) that undo cannot restore.
		return routeAhead{fresh: true}
	}
	a, _, _ := lookAhead(rctx, rctx.Routes, rootMethod(rctx, r), routeTargetPath(rctx, r))
	return a
}

// routedCopy is r with a fresh route context holding the look-ahead.
func routedCopy(r *http.Request) *http.Request {
	rctx := chi.RouteContext(r.Context())
	c := chi.NewRouteContext()
	c.Routes = rctx.Routes
	lookAhead(c, rctx.Routes, rootMethod(rctx, r), routeTargetPath(rctx, r))
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, c))
}

// rootMethod is the method to look r's route up with from the root: the
// route method, but a HEAD goes its own way from the root (headWay),
// whatever a GetHead on it made of the route method since.
func rootMethod(rctx *chi.Context, r *http.Request) string {
	if r.Method == http.MethodHead {
		return http.MethodHead
	}
	method, _ := routeTarget(rctx, r)
	return method
}

// routeTargetPath is the path of routeTarget.
func routeTargetPath(rctx *chi.Context, r *http.Request) string {
	_, path := routeTarget(rctx, r)
	return path
}

// lookAhead looks the route of method and path up from routes into c, and
// returns its pattern, "" for none. A HEAD is routed as chi routes it
// through the middleware.GetHead on its way (headWay). The routeAhead
// returned undoes what the look-up added to c; asGet reports a HEAD served
// as a GET.
func lookAhead(c *chi.Context, routes chi.Routes, method, path string) (a routeAhead, pattern string, asGet bool) {
	a = routeAhead{rctx: c, path: c.RoutePath, params: len(c.URLParams.Keys), patterns: len(c.RoutePatterns)}
	if method != http.MethodHead {
		return a, routes.Find(c, method, path), false
	}
	if pattern, asGet = headWay(c, routes, path); pattern == "" {
		a.undo()
		a.rctx = c
	}
	return a, pattern, asGet
}

// undo restores the route context as it was before fillAhead; it does
// nothing after the first call or for a zero routeAhead.
func (a *routeAhead) undo() {
	rctx := a.rctx
	if rctx == nil {
		return
	}
	rctx.RoutePath = a.path
	rctx.URLParams.Keys = rctx.URLParams.Keys[:a.params]
	rctx.URLParams.Values = rctx.URLParams.Values[:a.params]
	rctx.RoutePatterns = rctx.RoutePatterns[:a.patterns]
	a.rctx = nil
}

func (l *Limiter) filtered(r *http.Request) bool {
	for _, f := range l.filters {
		if f(r) {
			return true
		}
	}
	return false
}

// prepareApplication adds the application limits to the checks unless
// exempted.
func (l *Limiter) prepareApplication(st *reqState, r *http.Request) {
	if !st.entry.exemptApp {
		l.prepare(st, l.application, r, "", l.resolveLimits(l.application, r))
	}
}

// prepareDefaults adds the default limits to the checks unless exempted.
func (l *Limiter) prepareDefaults(st *reqState, r *http.Request) {
	if st.entry.exemptDefault {
		return
	}
	l.prepare(st, l.defaults, r, st.pattern, l.resolveLimits(l.defaults, r))
}

// resolveLimits returns a group's limits for r: the static ones, else the
// dynamic ones, parsed and sorted (malformed strings are logged and
// dropped).
func (l *Limiter) resolveLimits(g *group, r *http.Request) []compiledLimit {
	if len(g.dynamic) == 0 {
		return g.limits
	}
	out := append([]compiledLimit(nil), g.limits...)
	check := l.checkCompiled
	if g.kind == kindFallback {
		check = nil // the fallback's storage is in memory: it holds any limit
	}
	for _, d := range g.dynamic {
		spec, ls, err := d.limits(r, check)
		if err != nil {
			if l.dynamicLog.allow(l.clock.Now(), l.logInterval) {
				l.logger.Error("chilimit: malformed dynamic limit, or one the storage cannot hold; ignored for this request",
					"limit", spec, "kind", g.kind.String(), "error", err)
			}
			continue
		}
		out = append(out, ls...)
	}
	if len(g.dynamic) > 1 || len(g.limits) > 0 {
		sortLimits(out)
	}
	return out
}

// A check is one limit to test for the request, with what its storage key
// and cost are made of.
type check struct {
	g        *group
	cl       *compiledLimit
	scope    string
	method   string
	key      string
	skey     string // the storage key, set by evaluate
	cost     int64
	testOnly bool
	deferred bool // counted after the handler if the group's deduct-when says so
}

// prepare adds g's limits for r in scope to the request's checks, unless
// g's methods or exempt-when condition skip it.
func (l *Limiter) prepare(st *reqState, g *group, r *http.Request, scope string, limits []compiledLimit) {
	if len(limits) == 0 || !g.appliesTo(st.methodOf(r)) || (g.exemptWhen != nil && g.exemptWhen(r)) {
		return
	}
	var key string
	if g.keyFunc != nil {
		key = g.keyFunc(r)
		if key == "" {
			l.warnEmptyKey(r)
		}
	} else {
		key = st.clientKey(r)
	}
	if g.kind == kindShared {
		if g.scopeFunc != nil {
			scope = g.scopeFunc(r, st.pattern)
		} else {
			scope = g.scope
		}
		if scope == "" {
			scope = st.pattern // as Flask-Limiter's "scope or endpoint"
		}
	}
	method := ""
	if g.perMethod {
		method = st.methodOf(r)
	}
	cost := g.cost
	if g.costFunc != nil {
		cost = g.costFunc(r)
	}
	// A cost below 1 only tests the limit, deduct-when or not.
	deferred := cost >= 1 && g.deductWhen != nil
	testOnly := cost < 1 || deferred
	cost = max(cost, 1)
	for i := range limits {
		st.checks = append(st.checks, check{g: g, cl: &limits[i], scope: scope, method: method, key: key,
			cost: cost, testOnly: testOnly, deferred: deferred})
	}
}

// evaluate runs the prepared checks, smallest window first, and clears
// them. It returns the first breach (in dry-run mode every breach is
// reported and none returned), or a storage error that must stop the
// request.
func (l *Limiter) evaluate(st *reqState, r *http.Request) (*RateLimitError, error) {
	// Judged when the checks run, not when Handler first saw the request:
	// the middleware before a route's limits may have taken a while.
	st.now = l.clock.Now()
	cs := st.checks
	defer func() { st.checks = st.checks[:0] }()
	// Insertion sort: stable, allocation-free, and the lists are short.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].cl.window < cs[j-1].cl.window; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	// Each check's storage key, once; a check a sibling counts already
	// goes (see counts).
	n := 0
	for i := range cs {
		c := &cs[i]
		c.skey = l.storageKey(st, c)
		if !st.counts(c, cs[:n]) {
			continue
		}
		if n != i {
			cs[n] = *c
		}
		n++
	}
	if n < len(cs) {
		clear(cs[n:])
		cs = cs[:n]
	}
	dead := l.fb != nil && l.fb.dead.Load()
	gen := l.storageGen() // after dead, as in hit
	var overGen uint64
	if l.over != nil {
		overGen = l.over.generation() // before the storage calls
	}
	if l.batch && len(cs) > 1 && !l.dryRun && !dead && !st.storageFailed {
		if breach, err, done := l.evaluateBatch(st, r, cs, gen, overGen); done {
			return breach, err
		}
	}
	for i := range cs {
		c := &cs[i]
		kind := c.g.kind.String()
		req := limiter.Request{Key: c.skey, Limit: c.cl.limit, Cost: c.cost, Now: st.now}
		var res limiter.Result
		cached := false
		if l.over != nil {
			res, cached = l.over.get(req.Key, c.cl.limit, c.cost, st.now)
		}
		if !cached {
			if st.storageFailed {
				// The storage timed out earlier in this request and the
				// error was swallowed: a hung storage costs a request its
				// timeout once, not once per step. The over-limit cache,
				// in process, still rejects.
				continue
			}
			var err error
			if res, err = l.hit(st, req, c.testOnly); err != nil {
				return nil, err
			}
			if l.over != nil && !res.Allowed && l.storageAnswered(gen) {
				l.over.put(req.Key, res, c.cost, st.now, overGen)
			}
		}
		st.record(c.cl, c.skey, res)
		st.settled(c, res, r)
		if res.Allowed {
			continue
		}
		e := &RateLimitError{Limit: c.cl.limit, Result: res, Message: c.g.messageFor(r, c.cl),
			Scope: c.scope, Kind: kind, Key: c.key, DryRun: l.dryRun}
		l.breached(st, r, c.g, e)
		if !l.dryRun {
			st.recordUnchecked(cs[i+1:])
			return e, nil
		}
	}
	return nil, nil
}

// evaluateBatch runs the sorted checks cs as one storage operation over a
// limiter.BatchStorage (one round trip to Redis for all of a request's
// limits), with the results the one-by-one loop in evaluate would give. It
// reports done = false when that loop must run instead: the storage failed
// and the in-memory fallback takes over.
func (l *Limiter) evaluateBatch(st *reqState, r *http.Request, cs []check, gen, overGen uint64) (breach *RateLimitError, err error, done bool) {
	ops := make([]limiter.BatchOp, 0, len(cs))
	cachedAt, cachedRes := -1, limiter.Result{}
	for i := range cs {
		c := &cs[i]
		key := c.skey
		if l.over != nil {
			if res, ok := l.over.get(key, c.cl.limit, c.cost, st.now); ok {
				// Known to be over its limit: the batch stops before it.
				cachedAt, cachedRes = i, res
				break
			}
		}
		ops = append(ops, limiter.BatchOp{
			Request: limiter.Request{Key: key, Limit: c.cl.limit, Cost: c.cost, Now: st.now},
			Peek:    c.testOnly,
		})
	}
	results := make([]limiter.Result, len(ops))
	n := 0
	if len(ops) > 0 {
		n, err = limiter.HitBatch(st.storageContext(), l.storage, l.strategy.Name(), ops, results)
		if err != nil {
			if !l.storageDown(st, err, gen) {
				return nil, err, true
			}
			return nil, nil, false
		}
	}
	if n == len(ops) && cachedAt >= 0 {
		results = append(results[:n], cachedRes)
		n++
	}
	for i := range n {
		c, res := &cs[i], results[i]
		if l.over != nil && !res.Allowed && i < len(ops) && l.storageAnswered(gen) {
			l.over.put(ops[i].Key, res, c.cost, st.now, overGen)
		}
		st.record(c.cl, c.skey, res)
		st.settled(c, res, r)
		if res.Allowed {
			continue
		}
		kind := c.g.kind.String()
		e := &RateLimitError{Limit: c.cl.limit, Result: res, Message: c.g.messageFor(r, c.cl),
			Scope: c.scope, Kind: kind, Key: c.key, DryRun: l.dryRun}
		l.breached(st, r, c.g, e)
		st.recordUnchecked(cs[i+1:])
		return e, nil, true
	}
	return nil, nil, true
}

// storageGen returns the count of switches to or from the fallback.
func (l *Limiter) storageGen() uint64 {
	if l.fb == nil {
		return 0
	}
	return l.fb.gen.Load()
}

// storageAnswered reports whether the answers given since storageGen
// returned gen came from the configured storage: no switch since, and no
// fallback now. Only those go into the over-limit cache.
func (l *Limiter) storageAnswered(gen uint64) bool {
	return l.fb == nil || (!l.fb.dead.Load() && l.fb.gen.Load() == gen)
}

// storageKey is the storage key of check c.
func (l *Limiter) storageKey(st *reqState, c *check) string {
	tag := ""
	if c.g.keyFunc != nil && !c.g.keyFuncID.same(l.keyFuncID) {
		tag = ownKeyTag
	}
	return l.keys.key(keyParts{limit: c.cl.limit, kind: c.g.kind, tag: tag, scope: c.scope, method: c.method, client: c.key}, l.keyPrefix, &st.keyBuf)
}

// hit makes one storage call, through the fallback when the storage is
// down.
func (l *Limiter) hit(st *reqState, req limiter.Request, testOnly bool) (limiter.Result, error) {
	if l.fb == nil {
		// No fallback: straight to the storage, without copying the
		// request and result through call.
		if testOnly {
			return l.strategy.Test(st.storageContext(), req)
		}
		return l.strategy.Hit(st.storageContext(), req)
	}
	strat := l.strategy
	// dead before gen: the health check moves gen on before it clears
	// dead, so a call made because dead was clear has the generation that
	// cleared it (see fallback.fail).
	usingFallback := l.fb.dead.Load()
	gen := l.fb.gen.Load()
	if usingFallback {
		strat = l.fb.strategy
	}
	// The fallback runs in process: it gets the request's own context, not
	// the storage call's, whose deadline may be what just expired.
	ctx := st.baseCtx
	if !usingFallback {
		ctx = st.storageContext()
	}
	res, err := call(ctx, strat, req, testOnly)
	if err != nil && !usingFallback && l.storageDown(st, err, gen) {
		res, err = call(st.baseCtx, l.fb.strategy, req, testOnly)
	}
	return res, err
}

// storageDown reports whether err, from a storage call made for st's
// request at fallback generation gen, leaves the request to the in-memory
// fallback, switching the limiter to it unless a switch came since the
// call began. A call cut short because the request itself ended (the
// client hung up, an upstream deadline passed) says nothing about the
// storage's health: counting it would let any client push every other one
// onto per-process limits by disconnecting.
func (l *Limiter) storageDown(st *reqState, err error, gen uint64) bool {
	if l.fb == nil || st.baseCtx.Err() != nil {
		return false
	}
	l.fb.fail(err, gen)
	return true
}

func call(ctx context.Context, s limiter.Strategy, req limiter.Request, testOnly bool) (limiter.Result, error) {
	if testOnly {
		return s.Test(ctx, req)
	}
	return s.Hit(ctx, req)
}

// breached reports a breach to the callbacks, the dry-run counter and the
// meta limits.
func (l *Limiter) breached(st *reqState, r *http.Request, g *group, e *RateLimitError) {
	if l.dryRun {
		l.logger.Info("chilimit: dry run: request would be rejected",
			"limit", e.Limit.String(), "kind", e.Kind, "scope", e.Scope, "key", e.Key,
			"method", r.Method, "path", r.URL.Path)
		if !st.dryRunBreached {
			// Once per request, as a rejection would be: the count, and
			// the breach the meta limits see.
			st.dryRunBreached = true
			l.dryRunRejections.Add(1)
			l.countMetaBreach(st, r, e)
		}
	}
	if g.onBreach != nil || l.onBreach != nil {
		r = routedFor(r)
	}
	if g.onBreach != nil {
		g.onBreach(r, e)
	}
	if l.onBreach != nil {
		l.onBreach(r, e)
	}
}

// checkMeta rejects clients over a meta limit, without counting.
func (l *Limiter) checkMeta(st *reqState, r *http.Request) (*RateLimitError, error) {
	st.now = l.clock.Now()
	key := st.clientKey(r)
	for i := range l.meta.limits {
		cl := &l.meta.limits[i]
		sk := l.keys.key(keyParts{limit: cl.limit, kind: kindMeta, client: key}, l.keyPrefix, &st.keyBuf)
		res, err := l.hit(st, limiter.Request{Key: sk, Limit: cl.limit, Cost: 1, Now: st.now}, true)
		if err != nil {
			return nil, err
		}
		if !res.Allowed {
			st.record(cl, sk, res)
			e := &RateLimitError{Limit: cl.limit, Result: res, Message: cl.text, Kind: "meta", Key: key, DryRun: l.dryRun}
			l.breached(st, r, l.meta, e)
			if !l.dryRun {
				return e, nil
			}
		}
	}
	return nil, nil
}

// countMetaBreach takes one hit from every meta limit of the client.
func (l *Limiter) countMetaBreach(st *reqState, r *http.Request, e *RateLimitError) {
	if len(l.meta.limits) == 0 || e.Kind == "meta" || (st.entry != nil && st.entry.exemptMeta) {
		return
	}
	key := st.clientKey(r)
	st.detach()
	for i := range l.meta.limits {
		cl := &l.meta.limits[i]
		sk := l.keys.key(keyParts{limit: cl.limit, kind: kindMeta, client: key}, l.keyPrefix, &st.keyBuf)
		if _, err := l.hit(st, limiter.Request{Key: sk, Limit: cl.limit, Cost: 1, Now: st.now}, false); err != nil {
			l.storageError(err)
			return
		}
	}
}

// stop ends the request when a limit was breached or the storage failed
// (and errors are not swallowed). It reports whether it wrote a response.
func (l *Limiter) stop(w http.ResponseWriter, r *http.Request, st *reqState, breach *RateLimitError, err error) bool {
	if err != nil {
		ended := st.baseCtx.Err() != nil
		if ended {
			// The request ended (the client hung up) during its storage
			// call: nobody reads this response, and the storage is fine.
			l.logger.Debug("chilimit: request ended during its storage call", "error", err)
		} else {
			l.storageError(err)
		}
		// Swallowing covers storage failures: an ended request was never
		// counted, and must not reach the handler.
		if l.swallow && !ended {
			// A storage that timed out would make each later step of the
			// request wait as long again.
			st.storageFailed = errors.Is(err, context.DeadlineExceeded)
			return false
		}
		st.rejected = true
		l.clearHeaders(w) // a 500 claims nothing about the limits counted before
		if ended && errors.Is(st.baseCtx.Err(), context.DeadlineExceeded) {
			// The request's own deadline passed, not the client: it is
			// still there, and a 500 would blame the storage.
			l.writeError(w, r, fmt.Errorf("%w: %w", ErrRequestDeadline, err))
			return true
		}
		l.writeError(w, r, fmt.Errorf("%w: %w", ErrStorage, err))
		return true
	}
	if breach == nil {
		return false
	}
	st.rejected = true
	l.countMetaBreach(st, r, breach)
	l.writeHeaders(w, st, true)
	l.writeError(w, r, breach)
	return true
}

// routedFor returns r as after routing, for the callbacks of a rejection:
// r itself once chi routed it or Handler's look-ahead filled its route
// context, else a copy with the route looked up from the root (allocated
// on this rare path only).
func routedFor(r *http.Request) *http.Request {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return r
	}
	if n := len(rctx.RoutePatterns); n > 0 && !strings.HasSuffix(rctx.RoutePatterns[n-1], "/*") {
		return r // routed to the route (or looked ahead to it)
	}
	// Before routing, or on the way through a mount (Handler or a limit in
	// a mounted router's stack): look the whole route up.
	return routedCopy(r)
}

func (l *Limiter) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if l.errorHandler != nil {
		l.errorHandler(w, routedFor(r), err)
		return
	}
	DefaultErrorHandler(w, r, err)
}

// DefaultErrorHandler is the response written for rejected requests unless
// [WithErrorHandler] replaces it: 429 Too Many Requests with the breached
// limit's message (such as "1 per 1 day") as a text/plain body, 504 Gateway
// Timeout for [ErrRequestDeadline], or 500 Internal Server Error when the
// storage failed.
func DefaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	var rle *RateLimitError
	if errors.As(err, &rle) {
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, rle.Message)
		return
	}
	status := http.StatusInternalServerError
	if errors.Is(err, ErrRequestDeadline) {
		status = http.StatusGatewayTimeout
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

// deductAfterPanic makes the deduct-when hits of a request whose handler
// panicked with p, judged as the 500 a recoverer further out answers, or
// not at all after http.ErrAbortHandler, which sends no response.
func (l *Limiter) deductAfterPanic(st *reqState, r *http.Request, p any) {
	if p == http.ErrAbortHandler {
		st.pending = st.pending[:0]
	}
	l.deduct(st, r, http.StatusInternalServerError)
}

// deduct makes the deferred deduct-when hits once the status is known.
func (l *Limiter) deduct(st *reqState, r *http.Request, status int) {
	if len(st.pending) == 0 || st.storageFailed {
		return
	}

	st.now = l.clock.Now()
	st.detach()
	// Taken off first: a predicate that panics must not get the deductions
	// made again by deductAfterPanic, which judges those after it.
	ps := st.pending
	st.pending = st.pending[:0]
	i := 0
	defer func() {
		if i < len(ps) { // the predicate of ps[i] panicked
			ps[i].key = "" // not deducted
			var rest []pending
			for _, p := range ps[i+1:] {
				if !deductedBefore(ps[:i+1], p) {
					rest = append(rest, p)
				}
			}
			st.pending = rest
		}
	}()
	for ; i < len(ps); i++ {
		p := ps[i]
		if deductedBefore(ps[:i], p) {
			continue // one bucket: deducted once, whichever predicate said so
		}
		req := p.req
		if req == nil {
			req = r
		}
		if !p.g.deductWhen(req, status) {
			ps[i].key = "" // not deducted: a later one of the bucket may be
			continue
		}
		if st.storageFailed {
			continue // timed out on an earlier deduction: one wait is enough
		}
		res, err := l.hit(st, limiter.Request{Key: p.key, Limit: p.cl.limit, Cost: p.cost, Now: st.now}, false)
		if err != nil {
			l.storageError(err)
			st.storageFailed = errors.Is(err, context.DeadlineExceeded)
			continue
		}
		st.deducted(p.key, res)
	}
	st.release()
	clear(ps)
}

// deductedBefore reports whether one of done, the pending deductions made
// (or tried) before p, deducted p's bucket: the same key and cost.
func deductedBefore(done []pending, p pending) bool {
	for _, d := range done {
		if d.key == p.key && d.cost == p.cost {
			return true
		}
	}
	return false
}

func (l *Limiter) storageError(err error) {
	if l.storageLog.allow(l.clock.Now(), l.logInterval) {
		l.logger.Error("chilimit: storage failed", "error", err, "swallowed", l.swallow)
	}
}

func (l *Limiter) warnEmptyKey(r *http.Request) {
	if l.emptyKeyLog.allow(l.clock.Now(), l.logInterval) {
		l.logger.Warn("chilimit: key function returned an empty key; such requests share one bucket",
			"method", r.Method, "path", r.URL.Path)
	}
}

// logGate lets a repeated message through at most once per interval.
type logGate struct{ next atomic.Int64 }

func (g *logGate) allow(now time.Time, interval time.Duration) bool {
	n := now.UnixNano()
	next := g.next.Load()
	if next != 0 && n < next {
		return false
	}
	return g.next.CompareAndSwap(next, n+int64(max(interval, 1)))
}

// isMemoryURI reports whether uri names the memory storage.
func isMemoryURI(uri string) bool {
	scheme, _, ok := strings.Cut(uri, ":")
	return ok && strings.EqualFold(scheme, memory.Scheme)
}

// checkLimits returns the first of g's static limits that the storage
// cannot hold under the limiter's strategy (limiter.CheckLimit).
func (l *Limiter) checkLimits(g *group) error { return l.checkCompiled(g.limits) }

// checkCompiled returns the first of ls that the storage cannot hold under
// the limiter's strategy (limiter.CheckLimit).
func (l *Limiter) checkCompiled(ls []compiledLimit) error {
	for i := range ls {
		if err := limiter.CheckLimit(l.storage, l.strategy.Name(), ls[i].limit); err != nil {
			return fmt.Errorf("%q: %w", ls[i].text, err)
		}
	}
	return nil
}
