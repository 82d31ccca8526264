package chilimit

import (
	"net/http"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
)

// ServeHTTP applies the marker's limits. Under a Limiter's Handler it uses
// the request state that Handler prepared: the route pattern, the
// exemptions, and how many of the route's markers are still to run; the
// last one also applies the default limits unless a route limit overrode
// them. Without one it applies its limits on its own.
func (m *markerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.router != nil && chi.RouteContext(r.Context()) == nil {
		m.serveAround(w, r)
		return
	}
	st := markerStateOf(w, m.g)
	if st == nil || st.entry == nil || !st.entry.knows(m.g) {
		// A writer wrapper without Unwrap may hide the Handler's state.
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			if hs := handoffs.borrow(rctx, m.g, st); hs != nil {
				pass := func() bool {
					defer hs.giveBack() // before next (markers further in borrow it too), and on a panic
					return m.apply(hs, w, r)
				}()
				if pass {
					m.next.ServeHTTP(w, r)
				}
				return
			}
		}
	}
	if m.apply(st, w, r) {
		m.next.ServeHTTP(w, r)
	}
}

// serveAround serves r through a marker wrapped around a router: with the
// route context chi would make, so the route is looked up as inside it.
func (m *markerHandler) serveAround(w http.ResponseWriter, r *http.Request) {
	r, c := withRouteContext(r, m.router)
	defer routeContexts.Put(c)
	m.ServeHTTP(w, r)
}

// apply does the marker's work on the request state st (nil when no
// Handler runs upstream) and reports whether the request goes on to the
// next handler; it has answered the request when not.
func (m *markerHandler) apply(st *reqState, w http.ResponseWriter, r *http.Request) (pass bool) {
	g := m.g
	if st == nil || st.entry == nil {
		l := g.bound
		if l == nil && st != nil {
			l = st.lim
		}
		if l == nil {
			l = processLimiter()
		}
		l.serveStandalone(g, m.next, w, r)
		return false // serveStandalone called next itself
	}
	l := st.lim
	if st.skip && st.entry == emptyEntry && st.pattern == "" && l.enabled && g.err == nil && l.routedToRoute(r, g) {
		// Handler took the request for a 404, yet chi routed it to a route
		// whose chain runs this marker: its path was rewritten where
		// Handler could not see (StripSlashes on a sub-router). The route's
		// own limits count here, on their own.
		l.serveStandalone(g, m.next, w, r)
		return false
	}
	if st.skip || st.fallbackMode || st.rejected || g.err != nil {
		return true
	}
	if !st.entry.isActive(g) {
		if st.entry.knows(g) {
			return true // exempted
		}
		// The index does not know this marker: the routes changed after it
		// was built, or the marker is hidden inside a handler the index
		// cannot see into (a closure). Apply the limit on its own, and
		// rebuild the index once per marker, for a bounded number of them.
		if l.noteUnindexed(g) {
			l.dropIndexes()
		}
		l.prepare(st, g, r, routedScope(st, r), l.resolveLimits(g, r))
	} else {
		// Each marker counts its limits where it is declared, so that one
		// before an authentication middleware counts the requests that the
		// middleware rejects. The last marker also counts the defaults,
		// unless a route limit met on the way replaced them.
		pos := len(st.entry.active) - st.markersLeft
		st.markersLeft--
		limits := l.resolveLimits(g, r)
		if len(limits) > 0 && g.override && g.appliesTo(st.methodOf(r)) {
			st.overridden = true
		}
		l.prepare(st, g, r, st.pattern, limits)
		if st.markersLeft == 0 && !st.overridden {
			l.prepareDefaults(st, r)
		}
		if st.markersLeft > 0 && st.entry.active[pos] == g && st.entry.joinNext[pos] {
			// The next marker follows with nothing between that could
			// answer the request: it evaluates both, smallest window first.
			return true
		}
	}
	if len(st.checks) == 0 {
		// Nothing of its own applies; the headers still report what
		// Handler or earlier markers counted.
		l.writeHeaders(w, st, false)
		return true
	}
	breach, err := l.evaluate(st, r)
	if l.stop(w, r, st, breach, err) {
		st.release()
		return false
	}
	// The headers describe every limit counted so far; a later marker
	// rewrites them.
	l.writeHeaders(w, st, false)
	st.release()
	return true
}

// routedScope is the scope of a marker the index does not know: the
// pattern Handler looked up, or, when that is a mount the look-ahead could
// not see into (a sub-router behind a plain wrapper such as
// middleware.BasicAuth), the pattern chi has routed r to inside it, so
// that each route keeps its own buckets.
func routedScope(st *reqState, r *http.Request) string {
	mount, ok := strings.CutSuffix(st.pattern, "*")
	if !ok {
		return st.pattern
	}
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || len(rctx.RoutePatterns) == 0 {
		return st.pattern
	}
	// The pattern as Handler names routes: the routers' patterns joined,
	// each mount's cut to its prefix ("/admin/*", or the stub "/admin/"
	// or "/admin" chi reports for the mount's own path, is "/admin"), so
	// the root of a sub-router at /admin is "/admin/", where RoutePattern
	// says "/admin".
	var b strings.Builder
	last := len(rctx.RoutePatterns) - 1
	for i, p := range rctx.RoutePatterns {
		if i < last {
			p = strings.TrimSuffix(strings.TrimSuffix(p, "*"), "/")
		}
		b.WriteString(p)
	}
	if p := b.String(); p != st.pattern && strings.HasPrefix(p, mount) {
		return p
	}
	return st.pattern
}

// serveStandalone applies a route limit with no Limiter Handler upstream.
// The scope is the pattern of the route the request goes to; 404s and 405s
// are not counted.
func (l *Limiter) serveStandalone(g *group, next http.Handler, w http.ResponseWriter, r *http.Request) {
	if !l.enabled || g.err != nil || l.filtered(r) {
		next.ServeHTTP(w, r)
		return
	}
	if outer := stateOf(w, l); outer != nil && outer.entry == nil {
		l.serveStacked(outer, g, next, w, r)
		return
	}
	pattern, served := l.standalonePattern(r, g)
	if pattern == "" {
		next.ServeHTTP(w, r)
		return
	}
	rw := getWriter(w)
	defer putWriter(rw)
	st := &rw.st
	st.init(l, r)
	st.pattern, st.method = pattern, served
	var breach *RateLimitError
	var err error
	if len(l.meta.limits) > 0 {
		breach, err = l.checkMeta(st, r)
	}
	if breach == nil && err == nil {
		l.prepare(st, g, r, pattern, l.resolveLimits(g, r))
		breach, err = l.evaluate(st, r)
	}
	if l.stop(rw, r, st, breach, err) {
		st.release()
		l.deduct(st, r, rw.statusCode())
		return
	}
	l.writeHeaders(rw, st, false)
	st.release()
	defer func() {
		if p := recover(); p != nil {
			l.deductAfterPanic(st, r, p)
			panic(p)
		}
	}()
	next.ServeHTTP(rw, r)
	rw.settle(rw.statusCode())
}

// serveStacked applies a standalone route limit inside another of the same
// limiter, on the outer one's request state: the headers then describe the
// smallest window (or the breach) across both, and the outer one makes the
// deduct-when deductions once the status is known.
func (l *Limiter) serveStacked(st *reqState, g *group, next http.Handler, w http.ResponseWriter, r *http.Request) {
	if st.skip {
		next.ServeHTTP(w, r)
		return
	}
	l.prepare(st, g, r, st.pattern, l.resolveLimits(g, r))
	breach, err := l.evaluate(st, r)
	if l.stop(w, r, st, breach, err) {
		st.release()
		return
	}
	l.writeHeaders(w, st, false)
	st.release()
	next.ServeHTTP(w, r)
}

var process struct {
	once sync.Once
	lim  *Limiter
}

// processLimiter is the limiter of route limits that run without a
// Limiter: in-memory, keyed by RemoteAddr, no default limits.
func processLimiter() *Limiter {
	process.once.Do(func() {
		l, err := New()
		if err != nil {
			panic(err) // the default configuration cannot fail
		}
		process.lim = l
	})
	return process.lim
}
