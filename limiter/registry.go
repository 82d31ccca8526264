package limiter

import (
	"context"
	"errors"
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
// with an error wrapping [ErrInvalidURI]. [Open] has checked the query
// parses strictly ([url.ParseQuery] returns no error), so [url.URL.Query]
// drops nothing, and that any '@' is inside the authority.
type OpenFunc func(ctx context.Context, uri *url.URL, opts ...StorageOption) (Storage, error)

var registry struct {
	mu    sync.RWMutex
	opens map[string]OpenFunc
}

// Register makes a storage backend available to [Open] under scheme, as
// database/sql.Register does for drivers. Backends call it from init, so a
// blank import of the backend package is enough. It panics if scheme is
// not a URI scheme (a letter, then letters, digits, '+', '-' or '.'), open
// is nil, or scheme is already registered.
func Register(scheme string, open OpenFunc) {
	if !validScheme(scheme) || open == nil {
		panic(fmt.Sprintf("limiter: Register(%q, %p): want a URI scheme (a letter, then letters, digits, '+', '-' or '.') and an OpenFunc", scheme, open))
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

// validScheme reports whether s is a URI scheme as RFC 3986 writes it:
// no URI could reach a backend registered under anything else.
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
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
//
// Open checks what every backend needs before calling one, with errors
// wrapping [ErrInvalidURI]: the URI must parse, its query must parse
// strictly (pairs joined by '&' only, every %-escape well formed; the
// lenient [url.URL.Query] would drop the pair instead), and an '@' may
// appear only in the authority, where the last one ends the user
// information: a password holding '/', '?' or '#' must percent-encode them,
// and an '@' in a path or query must be written %40. Error messages never
// show a password: the text between the user name's ':' and the last '@' is
// masked, as are the values of query parameters whose name contains
// "password".
func Open(ctx context.Context, uri string, opts ...StorageOption) (Storage, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("limiter: open storage: %w: %w", ErrInvalidURI, parseError(uri, err))
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
		hint := "is its backend's package imported, with import _?"
		if pkg := importHint(u.Scheme); pkg != "" {
			hint = fmt.Sprintf("is the backend imported? e.g. import _ %q", pkg)
		}
		return nil, fmt.Errorf("limiter: open storage: %w %q (registered: %s; %s)", ErrUnknownScheme, u.Scheme, list, hint)
	}
	if at := strings.LastIndexByte(uri, '@'); at >= authorityEnd(uri, u.Scheme) {
		// url.Parse ended the user information at an earlier '@', or saw
		// none: what it took for the host, path or query may hold the rest
		// of a password, and a backend's error could quote it.
		return nil, fmt.Errorf("limiter: open storage %s: %w: '@' after the host (percent-encode '/', '?', '#' and '@' in a password; write '@' in a path or query as %%40)",
			redactRaw(uri), ErrInvalidURI)
	}
	if err := checkQuery(u.RawQuery); err != nil {
		return nil, fmt.Errorf("limiter: open storage %s: %w", redactRaw(uri), err)
	}
	s, err := open(ctx, u, opts...)
	if err != nil {
		return nil, fmt.Errorf("limiter: open storage %s: %w", redactRaw(uri), maskSecrets(err, u))
	}
	if s == nil {
		return nil, fmt.Errorf("limiter: open storage %s: the %s backend returned neither a storage nor an error", redactRaw(uri), strings.ToLower(u.Scheme))
	}
	return s, nil
}

// maskSecrets returns a backend's error err with the secrets of u (the
// password, the values of password parameters) masked in its message, in
// any escaping: a backend may quote a URI it rebuilt from u, as go-redis's
// parsers do. The result still wraps err, for errors.Is and errors.As.
func maskSecrets(err error, u *url.URL) error {
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p)
	}
	for name, values := range u.Query() {
		if secretParam(name) {
			secrets = append(secrets, values...)
		}
	}
	msg := err.Error()
	masked := msg
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()[1:]} {
			masked = strings.ReplaceAll(masked, form, "xxxxx")
		}
	}
	if masked == msg {
		return err
	}
	return &maskedError{msg: masked, err: err}
}

// maskedError is an error whose message had secrets masked.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// importHint names the package that registers a scheme this project ships,
// or returns "" for another scheme.
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
	return ""
}

// authorityEnd returns the offset in uri, which url.Parse accepted with
// the given scheme, where its authority (user information and host) ends:
// at the first '/', '?' or '#' after "scheme://". A URI without "//" has no
// authority; its end is then just after "scheme:".
func authorityEnd(uri, scheme string) int {
	start := len(scheme) + 1
	if !strings.HasPrefix(uri[start:], "//") {
		return start
	}
	start += 2
	if end := strings.IndexAny(uri[start:], "/?#"); end >= 0 {
		return start + end
	}
	return len(uri)
}

// errUserinfo replaces url.Parse's message when the part of a URI it
// complains about lies in the password, which the message would quote.
var errUserinfo = errors.New("malformed user information (percent-encode '/', '?', '#', '@' and '%' in a user name or password)")

// parseError returns url.Parse's error err for uri, with the password masked
// in the URI it names and in the reason: when uri holds a password, the
// reason is the one url.Parse gives for the masked URI, or [errUserinfo] when
// only the password was wrong. The result is still a [*url.Error].
func parseError(uri string, err error) error {
	shown := redactRaw(uri)
	if shown == uri {
		return err // no password, nothing to hide
	}
	if _, err := url.Parse(shown); err != nil {
		return err // names shown, and a reason found outside the password
	}
	return &url.Error{Op: "parse", URL: shown, Err: errUserinfo}
}

// checkQuery returns an error wrapping [ErrInvalidURI] naming the first
// parameter of the raw query q that [url.ParseQuery] rejects: one holding a
// ';' (Go treats it as neither a separator nor a character; url.URL.Query
// silently drops the pair) or a malformed %-escape. It quotes parameter
// names, never values.
func checkQuery(q string) error {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			return fmt.Errorf("%w: query parameter %q: malformed %%-escape in its name", ErrInvalidURI, key)
		}
		if strings.Contains(pair, ";") {
			if i := strings.IndexByte(name, ';'); i >= 0 {
				name = name[:i]
			}
			return fmt.Errorf("%w: query parameter %q: ';' is not a separator (join parameters with '&'; write a ';' in a value as %%3B)", ErrInvalidURI, name)
		}
		if _, err := url.QueryUnescape(value); err != nil {
			return fmt.Errorf("%w: query parameter %q: malformed %%-escape in its value", ErrInvalidURI, name)
		}
	}
	return nil
}

// redactRaw returns uri with its password masked, for error messages: the
// text from the ':' after the user name to the last '@' becomes "xxxxx", as
// in [url.URL.Redacted], and so does the value of every query parameter
// whose name contains "password" (go-redis reads a Sentinel password from
// the query). The last '@' is taken to end the user information, wherever
// it is, because a password may hold an unescaped '/', '?', '#' or '@' that
// url.Parse would read as the end of the authority: so redactRaw may mask
// more than the password, never less. The user information starts after
// "//", or, in a URI without one, at the start (the scheme then counts as
// the user name).
func redactRaw(uri string) string {
	if at := strings.LastIndexByte(uri, '@'); at >= 0 {
		start := 0
		if i := strings.Index(uri[:at], "//"); i >= 0 {
			start = i + 2
		}
		if colon := strings.IndexByte(uri[start:at], ':'); colon >= 0 {
			uri = uri[:start+colon+1] + "xxxxx" + uri[at:]
		}
	}
	return redactQuery(uri)
}

// redactQuery masks the values of the query parameters of uri whose name
// contains "password", in any case, and percent-encoded or not: the query
// parser decodes "pass%77ord" to "password" too.
func redactQuery(uri string) string {
	q := strings.IndexByte(uri, '?')
	if q < 0 {
		return uri
	}
	end := len(uri)
	if f := strings.IndexByte(uri[q:], '#'); f >= 0 {
		end = q + f
	}
	pairs := strings.Split(uri[q+1:end], "&")
	masked := false
	for i, pair := range pairs {
		key, _, found := strings.Cut(pair, "=")
		if found && secretParam(key) {
			pairs[i], masked = key+"=xxxxx", true
		}
	}
	if !masked {
		return uri
	}
	return uri[:q+1] + strings.Join(pairs, "&") + uri[end:]
}

// secretParam reports whether a storage URI's query parameter, named name
// as written (percent-encoded or not), holds a secret that errors must
// mask: its decoded name contains "password", in any case.
func secretParam(name string) bool {
	if decoded, err := url.QueryUnescape(name); err == nil {
		name = decoded
	}
	return strings.Contains(strings.ToLower(name), "password")
}
