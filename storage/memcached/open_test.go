package memcached

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/limits-go/limits/limiter"
)

// TestOpenStrictQuery checks that a query url.URL.Query would read
// leniently, dropping a pair with a ';' or a malformed %-escape, is an
// error and not a storage without the parameter. No server is needed: the
// URI fails before a client exists.
func TestOpenStrictQuery(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"memcached://127.0.0.1:1?key_prefix=%zz", `query parameter "key_prefix"`},
		{"memcached://127.0.0.1:1?key_prefix=app;timeout=1s", `query parameter "key_prefix"`},
		{"memcached://127.0.0.1:1?timeout=1s&t%zz=1", `query parameter "t%zz"`},
	} {
		s, err := limiter.Open(context.Background(), tc.uri)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want ErrInvalidURI mentioning %q", tc.uri, err, tc.want)
		}
		if s != nil {
			_ = s.Close()
		}
	}
	// The OpenFunc itself, which limiter.Open's check shields: it must not
	// rely on it.
	for _, raw := range []string{"key_prefix=%zz", "key_prefix=app;timeout=1s"} {
		u := &url.URL{Scheme: Scheme, Host: "127.0.0.1:1", RawQuery: raw}
		s, err := open(context.Background(), u)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), "query") {
			t.Errorf("open(%s) = %v, want an error wrapping ErrInvalidURI about the query", u, err)
		}
		if s != nil {
			_ = s.Close()
		}
	}
}

// A nil option is an error naming what is wrong, as in the other storages;
// it used to be skipped silently.
func TestOpenNilOption(t *testing.T) {
	_, err := limiter.Open(context.Background(), "memcached://127.0.0.1:1", nil)
	if !errors.Is(err, limiter.ErrInvalidOption) || !strings.Contains(err.Error(), "nil option") {
		t.Fatalf("Open with a nil option = %v, want an error wrapping ErrInvalidOption", err)
	}
}
