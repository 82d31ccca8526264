package chilimit_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newLimiter returns a limiter over a fresh memory storage and a manual
// clock at t0; both are closed when the test ends.
func newLimiter(t testing.TB, opts ...chilimit.Option) (*chilimit.Limiter, *limiter.ManualClock) {
	t.Helper()
	clock := limiter.NewManualClock(t0)
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	l, err := chilimit.New(append([]chilimit.Option{chilimit.WithClock(clock), chilimit.WithStorage(mem), chilimit.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		_ = l.Close()
		_ = mem.Close()
	})
	return l, clock
}

// text returns a handler answering body.
func text(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }
}

type reqOpt func(*http.Request)

func from(addr string) reqOpt { return func(r *http.Request) { r.RemoteAddr = addr } }

func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func serve(h http.Handler, method, path string, opts ...reqOpt) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for _, o := range opts {
		o(req)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func get(h http.Handler, path string, opts ...reqOpt) *httptest.ResponseRecorder {
	return serve(h, http.MethodGet, path, opts...)
}

// step is one request of a table and what it must get.
type step struct {
	method  string        // GET if empty
	path    string        //
	advance time.Duration // clock advance before the request
	opts    []reqOpt
	code    int
	body    string            // checked when not empty
	headers map[string]string // checked; "" means absent
}

func run(t *testing.T, h http.Handler, clock *limiter.ManualClock, steps []step) {
	t.Helper()
	for i, s := range steps {
		if s.advance > 0 {
			clock.Advance(s.advance)
		}
		m := s.method
		if m == "" {
			m = http.MethodGet
		}
		w := serve(h, m, s.path, s.opts...)
		if w.Code != s.code {
			t.Fatalf("step %d: %s %s = %d %q, want %d", i, m, s.path, w.Code, w.Body.String(), s.code)
		}
		if s.body != "" && strings.TrimSpace(w.Body.String()) != s.body {
			t.Fatalf("step %d: %s %s body = %q, want %q", i, m, s.path, w.Body.String(), s.body)
		}
		for k, v := range s.headers {
			if got := w.Header().Get(k); got != v {
				t.Fatalf("step %d: %s %s header %s = %q, want %q", i, m, s.path, k, got, v)
			}
		}
	}
}

// repeat returns n copies of s.
func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func httptestRequest(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func newSharedMemory(t testing.TB, clock limiter.Clock) *memory.Storage {
	t.Helper()
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	return mem
}

// syncBuffer is a bytes.Buffer safe for a logger in another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveWithin serves GET path through h and returns the status, failing
// the test if the request has not ended within d: for cases that used to
// hang.
func serveWithin(t *testing.T, h http.Handler, path string, d time.Duration) int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		done <- w.Code
	}()
	select {
	case code := <-done:
		return code
	case <-time.After(d):
		t.Fatalf("GET %s did not end within %v", path, d)
		return 0
	}
}

// requireAuthorization stands for authentication middleware: it answers 401
// to a request without an Authorization header.
func requireAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
