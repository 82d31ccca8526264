package limiter

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// A StorageOption configures a storage opened by [Open] or built by a
// backend's constructor. Each backend package defines its own options; an
// option is applied to the backend's configuration value and returns an
// error wrapping [ErrInvalidOption] when that configuration is not one it
// knows (an option of another backend) or its value is out of range.
type StorageOption func(config any) error

// An OpenFunc opens a storage for a parsed URI. Backends register one per
// scheme with [Register]. It must reject query parameters it does not know,
// with an error wrapping [ErrInvalidURI].
type OpenFunc func(ctx context.Context, uri *url.URL, opts ...StorageOption) (Storage, error)

var registry struct {
	mu    sync.RWMutex
	opens map[string]OpenFunc
}

// Register makes a storage backend available to [Open] under scheme, as
// database/sql.Register does for drivers. Backends call it from init, so a
// blank import of the backend package is enough. It panics if scheme is
// empty, open is nil, or scheme is already registered.
func Register(scheme string, open OpenFunc) {
	if scheme == "" || open == nil {
		panic("limiter: Register with empty scheme or nil OpenFunc")
	}
	scheme = strings.ToLower(scheme)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.opens[scheme]; dup {
		panic("limiter: Register called twice for scheme " + scheme)
	}
	if registry.opens == nil {
		registry.opens = make(map[string]OpenFunc)
	}
	registry.opens[scheme] = open
}

// Schemes returns the registered URI schemes, sorted.
func Schemes() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := make([]string, 0, len(registry.opens))
	for s := range registry.opens {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Open returns a storage for uri, such as "memory://" or
// "redis://localhost:6379/0", from the backend registered for its scheme,
// passing opts through to it. An unregistered scheme gives an error wrapping
// [ErrUnknownScheme] that lists the registered ones.
func Open(ctx context.Context, uri string, opts ...StorageOption) (Storage, error) {
	u, err := url.Parse(uri)
	if err != nil {
		// url.Parse's error quotes the whole input, password included.
		if ue, ok := err.(*url.Error); ok {
			err = &url.Error{Op: ue.Op, URL: redactRaw(uri), Err: ue.Err}
		}
		return nil, fmt.Errorf("limiter: open storage: %w: %w", ErrInvalidURI, err)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("limiter: open storage %q: %w: missing scheme (want e.g. memory:// or redis://host:port)", redactRaw(uri), ErrInvalidURI)
	}
	registry.mu.RLock()
	open := registry.opens[strings.ToLower(u.Scheme)]
	registry.mu.RUnlock()
	if open == nil {
		known := Schemes()
		list := "none"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		return nil, fmt.Errorf("limiter: open storage: %w %q (registered: %s; is the backend imported? e.g. import _ %q)",
			ErrUnknownScheme, u.Scheme, list, importHint(u.Scheme))
	}
	s, err := open(ctx, u, opts...)
	if err != nil {
		return nil, fmt.Errorf("limiter: open storage %s: %w", redact(u), err)
	}
	return s, nil
}

// importHint names the package that registers a scheme this project ships.
func importHint(scheme string) string {
	const root = "github.com/limits-go/limits/storage/"
	s := strings.ToLower(scheme)
	switch {
	case s == "memory":
		return root + "memory"
	case strings.HasPrefix(s, "redis"):
		return root + "redis"
	case strings.HasPrefix(s, "memcached"):
		return root + "memcached"
	}
	return "the package that registers " + scheme
}

// redact renders u without its password, for error messages.
func redact(u *url.URL) string { return u.Redacted() }

// redactRaw masks the password in a URI that url.Parse could not parse, or
// parsed without a scheme, the way [url.URL.Redacted] does.
func redactRaw(uri string) string {
	i := strings.Index(uri, "//")
	if i < 0 {
		return uri
	}
	authority := uri[i+2:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return uri
	}
	colon := strings.Index(authority[:at], ":")
	if colon < 0 {
		return uri
	}
	return uri[:i+2+colon+1] + "xxxxx" + uri[i+2+at:]
}
