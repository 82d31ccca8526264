package chilimit

import (
	"hash/maphash"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
)

// Route markers find their request's state through the ResponseWriter,
// unwrapping middleware wrappers on the way. A wrapper without an Unwrap
// method (http.TimeoutHandler's, many older ones) hides it; the handoff
// table is the second way, keyed by the chi route context, which every
// handler of one request shares however its middleware rewrap the request
// and the writer. lim.Handler fills it for routes that carry markers
// (exempted ones included) or the Handler twice, and for every request when
// disabled; a marker reads it when the writer leads to no state that knows
// the marker. Several Limiters' Handlers on one path each record their
// state: the table holds the innermost, which links to the next one out
// (reqState.handoffOuter).

// handoffs is the process's table: markers made by [Limit] may run under
// any Limiter's Handler.
var handoffs = newHandoffTable()

type handoffTable struct {
	seed   maphash.Seed
	shards [32]handoffShard
}

type handoffShard struct {
	mu sync.Mutex
	m  map[*chi.Context]*reqState // the innermost Handler's state
}

func newHandoffTable() *handoffTable {
	t := &handoffTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[*chi.Context]*reqState)
	}
	return t
}

func (t *handoffTable) shard(rctx *chi.Context) *handoffShard {
	return &t.shards[maphash.Comparable(t.seed, rctx)%uint64(len(t.shards))]
}

// put records st as the state of the request routed with rctx, until
// drop(st).
func (t *handoffTable) put(rctx *chi.Context, st *reqState) {
	sh := t.shard(rctx)
	st.handoff, st.handoffKey = sh, rctx
	sh.mu.Lock()
	st.handoffOuter = sh.m[rctx]
	sh.m[rctx] = st
	sh.mu.Unlock()
}

// putFor records st for r's route context, if r has one.
func (t *handoffTable) putFor(r *http.Request, st *reqState) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		t.put(rctx, st)
	}
}

// unlink takes st out of its route context's chain, with the states in
// front of it: those of inner Handlers whose chain outlived st's (an outer
// Handler ends first, or its response starts, only when a middleware
// between them, such as http.TimeoutHandler at its deadline, answered
// while the inner chain runs on in a goroutine). Left linked, those would
// be taken for the states of the next request routed with rctx, which chi
// pools. Only the end of st's Handler calls it: until then the states in
// front may still be at work, even once st's response has started (a
// middleware between the Handlers may write while the inner chain runs).
// The caller holds sh.mu; st is recorded in sh or unlinked already.
func (sh *handoffShard) unlink(st *reqState) {
	key := st.handoffKey
	head := sh.m[key]
	for p := head; p != nil; p = p.handoffOuter {
		if p != st {
			continue
		}
		if st.handoffOuter != nil {
			sh.m[key] = st.handoffOuter
		} else {
			delete(sh.m, key)
		}
		for q := head; q != st; {
			next := q.handoffOuter
			q.handoffOuter = nil
			q = next
		}
		break
	}
	st.handoffOuter = nil
}

// drop forgets st's request (chi reuses route contexts) and waits for a
// marker that borrowed st to give it back. A marker may still be running
// when its Handler goes on: http.TimeoutHandler runs the rest of the chain
// in a goroutine and returns at its deadline. After drop the state is the
// Handler's alone again, to read and to reuse. It does nothing for a state
// not put.
func (t *handoffTable) drop(st *reqState) {
	sh := st.handoff
	if sh == nil {
		return
	}
	sh.mu.Lock()
	sh.unlink(st)
	sh.mu.Unlock()
	st.handoff, st.handoffKey = nil, nil
	st.borrowers.Wait() // unlinked: no borrower can come now
}

// borrow returns the state recorded for rctx that route marker g works on,
// chosen as markerStateOf chooses, or nil. The caller holds the state's
// borrowed lock until it calls giveBack; see drop.
func (t *handoffTable) borrow(rctx *chi.Context, g *group, have *reqState) *reqState {
	sh := t.shard(rctx)
	sh.mu.Lock()
	st := sh.chosen(rctx, g)
	if st == have {
		st = nil // the writer leads to it: no borrow needed
	}
	if st != nil {
		st.active.Add(1)
		st.borrowers.Add(1) // under sh.mu: drop, which takes it too, then waits
	}
	sh.mu.Unlock()
	if st != nil {
		// Not under sh.mu: another borrower may hold the state while the
		// response is written, which takes sh.mu (responseWriter.statusKnown).
		st.borrowed.Lock()
	}
	return st
}

// chosen is borrow's choice. The caller holds sh.mu.
func (sh *handoffShard) chosen(rctx *chi.Context, g *group) *reqState {
	var pick markerPick
	for p := sh.m[rctx]; p != nil; p = p.handoffOuter {
		switch {
		case p.answered:
		case g.bound != nil:
			if p.lim == g.bound {
				return p
			}
		case pick.offer(p, g):
			return p
		}
	}
	return pick.best() // nil for a bound marker: nothing was offered
}

// recordedFor reports whether l's Handler recorded a state for r's route
// context.
func (t *handoffTable) recordedFor(r *http.Request, l *Limiter) bool {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return false
	}
	sh := t.shard(rctx)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for p := sh.m[rctx]; p != nil; p = p.handoffOuter {
		if p.lim == l {
			return true
		}
	}
	return false
}

// giveBack ends a borrow of st.
func (st *reqState) giveBack() {
	st.borrowed.Unlock()
	st.active.Add(-1)
	st.borrowers.Done()
}
