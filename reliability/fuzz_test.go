package reliability

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
	_ "github.com/limits-go/limits/storage/redis"
)

// uriSentinels are the errors limiter.Open may wrap for a bad URI.
var uriSentinels = []error{limiter.ErrInvalidURI, limiter.ErrUnknownScheme, limiter.ErrInvalidOption}

// resolvesNames reports whether opening uri could make the memcached
// client resolve a host name: gomemcache resolves its servers when the
// client is made, and the tests must never leave loopback.
func resolvesNames(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || !strings.EqualFold(u.Scheme, "memcached") {
		return false
	}
	for _, hp := range strings.Split(u.Host, ",") {
		host, _, err := net.SplitHostPort(hp)
		if err == nil && net.ParseIP(host) == nil {
			return true
		}
	}
	return false
}

// FuzzOpen opens storage URIs of every scheme the memory, redis and
// memcached packages register: no panic, and every error wraps one of the
// limiter's sentinels. Opening never connects, so any address will do.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"memory://", "memory://?x=1", "memory:///path", "memory://host",
		"redis://127.0.0.1:6379/0", "redis://:pw@127.0.0.1:6379/15?prefix=a&timeout=1s&clock=client",
		"redis://127.0.0.1:6379/99999999999999999999", "redis://127.0.0.1:6379?prefix={x}", "redis://127.0.0.1:6379?timeout=-1s",
		"redis://127.0.0.1:6379?max_retries=x", "rediss://127.0.0.1:6380", "redis+unix:///tmp/r.sock?db=2",
		"redis+cluster://127.0.0.1:1,127.0.0.1:2", "redis+cluster://127.0.0.1:1/3", "redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/1",
		"redis+sentinel://127.0.0.1:1/", "redis+sentinel://127.0.0.1:1/a/b/c", "REDIS://127.0.0.1:6379",
		"memcached://127.0.0.1:11211", "memcached://127.0.0.1:11211,[::1]:11211?timeout=250ms&max_idle_conns=3&key_prefix=p:",
		"memcached://127.0.0.1:0", "memcached://127.0.0.1:99999", "memcached://u:p@127.0.0.1:1", "memcached://127.0.0.1:1?key_prefix=a%20b",
		"memcached://127.0.0.1:1?timeout=0s", "memcached://", "memcached:opaque", "nosuch://x", "", "://", "redis://%zz", "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if resolvesNames(uri) {
			t.Skip("host name")
		}
		s, err := limiter.Open(context.Background(), uri)
		if err != nil {
			for _, sentinel := range uriSentinels {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("Open(%q) = %v, which wraps none of ErrInvalidURI, ErrUnknownScheme, ErrInvalidOption", uri, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Open(%q).Close() = %v", uri, err)
		}
	})
}

// bucketsRouter returns a handler whose client key and shared scope are
// the request's "K" and "S" headers, under a limit of 1 per minute, on a
// fresh memory storage.
func bucketsRouter(t *testing.T) http.Handler {
	mem, err := memory.New(memory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	lim, err := chilimit.New(
		chilimit.WithStorage(mem),
		chilimit.WithLogger(slog.New(slog.DiscardHandler)),
		chilimit.WithKeyFunc(func(r *http.Request) string { return r.Header.Get("K") }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close() })
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.Limit("1 per minute", chilimit.ScopeFunc(func(r *http.Request, _ string) string { return r.Header.Get("S") }))).
		Get("/r", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	return r
}

// headerSafe reports whether v survives as a header value unchanged.
func headerSafe(v string) bool {
	for i := range len(v) {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

// FuzzClientBuckets sends one request for each of two (key, scope) pairs
// through chilimit with a limit of 1 per minute: the second is rejected
// exactly when the pairs are equal, so no choice of key and scope lands in
// another client's or another scope's bucket.
func FuzzClientBuckets(f *testing.F) {
	f.Add("a", "s", "a", "s")
	f.Add("a", "s", "a", "t")
	f.Add("a/1:b", "", "a", "1:b")
	f.Add("", "x", "x", "")
	f.Add("1:a", "1:b", "1:a/1", ":b")
	f.Add("\xff", "/", "\xfe", "/")
	f.Add(strings.Repeat("k", 300), "s", strings.Repeat("k", 299), "ks")
	f.Fuzz(func(t *testing.T, k1, s1, k2, s2 string) {
		for _, v := range []string{k1, s1, k2, s2} {
			if !headerSafe(v) {
				t.Skip("not a header value")
			}
		}
		h := bucketsRouter(t)
		if code := get(h, "10.0.0.1:1", "/r", "K", k1, "S", s1).Code; code != http.StatusOK {
			t.Fatalf("first request (%q, %q): %d, want 200", k1, s1, code)
		}
		want := http.StatusOK
		if k1 == k2 && s1 == s2 {
			want = http.StatusTooManyRequests
		}
		if code := get(h, "10.0.0.1:1", "/r", "K", k2, "S", s2).Code; code != want {
			t.Fatalf("(%q, %q) after (%q, %q): %d, want %d", k2, s2, k1, s1, code, want)
		}
	})
}

// FuzzDynamicLimit returns fuzzed limit strings from a route's limit
// function: the request never panics; a string limiter.ParseMany accepts is
// enforced, and any other falls back to the default limit.
func FuzzDynamicLimit(f *testing.F) {
	for _, s := range []string{"1/second", "0 per minute", "10/hour;100/day", "", "10/weak", "1/second;;", "99999999999999999999/second", "5/2 seconds", "1 / Second", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if !headerSafe(spec) {
			t.Skip("not a header value")
		}
		mem, err := memory.New(memory.WithSweepInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		defer mem.Close()
		lim, err := chilimit.New(chilimit.WithStorage(mem), chilimit.WithDefaultLimits("1 per hour"),
			chilimit.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		defer lim.Close()
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(lim.LimitFunc(func(r *http.Request) string { return r.Header.Get("L") })).
			Get("/r", func(http.ResponseWriter, *http.Request) {})
		ls, perr := limiter.ParseMany(spec)
		first := get(r, "10.0.0.1:1", "/r", "L", spec).Code
		second := get(r, "10.0.0.1:1", "/r", "L", spec).Code
		if perr != nil {
			if first != http.StatusOK || second != http.StatusTooManyRequests {
				t.Fatalf("malformed %q: %d, %d, want 200, 429 (the default 1 per hour)", spec, first, second)
			}
			return
		}
		minAmount := ls[0].Amount
		for _, l := range ls {
			minAmount = min(minAmount, l.Amount)
		}
		want := []int{http.StatusOK, http.StatusOK}
		switch minAmount {
		case 0:
			want = []int{http.StatusTooManyRequests, http.StatusTooManyRequests}
		case 1:
			want[1] = http.StatusTooManyRequests
		}
		if first != want[0] || second != want[1] {
			t.Fatalf("limit %q: %d, %d, want %v", spec, first, second, want)
		}
	})
}
