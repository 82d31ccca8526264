package chilimit

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/limiter"
)

// reqState is one request's rate-limit state, from lim.Handler to the last
// route marker and back. It lives in the pooled responseWriter.
type reqState struct {
	lim     *Limiter
	req     *http.Request // the request deduct-when predicates judge
	entry   *routeEntry   // nil: a marker running without lim.Handler
	pattern string
	method  string // the route's method; "": the request's (see methodOf)
	key     string
	keyCtx  context.Context // the context key was computed under; nil: none yet

	skip bool // nothing is limited: disabled, filtered, 404/405
	// storageFailed: a storage call of this request failed and the error
	// was swallowed; its later steps skip the storage rather than wait
	// for it again.
	storageFailed bool
	fallbackMode  bool // the storage is down and fallback limits replace all
	markersLeft   int  // active route markers still to run
	overridden    bool // a route limit replaced the defaults
	rejected      bool
	// dryRunBreached: a dry-run breach of this request was counted.
	dryRunBreached bool

	haveBest bool
	best     reported
	policies []reported   // for the IETF headers
	pending  []pending    // deduct-when hits to make after the handler
	checks   []check      // limits to test, gathered before evaluation
	counted  []countedKey // storage keys counted (or to count) by this request
	keyBuf   []byte

	now     time.Time       // the instant of the latest checks (or deductions)
	baseCtx context.Context // the request's, or detached from it
	ctx     context.Context // baseCtx, or a child bounded by the storage timeout
	cancel  context.CancelFunc

	// arena outlives reset: what it handed out is never handed out again.
	arena headerArena

	// The handoff table's entry for this state (handoff.go): its shard and
	// key while recorded, the state recorded before it for the same key (an
	// outer Handler's), whether its response started (no marker borrows it
	// from then on), the lock a borrower holds, and the borrows in progress.
	// handoffOuter and answered are guarded by handoff.mu.
	handoff      *handoffShard
	handoffKey   *chi.Context
	handoffOuter *reqState
	answered     bool
	borrowed     sync.Mutex     // held by the borrower at work
	active       atomic.Int32   // borrows not given back; raised under handoff.mu
	borrowers    sync.WaitGroup // borrows taken and not given back

	policyBuf  [4]reported
	pendingBuf [2]pending
	checksBuf  [4]check
	countedBuf [4]countedKey
}

// reported is one limit's result, as the headers need it.
type reported struct {
	cl       *compiledLimit
	key      string // the storage key: the bucket
	res      limiter.Result
	breached bool
}

// pending is a deduction deferred until the response status is known.
type pending struct {
	g    *group
	cl   *compiledLimit
	key  string
	cost int64
	req  *http.Request // as the limit saw it, for its deduct-when predicate
}

// reset readies the state for reuse, clearing only what a request used
// (the buffers are large, and zeroing them costs write barriers).
func (st *reqState) reset() {
	clear(st.policies)
	clear(st.pending)
	clear(st.checks)
	for i := range st.counted {
		st.counted[i] = countedKey{}
	}
	st.lim, st.req, st.entry, st.pattern, st.method, st.key, st.keyCtx = nil, nil, nil, "", "", "", nil
	st.skip, st.fallbackMode, st.markersLeft, st.overridden, st.rejected = false, false, 0, false, false
	st.storageFailed = false
	st.dryRunBreached = false
	st.handoff, st.handoffKey, st.handoffOuter, st.answered = nil, nil, nil, false // dropped already
	st.haveBest, st.best = false, reported{}
	st.policies, st.pending, st.checks, st.counted = nil, nil, nil, nil
	st.keyBuf = st.keyBuf[:0]
	st.now, st.baseCtx, st.ctx, st.cancel = time.Time{}, nil, nil, nil
}

func (st *reqState) init(l *Limiter, r *http.Request) {
	st.lim, st.req = l, r
	st.policies = st.policyBuf[:0]
	st.pending = st.pendingBuf[:0]
	st.checks = st.checksBuf[:0]
	st.counted = st.countedBuf[:0]
	st.baseCtx = r.Context()
	st.ctx = st.baseCtx
}

// methodOf is the method r's limits see: the method of the route that
// serves it, GET for a HEAD that a middleware.GetHead serves as a GET, so
// Methods("GET") limits and per-method buckets count that HEAD as the GET
// it runs as.
func (st *reqState) methodOf(r *http.Request) string {
	if st.method != "" {
		return st.method
	}
	if r.Method == http.MethodHead {
		// A route marker without Handler runs after chi routed, through
		// any GetHead on the way.
		if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RouteMethod == http.MethodGet {
			return http.MethodGet
		}
	}
	return r.Method
}

// A countedKey is a storage key a request counted under at once, and the
// cost.
type countedKey struct {
	key  string
	cost int64
}

// counts reports whether check c, with storage key c.skey, is still to be
// made: not when the request counted the same cost under the same key at
// once already, or a count at once of it comes before c among kept, this
// evaluation's checks before it. Two limits of the same text on one route,
// keyed alike (a sub-router's and the route's own), are one bucket, which a
// request fills once, not twice. A count at once stands for the deduct-when
// ones of its bucket (settled), and deduct-when ones deduct once, if any of
// their predicates says so (deduct).
func (st *reqState) counts(c *check, kept []check) bool {
	if c.testOnly && !c.deferred {
		return true // it counts nothing (a cost below 1)
	}
	if st.countedAtOnce(c.skey, c.cost) {
		return false
	}
	for i := range kept {
		if k := &kept[i]; !k.testOnly && k.skey == c.skey && k.cost == c.cost {
			return false // counted at once before it in this evaluation
		}
	}
	return true
}

// countedAtOnce reports whether the request counted cost under key at once.
func (st *reqState) countedAtOnce(key string, cost int64) bool {
	for _, k := range st.counted {
		if k.key == key && k.cost == cost {
			return true
		}
	}
	return false
}

// settled notes the outcome of check c, with storage key c.skey and result
// res: a count at once that was allowed stands for the deduct-when counts
// of its bucket, which go; a deduct-when check allowed waits for the
// response, unless such a count was made.
func (st *reqState) settled(c *check, res limiter.Result, r *http.Request) {
	if c.testOnly && !c.deferred {
		return
	}
	if !res.Allowed {
		if st.lim.dryRun && !c.deferred && (c.g.kind == kindRoute || c.g.kind == kindShared) {
			// Let through: its breach is reported once, not again by a
			// limit of the same bucket further on.
			st.counted = append(st.counted, countedKey{c.skey, c.cost})
		}
		return
	}
	if c.deferred {
		if !st.countedAtOnce(c.skey, c.cost) {
			st.pending = append(st.pending, pending{g: c.g, cl: c.cl, key: c.skey, cost: c.cost, req: r})
		}
		return
	}
	if c.g.kind == kindRoute || c.g.kind == kindShared {
		// Only route limits share buckets: the others' keys name their kind.
		st.counted = append(st.counted, countedKey{c.skey, c.cost})
	}
	if len(st.pending) == 0 {
		return
	}
	ps := st.pending[:0]
	for _, p := range st.pending {
		if p.key != c.skey || p.cost != c.cost {
			ps = append(ps, p)
		}
	}
	clear(st.pending[len(ps):])
	st.pending = ps
}

// storageContext returns the context for storage calls, bounded by the
// storage timeout (made once per request, on first use).
func (st *reqState) storageContext() context.Context {
	if st.cancel == nil && st.lim.timeout > 0 {
		st.ctx, st.cancel = context.WithTimeout(st.baseCtx, st.lim.timeout)
	}
	return st.ctx
}

// detach makes the request's later storage calls outlive the request's
// context: what already happened (a handler that ran, a breach) is counted
// even when the client hangs up now, or a client could dodge deduct-when
// and meta limits by disconnecting. The storage timeout still bounds them.
func (st *reqState) detach() {
	st.release()
	if st.lim.inProcess && st.baseCtx.Err() == nil {
		// The in-process storage answers at once and keeps no context:
		// only a hang-up in the instant between this check and its own
		// could still skip the call, so the allocation is not worth it.
		return
	}
	st.baseCtx = context.WithoutCancel(st.baseCtx) // its own: a storage may keep it
	st.ctx = st.baseCtx
}

func (st *reqState) release() {
	if st.cancel != nil {
		st.cancel()
		st.cancel = nil
		st.ctx = st.baseCtx
	}
}

// clientKey is the limiter's key for r, computed once per request
// context: a route limit behind middleware that put the user in the context
// sees that user, where the limits Handler checked before saw none.
func (st *reqState) clientKey(r *http.Request) string {
	if ctx := r.Context(); ctx != st.keyCtx {
		st.key, st.keyCtx = st.lim.keyFunc(r), ctx
		if st.key == "" {
			st.lim.warnEmptyKey(r)
		}
	}
	return st.key
}

// deducted replaces the result reported for cl, a test made before the
// handler, with the deduction's: the headers then count this request, as
// Flask-Limiter's, which it writes after its conditional deductions.
func (st *reqState) deducted(key string, res limiter.Result) {
	if st.haveBest && st.best.key == key && !st.best.breached {
		st.best.res = res
	}
	for i := range st.policies {
		if p := &st.policies[i]; p.key == key && !p.breached {
			p.res = res
		}
	}
}

// record notes a limit's result for the headers: the breached one wins,
// else the smallest window.
func (st *reqState) record(cl *compiledLimit, key string, res limiter.Result) {
	breached := !res.Allowed
	if st.lim.ietf {
		st.recordPolicy(reported{cl: cl, key: key, res: res, breached: breached})
	}
	switch {
	case !st.haveBest, breached && !st.best.breached:
		st.best, st.haveBest = reported{cl: cl, key: key, res: res, breached: breached}, true
	case st.best.breached:
	case st.best.key == key, cl.window < st.best.cl.window:
		// A later operation on the bucket reported gives its newer state
		// (a count at once after a deduct-when limit's test of it).
		st.best = reported{cl: cl, key: key, res: res, breached: breached}
	}
}

// recordUnchecked adds to the IETF policies the limits of cs, which a
// breach before them left unchecked, so a 429 lists the request's limits
// as a 200 does (the draft wants the policy the same on every response).
func (st *reqState) recordUnchecked(cs []check) {
	if !st.lim.ietf {
		return
	}
next:
	for i := range cs {
		for _, p := range st.policies {
			if p.key == cs[i].skey {
				continue next
			}
		}
		st.policies = append(st.policies, reported{cl: cs[i].cl, key: cs[i].skey})
	}
}

// recordPolicy adds rep to the IETF policies, or updates the policy of
// its bucket with it.
func (st *reqState) recordPolicy(rep reported) {
	for i := range st.policies {
		if p := &st.policies[i]; p.key == rep.key {
			if !p.breached || rep.breached {
				*p = rep
			}
			return
		}
	}
	st.policies = append(st.policies, rep)
}
