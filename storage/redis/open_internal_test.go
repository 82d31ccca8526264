package redis

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/limits-go/limits/limiter"
)

// TestOpenFuncStrictQuery calls the OpenFunc directly: limiter.Open rejects
// these queries before it, but a backend must not rely on that to read a
// query that url.URL.Query would read leniently.
func TestOpenFuncStrictQuery(t *testing.T) {
	for _, raw := range []string{"prefix=app;tenant=1", "client_name=%zz"} {
		u := &url.URL{Scheme: SchemeRedis, Host: "127.0.0.1:6379", Path: "/0", RawQuery: raw}
		s, err := open(context.Background(), u)
		if !errors.Is(err, limiter.ErrInvalidURI) || !strings.Contains(err.Error(), "query") {
			t.Errorf("open(%s) = %v, want an error wrapping ErrInvalidURI about the query", u, err)
		}
		if s != nil {
			_ = s.Close()
		}
	}
}
