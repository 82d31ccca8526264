package chilimit

import (
	"hash/maphash"
	"net/http"
	pathpkg "path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// The route index is how a root middleware knows, before chi routes a
// request, which limits and exemptions the route's middleware stack carries.
//
// lim.Handler asks the router for the pattern the request will match
// (chi's Routes.Find, the look-ahead middleware.GetHead also uses), and
// looks the (method, pattern) pair up in an index built from the router's
// tree: for every route, the middlewares that chi will run for it (the
// routers' Use stacks and the With chains of mounts and endpoints, which
// chi keeps as *chi.ChainHandler). Markers made by this package are
// recognised by their code pointer and invoked with a probe handler to read
// their settings; no other middleware is ever called.
//
// The index is built on the first request and rebuilt when the router shows
// a pattern or a marker it does not know (routes added later).

// routeKey is a method with a pattern (index entries) or a path (cache).
type routeKey struct{ method, path string }

// A routeEntry is what the index knows of one (method, pattern).
type routeEntry struct {
	active []*group // route markers that count, in chain order
	// joinNext[i]: active[i] is followed by active[i+1] with no other
	// middleware between them, so both are counted in one evaluation at
	// the later one (one storage round trip, smallest window first).
	joinNext []bool
	// handlerTwice: the limiter's Handler is installed more than once on
	// the route's way; the later ones pass the request on.
	handlerTwice  bool
	all           []*group // every marker in the chain, exempted or not
	exemptDefault bool
	exemptApp     bool
	exemptMeta    bool
}

func (e *routeEntry) isActive(g *group) bool {
	for _, a := range e.active {
		if a == g {
			return true
		}
	}
	return false
}

func (e *routeEntry) knows(g *group) bool {
	for _, a := range e.all {
		if a == g {
			return true
		}
	}
	return false
}

// emptyEntry is the entry of a route the index cannot see into.
var emptyEntry = &routeEntry{}

// mount is a sub-router mounted at prefix, for resolving the stub patterns
// chi's Find returns for "/prefix" and "/prefix/".
type mount struct {
	prefix string
	sub    chi.Routes
	// pattern is the wildcard pattern of a mounted plain http.Handler
	// (sub == nil), e.g. "/static/*", and way the patterns chi's Find
	// reports for its route: two such routes may share a pattern (one
	// in a router mounted at "/"), never a way.
	pattern string
	way     []string
}

type routeIndex struct {
	// mux is the root router when it is a *chi.Mux, held weakly: a
	// Limiter keeps the index of each router it serves (routeFinder), and
	// a router the application drops must still be collected (once the
	// Limiter indexes another or closes: see servedIndex). routes is
	// the root router of another type, nil for a *chi.Mux.
	mux     weak.Pointer[chi.Mux]
	routes  chi.Routes
	entries map[routeKey]*routeEntry
	// byChain holds every route's entry by its method and the chain of
	// patterns chi's Find reports for it: a root route "/api/users" is
	// "/api/users", a mounted router's "/users" under "/api" is "/api/*",
	// "/users". Two routes may share a method and full pattern, never a
	// chain; entries keeps the last one walked.
	byChain map[string]*routeEntry
	// mounts holds the mounts by the chain of patterns chi's Find reports
	// for their own paths ("/prefix" and "/prefix/", after the patterns
	// of the routers on the way; see stubKey): two mounts may share a full
	// prefix (one mounted at "/" inside another, or one shadowed by a
	// mount of the root's), never a chain.
	mounts map[string]mount
	misses sync.Map   // routeKey → true: not found even after a rebuild
	cache  routeCache // (method, path) → what lookup found
}

// routeCache remembers recent look-ahead answers by method and path, so a
// path seen before skips chi's Find. It holds at most routeCacheSlots
// paths of at most maxCachedPath bytes, so random paths cost no more than
// a Find each. Its slots (128 KiB) are allocated on its first put.
type routeCache struct {
	seed maphash.Seed
	tbl  atomic.Pointer[slots[cachedRoute]]
}

type cachedRoute struct {
	key     routeKey
	pattern string
	entry   *routeEntry
	method  string // the route's: GET for a HEAD a GetHead serves as one
}

// routeCacheSlots bounds the paths cached, and maxCachedPath their length:
// clients choose paths, and net/http accepts a megabyte of them.
const (
	routeCacheSlots = 16384
	maxCachedPath   = 512
)

// hash returns k's hash under seed.
func (k *routeKey) hash(seed maphash.Seed) uint64 {
	return mix(maphash.String(seed, k.path), maphash.String(seed, k.method))
}

func (c *routeCache) get(k routeKey) (cachedRoute, bool) {
	t := c.tbl.Load()
	if t == nil {
		return cachedRoute{}, false
	}
	a, b := t.load(k.hash(c.seed))
	if a != nil && a.key == k {
		return *a, true
	}
	if b != nil && b.key == k {
		return *b, true
	}
	return cachedRoute{}, false
}

func (c *routeCache) put(k routeKey, pattern string, e *routeEntry, method string) {
	if len(k.path) > maxCachedPath {
		return // looked up each time rather than held
	}
	t := c.tbl.Load()
	if t == nil {
		fresh := newSlots[cachedRoute](routeCacheSlots)
		if c.tbl.CompareAndSwap(nil, &fresh) {
			t = &fresh
		} else {
			t = c.tbl.Load()
		}
	}
	h := k.hash(c.seed)
	// net/http slices the method and the path out of the request line, so
	// the cache holds copies: a 3-byte path must not pin a megabyte query.
	k = routeKey{ownMethod(k.method), strings.Clone(k.path)}
	t.put(h, &cachedRoute{k, pattern, e, ownMethod(method)})
}

// each calls f with every cached answer, for tests.
func (c *routeCache) each(f func(*cachedRoute)) {
	if t := c.tbl.Load(); t != nil {
		t.each(f)
	}
}

// item is one middleware in a route's stack that the index recognised.
type item struct {
	marker *group
	exempt ExemptScope
	isExm  bool
	// foreign is a middleware not of this package, which may answer the
	// request itself; handler is the limiter's own Handler, owner the
	// Limiter whose Handler it is (this one's or another's).
	foreign, handler bool
	owner            *Limiter
	level            int // 2*depth for router-level, 2*depth+1 for route-level
	depth            int
	route            bool
}

type indexBuilder struct {
	idx  *routeIndex
	lim  *Limiter
	self uintptr // lim.Handler's code pointer
}

func buildIndex(routes chi.Routes, lim *Limiter) *routeIndex {
	idx := &routeIndex{
		entries: make(map[routeKey]*routeEntry),
		byChain: make(map[string]*routeEntry),
		mounts:  make(map[string]mount),
	}
	if m, ok := routes.(*chi.Mux); ok {
		idx.mux = weak.Make(m)
	} else {
		idx.routes = routes
	}
	idx.cache.seed = maphash.MakeSeed()
	self := codePointer(lim.Handler)
	b := &indexBuilder{idx: idx, lim: lim, self: self}
	selfSeen := false
	for _, mw := range routes.Middlewares() {
		switch p := codePointer(mw); {
		case b.handlerOwner(mw) == b.lim:
			selfSeen = true
		case selfSeen && rewritesRootPath(p):
			b.warnPathRewrite()
		}
	}
	// Markers wrapped around the root router itself
	// (lim.Handler(chilimit.Limit(...)(r))) run before its stack, as if
	// first in it.
	var outer []item
	if h, ok := routes.(http.Handler); ok {
		if direct, inner := wrappers(h); len(direct) > 0 {
			outer = b.items(direct, 0, false)
			if r, ok := inner.(chi.Routes); ok {
				routes = r
			}
		}
	}
	b.walk(routes, "", nil, outer, 0)
	return idx
}

func (b *indexBuilder) items(hs []http.Handler, depth int, route bool) []item {
	var out []item
	level := 2 * depth
	if route {
		level++
	}
	for _, h := range hs {
		switch h := h.(type) {
		case foreignMiddleware:
			out = append(out, item{foreign: true, handler: h.owner == b.lim, owner: h.owner, level: level, depth: depth, route: route})
		case *markerHandler:
			out = append(out, item{marker: h.g, level: level, depth: depth, route: route})
		case *exemptHandler:
			out = append(out, item{exempt: h.scope, isExm: true, level: level, depth: depth, route: route})
		}
	}
	return out
}

// foreignMiddleware stands, in a probed list, for a middleware that is not
// a marker or an exemption; owner is the Limiter whose Handler it is, if
// it is one.
type foreignMiddleware struct {
	http.Handler
	owner *Limiter
}

// probed returns mws with the markers and exemptions probed and the other
// middlewares as foreignMiddleware.
func (b *indexBuilder) probed(mws []func(http.Handler) http.Handler) []http.Handler {
	out := make([]http.Handler, 0, len(mws))
	for _, mw := range mws {
		if h := probe(mw); h != nil {
			out = append(out, h)
		} else if mw != nil {
			out = append(out, foreignMiddleware{owner: b.handlerOwner(mw)})
		}
	}
	return out
}

// handlerOwner returns the Limiter whose Handler mw is, or nil when mw is
// no Limiter's Handler. Every Limiter's Handler method value has one code
// pointer, so a candidate is invoked (Handler only builds a value) to see
// whose it is.
func (b *indexBuilder) handlerOwner(mw func(http.Handler) http.Handler) *Limiter {
	if codePointer(mw) != b.self {
		return nil
	}
	if h, ok := mw(probeHandler).(*limiterHandler); ok {
		return h.l
	}
	return nil
}

// routeMarkers returns the markers and exemptions an endpoint handler
// carries, outermost first: those of its With chain, then those wrapped
// directly around the handler (r.Get("/x", chilimit.Limit("1/second")(h))).
func (b *indexBuilder) routeMarkers(h http.Handler) []http.Handler {
	var out []http.Handler
	if ch, ok := h.(*chi.ChainHandler); ok {
		out, h = b.probed(ch.Middlewares), ch.Endpoint
	}
	direct, _ := wrappers(h)
	return append(out, direct...)
}

// walk indexes the routes of rs, a router mounted at prefix, reached
// through the patterns of chain.
func (b *indexBuilder) walk(rs chi.Routes, prefix string, chain []string, inherited []item, depth int) {
	stack := append([]item(nil), inherited...)
	if !inlineMux(rs) {
		stack = append(stack, b.items(b.probed(rs.Middlewares()), depth, false)...)
		if depth > 0 {
			for _, mw := range rs.Middlewares() {
				if rewritesPath(codePointer(mw)) {
					b.warnPathRewrite()
				}
			}
		}
	}
	for _, rt := range rs.Routes() {
		if rt.SubRoutes != nil {
			mp := prefix + strings.TrimSuffix(rt.Pattern, "/*")
			if own := strings.TrimSuffix(rt.Pattern, "/*"); rt.Pattern != "/*" {
				// (A mount at "/" has no own path: chi's Mount adds no
				// stubs for it.)
				b.idx.mounts[stubKey(chain, own)] = mount{prefix: mp, sub: rt.SubRoutes}
				b.idx.mounts[stubKey(chain, own+"/")] = mount{prefix: mp, sub: rt.SubRoutes}
			}
			// The mount's With chain, then markers wrapped around the
			// sub-router itself: both cover all of its routes.
			var hs []http.Handler
			if ch, ok := rt.Handlers["*"].(*chi.ChainHandler); ok {
				hs = b.probed(ch.Middlewares)
			}
			inner := rt.SubRoutes
			plain := false
			if h, ok := inner.(http.Handler); ok {
				var direct []http.Handler
				direct, h = wrappers(h)
				hs = append(hs, direct...)
				if r, ok := h.(chi.Routes); ok {
					inner = r
				} else if len(direct) > 0 {
					plain = true
				}
			}
			if plain {
				// A plain handler a marker wraps: still a route of rs.
				sub := append(append([]item(nil), stack...), b.items(hs, depth, true)...)
				b.walkPlain(inner, mp, append(chain[:len(chain):len(chain)], rt.Pattern), sub, depth)
				continue
			}
			sub := append(append([]item(nil), stack...), b.items(hs, depth+1, false)...)
			b.walk(inner, mp, append(chain[:len(chain):len(chain)], rt.Pattern), sub, depth+1)
			continue
		}
		full := prefix + rt.Pattern
		if own, ok := strings.CutSuffix(rt.Pattern, "/*"); ok &&
			(strings.Contains(own, "{") || rs.Find(chi.NewRouteContext(), http.MethodGet, own) == own) {
			// A mounted http.Handler (a plain wildcard route has no
			// route at its own path; one with parameters cannot be asked
			// by its pattern): its stubs resolve here.
			mp := strings.TrimSuffix(full, "/*")
			if _, ok := b.idx.mounts[stubKey(chain, own)]; !ok {
				way := append(chain[:len(chain):len(chain)], rt.Pattern)
				b.idx.mounts[stubKey(chain, own)] = mount{prefix: mp, pattern: full, way: way}
				b.idx.mounts[stubKey(chain, own+"/")] = mount{prefix: mp, pattern: full, way: way}
			}
		}
		for method, h := range rt.Handlers {
			if method == "*" {
				continue
			}
			items := append(append([]item(nil), stack...), b.items(b.routeMarkers(h), depth, true)...)
			e := b.entry(full, items, depth)
			b.idx.entries[routeKey{method, full}] = e
			b.idx.byChain[chainKey(method, append(chain[:len(chain):len(chain)], rt.Pattern))] = e
		}
	}
}

// rewritesPath reports whether the middleware at code pointer p changes
// the path a router routes, where Handler cannot see it: after Handler on
// the root router, or on a sub-router (CleanPath does nothing there).
func rewritesPath(p uintptr) bool {
	return p == codePointer(middleware.StripSlashes) || p == codePointer(middleware.URLFormat)
}

// rewritesRootPath reports whether the middleware at code pointer p
// changes the path the root router routes: rewritesPath's, and CleanPath.
func rewritesRootPath(p uintptr) bool {
	return rewritesPath(p) || p == codePointer(middleware.CleanPath)
}

// warnPathRewrite logs, once per Limiter, that path-rewriting middleware
// runs where Handler cannot see what it does.
func (b *indexBuilder) warnPathRewrite() {
	b.lim.pathRewriteWarning.Do(func() {
		b.lim.logger.Warn("chilimit: path-rewriting middleware runs after the limiter's Handler or on a " +
			"sub-router; install it on the root router before Handler, so the limiter sees the path chi routes")
	})
}

// stubKey names a mount's own path by the patterns chi's Find reports on
// the way to it: those of chain, then the stub's own ("/prefix" or
// "/prefix/", as the mounting router registered it).
func stubKey(chain []string, stub string) string {
	return strings.Join(chain, "\x00") + "\x00" + stub
}

// chainKey names a route by its method and the patterns chi's Find
// reports on the way to it.
func chainKey(method string, patterns []string) string {
	return method + "\x00" + strings.Join(patterns, "\x00")
}

// inlineMux reports whether rs is an inline chi.Mux (made by With or
// Group) mounted as a router of its own, as in
// r.Mount("/admin", chi.NewRouter().With(mw)). chi runs such a mux's
// middlewares inside each of its routes' chains, where the walk finds them
// already; taken from the stack too, a marker would count twice or, waiting
// for its own second run, not at all.
func inlineMux(rs chi.Routes) bool {
	m, ok := rs.(*chi.Mux)
	if !ok || m == nil {
		return false
	}
	f := reflect.ValueOf(m).Elem().FieldByName("inline")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// entry decides which markers and exemptions apply to a route at depth.
func (b *indexBuilder) entry(pattern string, items []item, depth int) *routeEntry {
	e := &routeEntry{}
	ancestorsBelow := -1 // markers with level < this are exempted
	for _, it := range items {
		if !it.isExm {
			continue
		}
		reaches := it.route || it.depth == depth || it.exempt&ExemptDescendants != 0
		if !reaches {
			continue
		}
		if it.exempt&ExemptDefault != 0 {
			e.exemptDefault = true
		}
		if it.exempt&ExemptApplication != 0 {
			e.exemptApp = true
		}
		if it.exempt&ExemptMeta != 0 {
			e.exemptMeta = true
		}
		if it.exempt&ExemptAncestors != 0 && it.level > ancestorsBelow {
			ancestorsBelow = it.level
		}
	}
	// Markers before the limiter's (first) Handler run before it has
	// prepared the request: they limit on their own, and are no route
	// marker of its.
	afterHandler := 0
	for i, it := range items {
		if it.handler {
			if afterHandler > 0 {
				e.handlerTwice = true
				break
			}
			afterHandler = i + 1
		}
	}
	gap := true          // other middleware since the last active marker
	otherNearer := false // another limiter's Handler is the nearest one so far
	var handlers []*Limiter
	for i, it := range items {
		switch {
		case it.foreign:
			gap = true
			// A Handler installed again on the path only passes the
			// request on: the state before it stays the nearest.
			if it.owner != nil && !slices.Contains(handlers, it.owner) {
				handlers = append(handlers, it.owner)
				otherNearer = it.owner != b.lim
			}
			continue
		case it.isExm:
			continue
		}
		e.all = append(e.all, it.marker)
		// A marker bound to a limiter is that limiter's; one made by Limit
		// belongs to the nearest Handler before it, whose state it finds.
		if bound := it.marker.bound; bound != nil && bound != b.lim || bound == nil && otherNearer {
			gap = true // another limiter's marker may answer the request
			continue
		}
		if i < afterHandler {
			b.lim.markerBeforeHandlerWarning.Do(func() {
				b.lim.logger.Warn("chilimit: a route limit runs before the limiter's Handler; "+
					"it is enforced on its own, and the route's default limits do not wait for it: "+
					"install Handler first", "pattern", pattern)
			})
			continue
		}
		if it.level < ancestorsBelow || it.marker.err != nil {
			continue
		}
		if len(e.active) > 0 {
			e.joinNext = append(e.joinNext, !gap)
		}
		e.active = append(e.active, it.marker)
		gap = false
	}
	if len(e.active) > 0 {
		e.joinNext = append(e.joinNext, false)
	}
	return e
}

// routeFinder resolves requests to route entries, keeping one index per
// root router.
type routeFinder struct {
	mu      sync.Mutex // serializes index builds
	ctxPool sync.Pool  // *chi.Context for look-aheads

	unindexedN       atomic.Int32 // markers in Limiter.unindexed
	perRequestWarned sync.Once

	// others holds the indexes of the root routers (*chi.Mux) built for,
	// up to maxIndexes; Limiter.idx holds the last one built. One Limiter
	// may serve several routers (two servers, routers behind an
	// http.ServeMux): a request to another router than the last one finds
	// its index here instead of rebuilding it. Replaced under mu.
	others atomic.Pointer[[]*routeIndex]
}

// maxIndexes bounds the routers a Limiter keeps an index for; past it the
// oldest index is dropped, and built again when its router is used.
const maxIndexes = 16

// maxUnindexed bounds the markers a Limiter remembers meeting outside its
// index, and so the index rebuilds they cause. A marker is made to be
// created once, with the router; one created per request (inside a
// handler) is a new marker each time, and remembering each, or rebuilding
// the index for each, would grow memory and cost a rebuild per request.
const maxUnindexed = 64

// noteUnindexed records that route marker g ran where the index did not
// expect it, and reports whether to rebuild the index: the routes may have
// changed since it was built. It says so once per marker, for the first
// maxUnindexed markers; past them it logs once that markers are being made
// per request, and remembers nothing more. Such markers still apply their
// limits, on their own.
func (l *Limiter) noteUnindexed(g *group) bool {
	if _, seen := l.unindexed.Load(g); seen {
		return false
	}
	if l.finder.unindexedN.Load() < maxUnindexed {
		if _, seen := l.unindexed.LoadOrStore(g, true); seen {
			return false
		}
		if l.finder.unindexedN.Add(1) <= maxUnindexed {
			return true
		}
		l.unindexed.Delete(g) // lost a race for the last place
	}
	l.finder.perRequestWarned.Do(func() {
		l.logger.Warn("chilimit: many route markers met outside the route index; "+
			"create Limit, LimitFunc and SharedLimit markers once, with the router, not per request "+
			"(LimitFunc computes a limit per request)", "markers", maxUnindexed)
	})
	return false
}

func (f *routeFinder) newCtx() *chi.Context {
	if c, ok := f.ctxPool.Get().(*chi.Context); ok {
		c.Reset()
		return c
	}
	return chi.NewRouteContext()
}

// lookup returns the pattern the request will be routed to ("" for 404 and
// 405), its index entry, the index, and the method of the route: the
// request's, but GET for a HEAD that a middleware.GetHead serves as a GET.
func (l *Limiter) lookup(r *http.Request) (string, *routeEntry, *routeIndex, string) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		l.noRouterWarning.Do(func() {
			l.logger.Warn("chilimit: Handler runs outside a chi router and counts no default, application or meta limit; " +
				"install it with r.Use on the router, or wrap the router itself: lim.Handler(r)")
		})
		return "", nil, nil, r.Method
	}
	idx := l.index(rctx.Routes, false)
	method, path := routeTarget(rctx, r)
	ck := routeKey{method, path}
	if cr, ok := idx.cache.get(ck); ok {
		return cr.pattern, cr.entry, idx, cr.method
	}
	pattern, e, idx, served := l.resolve(rctx.Routes, idx, method, path)
	if pattern != "" && e != emptyEntry {
		// Only routes the index knows: a 404 may become a route later.
		idx.cache.put(ck, pattern, e, served)
	}
	return pattern, e, idx, served
}

// routeTarget returns the method and the path chi routes r by from the root
// router of rctx.
func routeTarget(rctx *chi.Context, r *http.Request) (method, path string) {
	path = rctx.RoutePath
	if path == "" || len(rctx.RoutePatterns) > 0 {
		// Inside a mounted router RoutePath is relative to it; the root
		// router needs the whole path.
		path = r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
	}
	if path == "" {
		path = "/"
	}
	method = rctx.RouteMethod
	if method == "" {
		method = r.Method
	}
	return method, path
}

// standalonePattern returns the pattern of the route r goes to, for a route
// limit running without Handler: "" for a 404 or 405, which are not
// counted. A marker on a sub-router runs before the sub-router routes, where
// chi's RoutePattern is still "/api/*", so it looks the route up from the
// root as Handler does, without the index, and names it as chi's
// RoutePattern will ("/api" and "/api/" are one route). served is GET when
// the look-up finds a HEAD that a middleware.GetHead serves as a GET, else
// "" (see reqState.methodOf).
func (l *Limiter) standalonePattern(r *http.Request, g *group) (pattern, served string) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return "", ""
	}
	method, path := routeTarget(rctx, r)
	at := rctx.RoutePattern()
	mount, inMount := strings.CutSuffix(at, "/*")
	if cleaned := pathpkg.Clean(path); inMount && !strings.Contains(mount, "{") &&
		cleaned != mount && !strings.HasPrefix(cleaned, mount+"/") {
		// Inside a mount whose path was rewritten (http.StripPrefix): the
		// root cannot look it up (and might find another route); count
		// under the mount, as chi names it.
		return at, ""
	}
	fromRoot := rootMethod(rctx, r)
	c := l.finder.newCtx()
	defer l.finder.ctxPool.Put(c)
	if _, p, asGet := lookAhead(c, rctx.Routes, fromRoot, path); p != "" {
		if asGet {
			served = http.MethodGet // a GetHead on the way serves the HEAD as a GET
		}
		// A mount's own path ("/api", "/api/"), unlike a route, is served
		// or answered 404 or 405 by the mounted router, as it routes "/".
		sub, way, own := mountedFor(rctx.Routes, c.RoutePatterns)
		if !own {
			return c.RoutePattern(), served
		}
		if fromRoot == http.MethodHead && headOnMountPath(rctx.Routes, path, p) {
			method, served = http.MethodGet, http.MethodGet // a GetHead on the way serves it as the GET "/"
		}
		c.Reset()
		c.RoutePatterns = append(c.RoutePatterns, way...)
		if sub.Find(c, method, "/") == "" {
			return "", ""
		}
		return c.RoutePattern(), served
	} else if !inMount {
		// In a route's own chain chi has routed here already (or, before
		// routing, at is "" for the 404 it is): a look-up that disagrees
		// because the path was rewritten must not exempt the route.
		return at, ""
	}
	// The path the root routed may be rewritten (StripSlashes, CleanPath)
	// or the mount's own: look the route up in the router whose routing
	// runs the marker, on the path that router routes.
	if rs, before, ok := l.routerOf(rctx, g); ok && rctx.RoutePath != "" {
		c.Reset()
		c.RoutePatterns = append(c.RoutePatterns, before...)
		if rs.Find(c, method, rctx.RoutePath) != "" {
			return c.RoutePattern(), ""
		}
	}
	return "", "" // a 404 or 405 inside the mount
}

// mountedFor reports whether patterns, as Find reports them for a request
// from root, end at a mount's own path; if so it returns the mounted
// router and the patterns on the way into it, ending with the mount's "/*".
func mountedFor(root chi.Routes, patterns []string) (sub chi.Routes, way []string, own bool) {
	if len(patterns) == 0 {
		return nil, nil, false
	}
	rs := root
	for _, mp := range patterns[:len(patterns)-1] {
		if rs, _ = mountAt(rs, mp); rs == nil {
			return nil, nil, false
		}
	}
	last := patterns[len(patterns)-1]
	if !ownPaths(rs)[last] {
		return nil, nil, false
	}
	wild := strings.TrimSuffix(last, "/") + "/*"
	if sub, _ = mountAt(rs, wild); sub == nil {
		return nil, nil, false
	}
	return sub, append(patterns[:len(patterns)-1:len(patterns)-1], wild), true
}

// routedToRoute reports whether chi routes r, which runs marker g, to a
// route: g is in the chain of a route the index knows (by the chain of
// patterns chi went through), or in the stack of the router chi routes
// now, which has a route for the path it routes. A router's stack or a
// mount's With chain also runs on the way to a 404 or 405.
func (l *Limiter) routedToRoute(r *http.Request, g *group) bool {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || len(rctx.RoutePatterns) == 0 {
		return false
	}
	idx := l.builtIndex(rctx.Routes)
	if idx == nil {
		return false
	}
	method := rctx.RouteMethod
	if method == "" {
		method = r.Method
	}
	if idx.byChain[chainKey(method, rctx.RoutePatterns)] != nil {
		return true
	}
	rs, before, ok := l.routerOf(rctx, g)
	if !ok || rctx.RoutePath == "" {
		return false
	}
	path := rctx.RoutePath
	if len(before) < len(rctx.RoutePatterns) {
		// g is in the With chain of the mount rs routed the request to:
		// chi goes on into that mount's router, with the rest of the path
		// the mount matched, whatever the chain made of the method (a
		// GetHead) or of rs's path since.
		sub, chain := mountAt(rs, rctx.RoutePatterns[len(before)])
		if sub == nil {
			return false
		}
		if method == http.MethodHead && hasGetHead(chain) &&
			!rctx.Routes.Match(chi.NewRouteContext(), http.MethodHead, rctx.RoutePath) {
			method = http.MethodGet // a GetHead after g in the chain serves it as a GET
		}
		path = "/"
		if n := len(rctx.URLParams.Keys) - 1; n >= 0 && rctx.URLParams.Keys[n] == "*" && n < len(rctx.URLParams.Values) {
			path += rctx.URLParams.Values[n]
		}
		rs = sub
	}
	c := chi.NewRouteContext()
	if method == http.MethodHead {
		// Still a HEAD: a GetHead further on may serve it as a GET, or
		// turn it into a GET that finds no route.
		p, asGet := headWayFrom(c, rctx.Routes, rs, path)
		if p == "" {
			return false
		}
		if asGet {
			method = http.MethodGet
		}
	} else if rs.Find(c, method, path) == "" {
		return false
	}
	// Find reports a mounted router's own path ("/api", "/api/") by its
	// stub, whatever that router answers there: it routes "/".
	if sub, _, own := mountedFor(rs, c.RoutePatterns); own {
		return sub.Find(chi.NewRouteContext(), method, "/") != ""
	}
	return true
}

// routerOf returns the router whose routing runs marker g, and the route
// patterns chi reported before that router: the router mounted last (the
// end of rctx's route patterns) when g sits in its stack, or the router it
// is mounted on when g sits in the mount's With chain.
func (l *Limiter) routerOf(rctx *chi.Context, g *group) (chi.Routes, []string, bool) {
	rs := rctx.Routes
	for i, mp := range rctx.RoutePatterns {
		sub, chain := mountAt(rs, mp)
		if sub == nil && i == len(rctx.RoutePatterns)-1 {
			// A mount's own path: Find reports its stub ("/api", "/api/"),
			// the mounted router routes "/".
			wild := strings.TrimSuffix(mp, "/") + "/*"
			if sub, _ = mountAt(rs, wild); sub != nil && !inlineMux(sub) && hasMarker(sub.Middlewares(), g) {
				return sub, append(rctx.RoutePatterns[:i:i], wild), true
			}
			return nil, nil, false
		}
		if sub == nil {
			return nil, nil, false
		}
		if i == len(rctx.RoutePatterns)-1 {
			if hasMarker(chain, g) {
				return rs, rctx.RoutePatterns[:i], true
			}
			if !inlineMux(sub) && hasMarker(sub.Middlewares(), g) {
				return sub, rctx.RoutePatterns, true
			}
		}
		rs = sub
	}
	return nil, nil, false
}

// hasMarker reports whether mws holds marker g.
func hasMarker(mws []func(http.Handler) http.Handler, g *group) bool {
	for _, mw := range mws {
		if m, ok := probe(mw).(*markerHandler); ok && m.g == g {
			return true
		}
	}
	return false
}

// getHeadOn reports whether a router on the way to a route serves a HEAD
// with it through middleware.GetHead, in its stack or in a mount's With
// chain. patterns are the route's, as chi's Find reports them from root: a
// mount's "/prefix/*" for each sub-router, then the route's own; params
// from index first are the URL parameters Find captured, a "*" per mount.
//
// GetHead serves the HEAD as a GET when no HEAD route matches the path the
// router is routing; but it asks the root router (chi's route context keeps
// the root) with the router's own path: path on the root, the rest after
// the mount on a sub-router. So a root route that matches that rest (a
// catch-all) keeps the HEAD a HEAD, which the sub-router answers 405,
// unless a GetHead further in serves it as a GET after all; and a mount's
// own path ("/api"), which the root matches for every method, stays a HEAD
// until the mounted router, whose rest is "/". As chi does, so is it
// counted.
func getHeadOn(root chi.Routes, path string, patterns []string, params *chi.RouteParams, first int) bool {
	rs := root
	for i := 0; rs != nil; i++ {
		var sub chi.Routes
		var chain []func(http.Handler) http.Handler
		if i < len(patterns)-1 {
			sub, chain = mountAt(rs, patterns[i])
		}
		if (!inlineMux(rs) && hasGetHead(rs.Middlewares())) || hasGetHead(chain) {
			asked := path
			if i > 0 {
				asked = "/" + mountRest(params, first, i)
			}
			if !root.Match(chi.NewRouteContext(), http.MethodHead, asked) {
				return true
			}
		}
		rs = sub
	}
	return false
}

// headWay routes a HEAD from root as chi does: router by router along the
// way the HEAD takes, where each middleware.GetHead (in a router's stack,
// or in the With chain of the mount it goes through) serves it as a GET
// from there on if the root router, asked about the path the router it
// runs in routes, has no HEAD route for it. It adds to c what chi's
// routing would, and returns the route's pattern, as Find names it ("" for
// a 404 or 405), and whether the route is a GET one.
func headWay(c *chi.Context, root chi.Routes, path string) (string, bool) {
	return headWayFrom(c, root, root, path)
}

// headWayFrom is headWay from start, a router on the way from root,
// routing path: what chi does with a HEAD that reached start still a HEAD.
// The patterns it adds to c, and the one it returns, are start's.
func headWayFrom(c *chi.Context, root, start chi.Routes, path string) (string, bool) {
	h := chi.NewRouteContext()
	p := start.Find(h, http.MethodHead, path) // the HEAD's way, whole or up to where it fails
	converts := func(mws []func(http.Handler) http.Handler, asked string) bool {
		return hasGetHead(mws) && !root.Match(chi.NewRouteContext(), http.MethodHead, asked)
	}
	rs, rest, prefix := start, path, ""
	for i := 0; ; i++ {
		if !inlineMux(rs) && converts(rs.Middlewares(), rest) {
			return getFrom(c, h, i, rs, rest, prefix)
		}
		if i >= len(h.RoutePatterns) {
			break
		}
		sub, chain := mountAt(rs, h.RoutePatterns[i])
		if sub == nil {
			break // the route itself
		}
		prefix += strings.TrimSuffix(h.RoutePatterns[i], "/*")
		next := "/" + mountRest(&h.URLParams, 0, i+1)
		if converts(chain, rest) {
			// The mount's With chain runs once rs has routed to the
			// mount: the mounted router routes a GET.
			return getFrom(c, h, i+1, sub, next, prefix)
		}
		rs, rest = sub, next
	}
	if p == "" {
		return "", false
	}
	c.RoutePatterns = append(c.RoutePatterns, h.RoutePatterns...)
	c.URLParams.Keys = append(c.URLParams.Keys, h.URLParams.Keys...)
	c.URLParams.Values = append(c.URLParams.Values, h.URLParams.Values...)
	return p, false
}

// getFrom finishes headWay where a GetHead turned the HEAD into a GET: the
// first level routers of the HEAD's way h (their patterns and parameters,
// up to the level-th mount's "*") go into c, then rs, mounted at prefix,
// routes the GET for rest.
func getFrom(c, h *chi.Context, level int, rs chi.Routes, rest, prefix string) (string, bool) {
	c.RoutePatterns = append(c.RoutePatterns, h.RoutePatterns[:level]...)
	n := 0
	for stars := 0; n < len(h.URLParams.Keys) && stars < level; n++ {
		if h.URLParams.Keys[n] == "*" {
			stars++
		}
	}
	c.URLParams.Keys = append(c.URLParams.Keys, h.URLParams.Keys[:n]...)
	c.URLParams.Values = append(c.URLParams.Values, h.URLParams.Values[:n]...)
	p := rs.Find(c, http.MethodGet, rest)
	if p == "" {
		return "", false
	}
	return prefix + p, true
}

// headOnMountPath reports whether chi serves a HEAD on path, the own path
// of a mount (stub, "/api" or "/api/", as Find reports it), as a GET:
// through a GetHead in a router on the way, the mounted router included.
func headOnMountPath(root chi.Routes, path, stub string) bool {
	c := chi.NewRouteContext()
	if root.Find(c, http.MethodHead, path) != stub || len(c.RoutePatterns) == 0 {
		return false
	}
	// The way goes on through the mount (its "/*" route) into the mounted
	// router, at "/".
	pats := c.RoutePatterns[:len(c.RoutePatterns)-1]
	last := c.RoutePatterns[len(c.RoutePatterns)-1]
	pats = append(pats, strings.TrimSuffix(last, "/")+"/*", "/")
	if getHeadOn(root, path, pats, &c.URLParams, 0) {
		return true
	}
	// Still a HEAD in the mounted router: a GetHead further on (in a
	// router it mounts at "/") may serve it as a GET.
	sub, _, own := mountedFor(root, c.RoutePatterns)
	if !own {
		return false
	}
	_, asGet := headWayFrom(chi.NewRouteContext(), root, sub, "/")
	return asGet
}

// mountRest returns what the i-th mount on a route's way (1 for the root's)
// leaves of the path: the value of the i-th "*" parameter from first on.
func mountRest(params *chi.RouteParams, first, i int) string {
	for k := first; k < len(params.Keys) && k < len(params.Values); k++ {
		if params.Keys[k] == "*" {
			if i--; i == 0 {
				return params.Values[k]
			}
		}
	}
	return ""
}

func hasGetHead(mws []func(http.Handler) http.Handler) bool {
	for _, mw := range mws {
		if codePointer(mw) == codePointer(middleware.GetHead) {
			return true
		}
	}
	return false
}

// mountAt returns the router mounted on rs at pattern, or nil, and the
// middleware of the mount's With chain, which runs while rs routes.
func mountAt(rs chi.Routes, pattern string) (chi.Routes, []func(http.Handler) http.Handler) {
	k, ok := mountKeyOf(rs, pattern)
	if !ok {
		sub, ch := findMount(rs, pattern)
		return sub, middlewaresOf(ch)
	}
	mounts.mu.RLock()
	a, ok := mounts.m[k]
	mounts.mu.RUnlock()
	if ok {
		if sub, ch, alive := a.get(); alive {
			return sub, middlewaresOf(ch)
		}
	}
	sub, ch := findMount(rs, pattern)
	a = mountAnswer{}
	if ch != nil {
		a.chain = weak.Make(ch)
	}
	switch v := sub.(type) {
	case nil:
	case *chi.Mux:
		a.mux = weak.Make(v)
	case *routed:
		a.routed = weak.Make(v)
	default:
		return sub, middlewaresOf(ch) // not kept
	}
	mounts.mu.Lock()
	if len(mounts.m) >= maxMounts {
		clear(mounts.m)
	}
	mounts.m[k] = a
	mounts.mu.Unlock()
	return sub, middlewaresOf(ch)
}

// mounts remembers mountAt's answers: chi's Routes lists and allocates
// every route of a router, and a HEAD whose look-up finds no route (never
// cached), or a route limit running on its own, asks on every request. It
// holds routers weakly, so a router the application drops (a reload) is
// collected; it is bounded, and emptied when an index is rebuilt for routes
// added after it was built.
var mounts = struct {
	mu  sync.RWMutex
	m   map[mountKey]mountAnswer
	own map[mountKey]map[string]bool // ownPaths' answers, by router (pattern "")
}{m: make(map[mountKey]mountAnswer), own: make(map[mountKey]map[string]bool)}

const maxMounts = 4096

// A mountKey is a router, held weakly (a chi router, or one a marker wraps),
// and a pattern of its routes.
type mountKey struct {
	mux     weak.Pointer[chi.Mux]
	routed  weak.Pointer[routed]
	pattern string
}

func mountKeyOf(rs chi.Routes, pattern string) (mountKey, bool) {
	switch v := rs.(type) {
	case *chi.Mux:
		return mountKey{mux: weak.Make(v), pattern: pattern}, true
	case *routed:
		return mountKey{routed: weak.Make(v), pattern: pattern}, true
	}
	return mountKey{}, false
}

// A mountAnswer is what findMount answered, held weakly: the mounted
// router and the mount's With chain (a chain's markers lead to their
// Limiter, and it to its router), each zero for none.
type mountAnswer struct {
	mux    weak.Pointer[chi.Mux]
	routed weak.Pointer[routed]
	chain  weak.Pointer[chi.ChainHandler]
}

// get returns the answer; alive is false when a part of it was collected
// since (it is stale).
func (a mountAnswer) get() (sub chi.Routes, ch *chi.ChainHandler, alive bool) {
	if a.chain != (weak.Pointer[chi.ChainHandler]{}) {
		if ch = a.chain.Value(); ch == nil {
			return nil, nil, false
		}
	}
	switch {
	case a.mux != weak.Pointer[chi.Mux]{}:
		if m := a.mux.Value(); m != nil {
			return m, ch, true
		}
		return nil, nil, false
	case a.routed != weak.Pointer[routed]{}:
		if r := a.routed.Value(); r != nil {
			return r, ch, true
		}
		return nil, nil, false
	}
	return nil, ch, true
}

// forgetMounts empties the mounts cache.
func forgetMounts() {
	mounts.mu.Lock()
	clear(mounts.m)
	clear(mounts.own)
	mounts.mu.Unlock()
}

// ownPaths returns the own paths of the routers mounted on rs ("/api" and
// "/api/" for a mount at "/api"), which chi's Find reports for a request
// to them: their routers serve them as "/". Remembered as mountAt's
// answers are.
func ownPaths(rs chi.Routes) map[string]bool {
	k, ok := mountKeyOf(rs, "")
	if ok {
		mounts.mu.RLock()
		own, ok := mounts.own[k]
		mounts.mu.RUnlock()
		if ok {
			return own
		}
	}
	own := make(map[string]bool)
	for _, rt := range rs.Routes() {
		// A mount at "/" has no own path: chi's Mount adds no stubs for it.
		if p, ok := strings.CutSuffix(rt.Pattern, "/*"); ok && rt.SubRoutes != nil && rt.Pattern != "/*" {
			own[p], own[p+"/"] = true, true
		}
	}
	if k != (mountKey{}) {
		mounts.mu.Lock()
		if len(mounts.own) >= maxMounts {
			clear(mounts.own)
		}
		mounts.own[k] = own
		mounts.mu.Unlock()
	}
	return own
}

// findMount is mountAt without the cache: the mounted router, and the
// mount's With chain (nil for none).
func findMount(rs chi.Routes, pattern string) (chi.Routes, *chi.ChainHandler) {
	for _, rt := range rs.Routes() {
		if rt.Pattern == pattern {
			ch, _ := rt.Handlers["*"].(*chi.ChainHandler)
			return rt.SubRoutes, ch
		}
	}
	return nil, nil
}

// middlewaresOf returns ch's middlewares, none for nil.
func middlewaresOf(ch *chi.ChainHandler) []func(http.Handler) http.Handler {
	if ch == nil {
		return nil
	}
	return ch.Middlewares
}

// resolve is lookup without the cache.
func (l *Limiter) resolve(routes chi.Routes, idx *routeIndex, method, path string) (string, *routeEntry, *routeIndex, string) {
	var pattern string
	c := l.finder.newCtx()
	defer l.finder.ctxPool.Put(c)
	if method == http.MethodHead {
		// Served as the GET route where middleware.GetHead runs.
		_, p, asGet := lookAhead(c, routes, method, path)
		if pattern = p; asGet {
			method = http.MethodGet
		}
	} else {
		pattern = routes.Find(c, method, path)
	}
	if pattern == "" {
		return "", nil, idx, method
	}
	found, chain := pattern, c.RoutePatterns
	pattern, e := l.entryFor(routes, idx, method, path, found, chain)
	if pattern == "" {
		return "", nil, idx, method // a mount's own path its router does not serve: 404 or 405
	}
	if e == nil {
		key := routeKey{method, pattern}
		if _, missed := idx.misses.Load(key); missed {
			return pattern, emptyEntry, idx, method
		}
		// A route the index has not seen: added after it was built.
		idx = l.index(routes, true)
		pattern2, e2 := l.entryFor(routes, idx, method, path, found, chain)
		if e2 != nil {
			return pattern2, e2, idx, method
		}
		idx.misses.Store(routeKey{ownMethod(method), pattern}, true)
		e = emptyEntry
	}
	return pattern, e, idx, method
}

// entryFor returns the route that serves pattern, as Find reported it for
// method and path on the way of chain, and its index entry (nil if the
// index has none).
func (l *Limiter) entryFor(routes chi.Routes, idx *routeIndex, method, path, pattern string, chain []string) (string, *routeEntry) {
	if e := idx.byChain[chainKey(method, chain)]; e != nil {
		return pattern, e // the route Find reached
	}
	if len(chain) == 0 {
		return pattern, nil
	}
	// A mount's own path ("/api", "/api/"): Find stops at the mount's stub,
	// and the mounted router serves it as "/"; a HEAD there as its GET "/"
	// when a GetHead on the way says so (even where that router has a HEAD
	// route for "/", as chi does).
	if method == http.MethodHead {
		if m, ok := idx.mounts[chainStubKey(chain)]; ok && m.sub != nil && headOnMountPath(routes, path, pattern) {
			method = http.MethodGet
		}
	}
	return l.resolveStub(idx, method, pattern, chain)
}

// chainStubKey is the stubKey of the patterns chi's Find reported, the
// last one the mount's stub.
func chainStubKey(chain []string) string {
	if len(chain) == 0 {
		return ""
	}
	return stubKey(chain[:len(chain)-1], chain[len(chain)-1])
}

// resolveStub maps the patterns chi's Find reports for a mount's own path
// ("/api", "/api/") to the route that serves it: the sub-router's "/", or
// the mounted handler's wildcard pattern.
func (l *Limiter) resolveStub(idx *routeIndex, method, pattern string, chain []string) (string, *routeEntry) {
	m, ok := idx.mounts[chainStubKey(chain)]
	if !ok {
		return pattern, nil
	}
	if m.sub == nil {
		return m.pattern, idx.byChain[chainKey(method, m.way)]
	}
	c := l.finder.newCtx()
	defer l.finder.ctxPool.Put(c)
	sp := m.sub.Find(c, method, "/")
	if sp == "" {
		return "", nil
	}
	// The way goes on through the mount's "/*" into the mounted router.
	last := chain[len(chain)-1]
	way := append(append(chain[:len(chain)-1:len(chain)-1], strings.TrimSuffix(last, "/")+"/*"), c.RoutePatterns...)
	full := m.prefix + sp
	if e := idx.byChain[chainKey(method, way)]; e != nil || full == pattern {
		return full, e
	}
	return l.resolveStub(idx, method, full, way)
}

// index returns the index of routes, building it if needed or forced.
func (l *Limiter) index(routes chi.Routes, rebuild bool) *routeIndex {
	if idx := l.builtIndex(routes); idx != nil && !rebuild {
		return idx
	}
	l.finder.mu.Lock()
	defer l.finder.mu.Unlock()
	if idx := l.builtIndex(routes); idx != nil && !rebuild {
		return idx
	}
	if rebuild {
		forgetMounts() // routes were added
	}
	idx := buildIndex(routes, l)
	l.idx.Store(idx)
	l.served.Store(nil)
	if m, ok := routes.(*chi.Mux); ok {
		l.served.Store(&servedIndex{idx: idx, mux: m})
		// Keep it with the other routers' indexes, in place of this
		// router's old one and of those whose router is gone.
		var kept []*routeIndex
		if p := l.finder.others.Load(); p != nil {
			for _, o := range *p {
				if m := o.mux.Value(); m != nil && m != routes {
					kept = append(kept, o)
				}
			}
		}
		if len(kept) >= maxIndexes {
			kept = kept[1:]
		}
		kept = append(kept, idx)
		l.finder.others.Store(&kept)
	}
	return idx
}

// builtIndex returns the index built for routes, nil if there is none.
func (l *Limiter) builtIndex(routes chi.Routes) *routeIndex {
	if m, ok := routes.(*chi.Mux); ok {
		if s := l.served.Load(); s != nil && s.mux == m {
			return s.idx
		}
	}
	if idx := l.idx.Load(); idx != nil && idx.isFor(routes) {
		return idx
	}
	if _, ok := routes.(*chi.Mux); !ok {
		return nil
	}
	if p := l.finder.others.Load(); p != nil {
		for _, idx := range *p {
			if idx.isFor(routes) {
				return idx
			}
		}
	}
	return nil
}

// dropIndexes makes the next request to every router rebuild its index.
func (l *Limiter) dropIndexes() {
	l.finder.mu.Lock()
	defer l.finder.mu.Unlock()
	l.finder.others.Store(nil)
	l.idx.Store(nil)
	l.served.Store(nil)
}

// servedIndex is the index of the *chi.Mux the Limiter built an index for
// last, with that router held strongly, so that finding it for a request
// compares two pointers: the weak pointer routeIndex keeps costs a runtime
// call (about 45 ns) on every request. It keeps one router alive until the
// Limiter builds an index for another, or is closed (a request served after
// Close indexes its router again).
type servedIndex struct {
	idx *routeIndex
	mux *chi.Mux
}

// isFor reports whether idx is the index of the root router routes.
func (idx *routeIndex) isFor(routes chi.Routes) bool {
	if m, ok := routes.(*chi.Mux); ok {
		return m != nil && idx.mux.Value() == m
	}
	return sameRoutes(idx.routes, routes)
}

// ownMethod returns method in memory of its own, for keeping: net/http
// slices r.Method out of the request line, which holds the whole URL. The
// standard methods come from constants; others are copied.
func ownMethod(method string) string {
	for _, m := range standardMethods {
		if method == m {
			return m
		}
	}
	return strings.Clone(method)
}

// standardMethods are net/http's method constants.
var standardMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

func sameRoutes(a, b chi.Routes) bool {
	if ma, ok := a.(*chi.Mux); ok {
		mb, ok := b.(*chi.Mux)
		return ok && ma == mb
	}
	// Routes of uncomparable dynamic types never match: rebuild.
	ta := reflect.TypeOf(a)
	return ta != nil && ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// walkPlain indexes the routes of rs, a plain handler seen as a router
// (handlerRoutes: one "/*" route) behind markers wrapped around it, mounted
// at prefix: routes of the router at depth that mounts it, carrying items.
func (b *indexBuilder) walkPlain(rs chi.Routes, prefix string, chain []string, items []item, depth int) {
	for _, rt := range rs.Routes() {
		full := prefix + rt.Pattern
		for method := range rt.Handlers {
			if method == "*" {
				continue
			}
			e := b.entry(full, items, depth)
			b.idx.entries[routeKey{method, full}] = e
			b.idx.byChain[chainKey(method, append(chain[:len(chain):len(chain)], rt.Pattern))] = e
		}
	}
}
