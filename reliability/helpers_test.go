package reliability

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
)

// logRecorder is a slog.Handler that keeps every record, so tests can count
// how often the limiter logged a problem.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level have a message starting with
// prefix.
func (h *logRecorder) count(level slog.Level, prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level && strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

// attr returns the value of attribute key of the last record at level whose
// message starts with prefix.
func (h *logRecorder) attr(level slog.Level, prefix, key string) (slog.Value, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.recs) - 1; i >= 0; i-- {
		r := h.recs[i]
		if r.Level != level || !strings.HasPrefix(r.Message, prefix) {
			continue
		}
		var v slog.Value
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value, true
				return false
			}
			return true
		})
		return v, found
	}
	return slog.Value{}, false
}

// Log messages of chilimit the tests count.
const (
	msgStorageFailed = "chilimit: storage failed"
	msgFallbackOn    = "chilimit: storage failed; using the in-memory fallback"
	msgRecovered     = "chilimit: storage recovered"
	msgEmptyKey      = "chilimit: key function returned an empty key"
)

// newLimiter returns a limiter logging into a fresh recorder, closed when the
// test ends.
func newLimiter(t testing.TB, opts ...chilimit.Option) (*chilimit.Limiter, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	lim, err := chilimit.New(append([]chilimit.Option{chilimit.WithLogger(slog.New(rec))}, opts...)...)
	if err != nil {
		t.Fatalf("chilimit.New: %v", err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	return lim, rec
}

// router returns a chi router with lim.Handler at the root and GET /r
// answering "ok".
func router(lim *chilimit.Limiter) chi.Router {
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/r", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	return r
}

// get serves GET path from the client at addr and returns the recorder.
func get(h http.Handler, addr, path string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = addr
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// statuses serves n requests from addr and returns their status codes.
func statuses(h http.Handler, addr, path string, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = get(h, addr, path).Code
	}
	return out
}

// repeat returns n copies of code followed by m copies of then.
func repeat(code, n, then, m int) []int {
	out := make([]int, 0, n+m)
	for range n {
		out = append(out, code)
	}
	for range m {
		out = append(out, then)
	}
	return out
}

// load keeps workers goroutines sending requests (each from its own client
// address) until stop is called, and counts the responses by status.
type load struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	codes  map[int]int
	total  atomic.Int64
}

func startLoad(h http.Handler, workers int) *load {
	ld := &load{stopCh: make(chan struct{}), codes: map[int]int{}}
	for i := range workers {
		addr := "10.1.0." + itoa(i+1) + ":1234"
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for {
				select {
				case <-ld.stopCh:
					return
				default:
				}
				code := get(h, addr, "/r").Code
				ld.mu.Lock()
				ld.codes[code]++
				ld.mu.Unlock()
				ld.total.Add(1)
			}
		}()
	}
	return ld
}

// waitMore blocks until n more responses than now have come back, failing
// the test after timeout.
func (ld *load) waitMore(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	want := ld.total.Load() + n
	deadline := time.Now().Add(timeout)
	for ld.total.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("load: %d responses within %v, want %d", ld.total.Load()-(want-n), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (ld *load) stop() map[int]int {
	close(ld.stopCh)
	ld.wg.Wait()
	ld.mu.Lock()
	defer ld.mu.Unlock()
	out := make(map[int]int, len(ld.codes))
	for k, v := range ld.codes {
		out[k] = v
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

// eventually polls cond every 10ms until it holds, failing the test with
// what after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkTimes wraps a storage and records when Check was called and what it
// returned, to observe the fallback's health-check back-off.
type checkTimes struct {
	limiter.Storage
	mu    sync.Mutex
	calls []checkCall
}

type checkCall struct {
	start, end time.Time
	err        error
}

func (c *checkTimes) Check(ctx context.Context) error {
	start := time.Now()
	err := c.Storage.Check(ctx)
	c.mu.Lock()
	c.calls = append(c.calls, checkCall{start, time.Now(), err})
	c.mu.Unlock()
	return err
}

func (c *checkTimes) snapshot() []checkCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]checkCall(nil), c.calls...)
}

// proxy is a loopback TCP proxy in front of a server that can black-hole
// traffic, cut connections as a reply comes back, or delay replies.
type proxy struct {
	ln     net.Listener
	target string
	match  []byte // a drop hits the reply to a request containing this (lower case)

	blackhole atomic.Bool  // client bytes are read and dropped: nothing is ever answered
	dropNext  atomic.Int64 // the next n replies to a matching request cut their connection instead of arriving
	dropped   atomic.Int64 // replies cut so far
	latency   atomic.Int64 // nanoseconds added before each reply

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startProxy listens on a free loopback port and forwards to target until
// the test ends; drops hit the replies to Redis script calls.
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	return startProxyMatching(t, target, "eval")
}

// startProxyMatching is startProxy with drops hitting the replies to
// requests that contain match.
func startProxyMatching(t testing.TB, target, match string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &proxy{ln: ln, target: target, match: []byte(strings.ToLower(match)), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			_ = client.Close()
			_ = server.Close()
			return
		}
		p.wg.Add(2)
		script := new(atomic.Bool)
		go p.upstream(client, server, script)
		go p.downstream(client, server, script)
	}
}

// upstream copies the client's bytes to the server, or drops them while
// black-holing. It sets script when it forwarded a request containing the
// proxy's match, so that a drop hits that reply, not a handshake's.
func (p *proxy) upstream(client, server net.Conn, script *atomic.Bool) {
	defer p.wg.Done()
	defer func() { _ = server.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 && !p.blackhole.Load() {
			if bytes.Contains(bytes.ToLower(buf[:n]), p.match) {
				script.Store(true)
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// downstream copies the server's replies to the client, delayed by the
// latency, or cuts both connections when a drop is due and the reply
// answers a script call.
func (p *proxy) downstream(client, server net.Conn, script *atomic.Bool) {
	defer p.wg.Done()
	defer func() { _ = client.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if script.Swap(false) && p.takeDrop() {
				p.dropped.Add(1)
				_ = server.Close()
				return
			}
			if d := time.Duration(p.latency.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) takeDrop() bool {
	for {
		n := p.dropNext.Load()
		if n <= 0 {
			return false
		}
		if p.dropNext.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// isStorageErr reports whether err is a storage failure as chilimit hands it
// to the error handler.
func isStorageErr(err error) bool { return errors.Is(err, chilimit.ErrStorage) }

// newDiscardLog returns a *log.Logger that drops everything, for servers
// whose panics a test provokes on purpose.
func newDiscardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// frozenClock returns a limiter option with a clock that stands still at
// the present instant, for tests that count exact sequences of requests on
// a storage deciding by the request's instant (memory, memcached) under
// every strategy. The sliding window counter's windows are aligned to
// whole multiples of their length, so on the system clock a sequence that
// ran across the end of a minute would see the earlier requests' count
// weigh less (floor(3 × 0.999) = 2) and one request more allowed.
func frozenClock() chilimit.Option {
	return chilimit.WithClock(limiter.NewManualClock(time.Now()))
}

// clearOfWindowEdge waits, when less than lead is left before the system
// clock reaches the next whole multiple of window, until that instant has
// passed, so that a short sequence of requests about to be sent falls in
// one aligned window of the sliding window counter, on storages that
// decide by their own clock (a local Redis server's TIME) as well as on
// those that decide by the request's instant.
func clearOfWindowEdge(window, lead time.Duration) {
	now := time.Now()
	if left := now.Truncate(window).Add(window).Sub(now); left < lead {
		time.Sleep(left + 10*time.Millisecond)
	}
}
