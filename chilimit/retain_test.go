package chilimit

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/go-chi/chi/v5"
)

// within reports whether s's bytes lie inside buf's: s is a slice of buf
// and keeps all of it alive.
func within(s, buf string) bool {
	if len(s) == 0 {
		return false
	}
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(buf)))
	return p >= b && p < b+uintptr(len(buf))
}

// requestLine returns a GET request whose method, path and header values
// are, or end in, slices of big strings, as net/http leaves them (the
// method and the path are cut from the request line; a header value is one
// string), and those strings.
func requestLine(path, client string) (*http.Request, []string) {
	line := "GET " + path + "?q=" + strings.Repeat("a", 64<<10) + " HTTP/1.1"
	xff := strings.Repeat("b", 64<<10) + ", " + client
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Method = line[:3]
	r.URL.Path = line[4 : 4+len(path)]
	r.RequestURI = line[4 : len(line)-len(" HTTP/1.1")]
	r.Header["X-Forwarded-For"] = []string{xff}
	r.Header["X-Tenant"] = []string{xff}
	limit := xff[:len(xff)-len(client)] + "1000/hour"
	r.Header["X-Limit"] = []string{limit}
	return r, []string{line, xff, limit}
}

// The look-ahead cache, the key cache and LimitFunc's parse cache keep
// copies of what they take from a request, never slices of it: a 3-byte path or client must not pin
// a request line or a header of a megabyte (net/http accepts that much)
// for as long as it stays cached.
func TestCachesHoldNoRequestMemory(t *testing.T) {
	lim, err := New(WithDefaultLimits("1000/hour"), WithTrustedProxies(1),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/u/{id}", func(http.ResponseWriter, *http.Request) {})
	tenant := ScopeFunc(func(r *http.Request, _ string) string {
		v := r.Header.Get("X-Tenant")
		return v[len(v)-3:]
	})
	r.With(Limit("1000/hour", tenant, PerMethod(true))).Get("/t", func(http.ResponseWriter, *http.Request) {})
	dynamic := newRouteGroup(nil, "", func(r *http.Request) string {
		v := r.Header.Get("X-Limit")
		return v[strings.LastIndexByte(v, ' ')+1:]
	}, nil)
	r.With(newMarker(dynamic)).Get("/d", func(http.ResponseWriter, *http.Request) {})

	var bufs []string
	for _, path := range []string{"/u/1", "/u/2", "/t", "/d"} {
		req, big := requestLine(path, "10.0.0.7")
		bufs = append(bufs, big...)
		for range 2 { // the key cache admits a key on its second miss
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", path, w.Code)
			}
		}
	}

	aliased := func(what, s string) {
		t.Helper()
		for _, b := range bufs {
			if within(s, b) {
				t.Errorf("%s %q is a slice of a request's %d-byte string, want a copy", what, s, len(b))
			}
		}
	}
	idx := lim.idx.Load()
	routes, keys := 0, 0
	idx.cache.each(func(cr *cachedRoute) {
		routes++
		aliased("route cache method", cr.key.method)
		aliased("route cache path", cr.key.path)
	})
	lim.keys.slots.each(func(ck *cachedKey) {
		keys++
		aliased("key cache client", ck.parts.client)
		aliased("key cache scope", ck.parts.scope)
		aliased("key cache method", ck.parts.method)
	})
	if p := dynamic.dynamic[0].cache.Load(); p == nil || p.err != nil {
		t.Errorf("LimitFunc's parse cache = %+v, want the parse of 1000/hour", p)
	} else {
		aliased("LimitFunc's cached string", p.spec)
	}
	if routes != 4 || keys != 3 {
		t.Errorf("caches hold %d paths and %d keys, want 4 and 3 (the test looked at nothing)", routes, keys)
	}
}
