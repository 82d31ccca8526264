package chilimit

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"
)

// responseWriter wraps the ResponseWriter of a request that passed through
// lim.Handler. It records the status for deduct-when predicates and carries
// the request's rate-limit state to the route markers downstream, which find
// it by unwrapping (so it costs no context allocation). It keeps the
// optional interfaces working: http.Flusher and http.Hijacker delegate
// through http.ResponseController, which sees through wrappers that
// implement Unwrap; io.ReaderFrom and http.Pusher use the wrapped writer's
// own method when it has one, and otherwise fall back to io.Copy and
// report http.ErrNotSupported.
type responseWriter struct {
	w           http.ResponseWriter
	status      int
	wroteHeader bool // the status is known (a ReadFrom assumes 200 before its first byte)
	sent        bool // the header went to w for certain
	hijacked    bool
	st          reqState
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

func getWriter(w http.ResponseWriter) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	rw.w = w
	return rw
}

func putWriter(rw *responseWriter) {
	rw.w = nil
	rw.status = 0
	rw.wroteHeader, rw.sent, rw.hijacked = false, false, false
	rw.st.reset()
	writerPool.Put(rw)
}

// statusCode is the status the handler wrote, or 200 if it wrote nothing.
func (rw *responseWriter) statusCode() int {
	if rw.status == 0 {
		return http.StatusOK
	}
	return rw.status
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	if rw.sent && !rw.hijacked && rw.superfluous() {
		return
	}
	final := code >= 200 || code == http.StatusSwitchingProtocols
	if !rw.wroteHeader && final {
		rw.statusKnown(code)
	}
	rw.w.WriteHeader(code)
	if final {
		rw.sent = true
	}
}

// superfluous handles a WriteHeader call made after the header went out
// when a net/http server serves the request: it logs it as the server
// would, to its ErrorLog (the standard logger without one), but naming the
// handler's call rather than this writer, which the server would name, and
// reports true. Elsewhere (a test's ResponseRecorder) it reports false and
// the call goes on to the wrapped writer as before.
func (rw *responseWriter) superfluous() bool {
	r := rw.st.req
	if r == nil {
		return false
	}
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return false
	}
	fn, file, line := relevantCaller()
	msg := fmt.Sprintf("http: superfluous response.WriteHeader call from %s (%s:%d)", fn, path.Base(file), line)
	if srv.ErrorLog != nil {
		srv.ErrorLog.Print(msg)
	} else {
		log.Print(msg)
	}
	return true
}

// relevantCaller returns the function, file and line of the innermost
// caller outside this package and net/http (whose http.Error calls
// WriteHeader for the handler), as net/http's own warning names it.
func relevantCaller() (fn, file string, line int) {
	var pcs [16]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs[:])])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "github.com/limits-go/limits/chilimit.") && !strings.HasPrefix(f.Function, "net/http.") || !more {
			return f.Function, f.File, f.Line
		}
	}
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.statusKnown(http.StatusOK)
	}
	rw.sent = true
	return rw.w.Write(p)
}

// statusKnown records the response's status, before it goes out, and makes
// the request's deduct-when deductions now, so that the rate-limit headers
// still to be sent count them, as Flask-Limiter's after_request does. A
// state a marker borrowed through the handoff table and has not given back
// is in use on another goroutine (http.TimeoutHandler answering first): its
// deductions wait for the Handler's end.
func (rw *responseWriter) statusKnown(code int) {
	rw.status, rw.wroteHeader = code, true
	st := &rw.st
	if st.lim == nil {
		return
	}
	if sh := st.handoff; sh != nil {
		sh.mu.Lock()
		st.answered = true // no marker borrows it from now on; drop unlinks it
		busy := st.active.Load() > 0
		sh.mu.Unlock()
		if busy {
			return // a borrower (behind http.TimeoutHandler) still works on st
		}
	}
	if len(st.pending) == 0 {
		return
	}
	st.lim.deduct(st, st.req, code)
	if !st.rejected {
		st.lim.writeHeaders(rw, st, false)
	}
}

// settle makes the deductions still pending once the handler has returned,
// with the status it answered (200 if it wrote nothing). A handler that
// wrote nothing leaves the headers to net/http, which sends them after it
// returns: they can still count the deductions.
func (rw *responseWriter) settle(status int) {
	st := &rw.st
	if len(st.pending) == 0 {
		return
	}
	st.lim.deduct(st, st.req, status)
	if !rw.wroteHeader && !st.rejected {
		st.lim.writeHeaders(rw, st, false)
	}
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// Flush sends buffered data to the client (http.Flusher).
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is Flush reporting failure, for http.ResponseController: the
// wrapped writer's error (the client is gone), or http.ErrNotSupported when
// it cannot flush, in which case nothing is sent and the status stays for
// the handler to write.
func (rw *responseWriter) FlushError() error {
	if !canFlush(rw.w) {
		return http.ErrNotSupported
	}
	if !rw.wroteHeader {
		rw.statusKnown(http.StatusOK)
	}
	return http.NewResponseController(rw.w).Flush()
}

// canFlush reports whether w, or a writer it unwraps to, can flush.
func canFlush(w http.ResponseWriter) bool {
	for range 16 {
		switch v := w.(type) {
		case http.Flusher, interface{ FlushError() error }:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return false
		}
	}
	return false
}

// Hijack lets the handler take over the connection (http.Hijacker), for
// websockets; the status recorded is 101 Switching Protocols.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.hijacked = true
		if !rw.wroteHeader {
			rw.status, rw.wroteHeader = http.StatusSwitchingProtocols, true
		}
	}
	return c, brw, err
}

// ReadFrom copies from src with the wrapped writer's io.ReaderFrom when it
// has one (sendfile for files), else with io.Copy.
func (rw *responseWriter) ReadFrom(src io.Reader) (n int64, err error) {
	if !rw.wroteHeader {
		rw.statusKnown(http.StatusOK)
	}
	// Nothing copied, nothing sent: the handler may still answer an error.
	defer func() { rw.sent = rw.sent || n > 0 }()
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rw.w}, src)
}

// Push initiates an HTTP/2 server push (http.Pusher).
func (rw *responseWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := rw.w.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// stateOf finds the rate-limit state that l's Handler (or a route limit of
// l's) attached to w, unwrapping middleware wrappers that implement Unwrap.
func stateOf(w http.ResponseWriter, l *Limiter) *reqState {
	for range 16 {
		switch v := w.(type) {
		case *responseWriter:
			if v.st.lim == l {
				return &v.st
			}
			w = v.w
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// markerStateOf finds the state route marker g works on: its limiter's, if
// it is bound to one. An unbound marker belongs to a Handler whose route
// index counts it (the nearest such, as the indexes decide together); else
// to the nearest that knows it, and exempts it; else to the nearest
// Handler, then to the nearest route limit running on its own.
func markerStateOf(w http.ResponseWriter, g *group) *reqState {
	if g.bound != nil {
		return stateOf(w, g.bound)
	}
	var pick markerPick
	for range 16 {
		switch v := w.(type) {
		case *responseWriter:
			if pick.offer(&v.st, g) {
				return &v.st
			}
			w = v.w
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return pick.best()
		}
	}
	return pick.best()
}

// markerPick chooses the state an unbound marker works on among those
// offered, nearest first, as markerStateOf describes.
type markerPick struct{ known, handler, standalone *reqState }

// offer reports whether st is the choice: its Handler's index counts g.
func (p *markerPick) offer(st *reqState, g *group) bool {
	switch {
	case st.entry == nil:
		p.standalone = cmp.Or(p.standalone, st)
	case st.entry.isActive(g):
		return true
	case st.entry.knows(g):
		p.known = cmp.Or(p.known, st)
	default:
		p.handler = cmp.Or(p.handler, st)
	}
	return false
}

// best is the choice when no state offered was one whose index counts g.
func (p *markerPick) best() *reqState { return cmp.Or(p.known, p.handler, p.standalone) }

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
	_ http.Pusher   = (*responseWriter)(nil)
)
