package limiter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// The registry is global and cannot unregister, so every test registers
// schemes under names no other test (or repeated run, with -count) uses.
var schemeSeq atomic.Int64

func uniqueScheme(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, schemeSeq.Add(1))
}

// mustPanic runs f and returns the message it panicked with.
func mustPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// TestOpenNothingRegistered must run before any test registers a scheme;
// tests run in file order and the files before this one register none.
func TestOpenNothingRegistered(t *testing.T) {
	if len(Schemes()) != 0 {
		t.Skipf("schemes already registered (a repeated run?): %q", Schemes())
	}
	_, err := Open(context.Background(), "memory://")
	const want = `limiter: open storage: limiter: unknown storage scheme "memory" (registered: none; is the backend imported? e.g. import _ "github.com/limits-go/limits/storage/memory")`
	if err == nil || err.Error() != want || !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("Open with nothing registered: %v, want %q", err, want)
	}
}

func noopOpen(context.Context, *url.URL, ...StorageOption) (Storage, error) {
	return newRefStorage(), nil
}

func TestRegisterPanics(t *testing.T) {
	scheme := uniqueScheme("dup")
	Register(scheme, noopOpen)
	if got, want := mustPanic(t, "second Register", func() { Register(scheme, noopOpen) }),
		"limiter: Register called twice for scheme "+scheme; got != want {
		t.Errorf("second Register panicked with %q, want %q", got, want)
	}
	if got, want := mustPanic(t, "Register in another case", func() { Register(strings.ToUpper(scheme), noopOpen) }),
		"limiter: Register called twice for scheme "+scheme; got != want {
		t.Errorf("Register(%q) after %q panicked with %q, want %q", strings.ToUpper(scheme), scheme, got, want)
	}
	const want = "want a URI scheme (a letter, then letters, digits, '+', '-' or '.') and an OpenFunc"
	if got := mustPanic(t, "Register with nil OpenFunc", func() { Register(uniqueScheme("nil"), nil) }); !strings.Contains(got, want) {
		t.Errorf("Register with nil OpenFunc panicked with %q, want %q", got, want)
	}
	// No URI could reach these.
	for _, scheme := range []string{"", "a b", "1redis", "+x", "redis:", "ré", "a/b"} {
		if got := mustPanic(t, "Register with scheme "+scheme, func() { Register(scheme, noopOpen) }); !strings.Contains(got, want) {
			t.Errorf("Register(%q) panicked with %q, want %q", scheme, got, want)
		}
	}
}

// A backend that returns neither a storage nor an error is an error, not
// a nil storage for the caller to trip on.
func TestOpenNilStorage(t *testing.T) {
	scheme := uniqueScheme("nilstore")
	Register(scheme, func(context.Context, *url.URL, ...StorageOption) (Storage, error) { return nil, nil })
	s, err := Open(context.Background(), scheme+"://")
	if s != nil || err == nil || !strings.Contains(err.Error(), "neither a storage nor an error") {
		t.Fatalf("Open over a backend returning nil, nil = %v, %v; want an error", s, err)
	}
}

// CheckLimit refuses an unknown strategy, and one the storage lacks the
// capability for, as NewStrategy does.
func TestCheckLimitStrategy(t *testing.T) {
	l := Limit{Amount: 1, Multiples: 1, Unit: Second}
	if err := CheckLimit(newRefStorage(), "leaky", l); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("CheckLimit with an unknown strategy = %v, want ErrUnknownStrategy", err)
	}
	if err := CheckLimit(newFixedOnly(), StrategyTokenBucket, l); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckLimit of token-bucket over a fixed-window-only storage = %v, want ErrUnsupported", err)
	}
	if err := CheckLimit(newRefStorage(), StrategyTokenBucket, l); err != nil {
		t.Errorf("CheckLimit of a limit the storage holds = %v, want nil", err)
	}
}

type ctxKey struct{}

func TestOpenPassesURLAndOptions(t *testing.T) {
	scheme := uniqueScheme("pass")
	want := newRefStorage()
	var gotURL *url.URL
	var gotCtx context.Context
	var gotOpts []StorageOption
	Register(scheme, func(ctx context.Context, u *url.URL, opts ...StorageOption) (Storage, error) {
		gotCtx, gotURL, gotOpts = ctx, u, opts
		return want, nil
	})

	var applied []string
	opt := func(name string) StorageOption {
		return func(config any) error {
			log, ok := config.(*[]string)
			if !ok {
				return fmt.Errorf("option %s: config %T: %w", name, config, ErrInvalidOption)
			}
			*log = append(*log, name)
			return nil
		}
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	s, err := Open(ctx, scheme+"://user:secret@host:1234/db/2?pool=3&x=y", opt("a"), opt("b"))
	if err != nil {
		t.Fatal(err)
	}
	if s != want {
		t.Errorf("Open returned %v, want the OpenFunc's storage", s)
	}
	if gotCtx.Value(ctxKey{}) != "v" {
		t.Errorf("OpenFunc got a context without the caller's value")
	}
	pw, _ := gotURL.User.Password()
	if gotURL.Scheme != scheme || gotURL.Host != "host:1234" || gotURL.Path != "/db/2" ||
		gotURL.User.Username() != "user" || pw != "secret" ||
		gotURL.Query().Get("pool") != "3" || gotURL.Query().Get("x") != "y" {
		t.Errorf("OpenFunc got URL %#v", gotURL)
	}
	for _, o := range gotOpts {
		if err := o(&applied); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(applied, []string{"a", "b"}) {
		t.Errorf("OpenFunc got options applying %q, want [a b] in order", applied)
	}
	if err := gotOpts[0](42); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("option given a foreign config: %v, want ErrInvalidOption", err)
	}
}

func TestOpenSchemeIsCaseInsensitive(t *testing.T) {
	scheme := uniqueScheme("MixedCase")
	Register(scheme, func(_ context.Context, u *url.URL, _ ...StorageOption) (Storage, error) {
		if u.Scheme != strings.ToLower(scheme) {
			return nil, fmt.Errorf("scheme %q", u.Scheme)
		}
		return newRefStorage(), nil
	})
	if !slices.Contains(Schemes(), strings.ToLower(scheme)) {
		t.Errorf("Schemes() = %q, want it to hold %q in lower case", Schemes(), scheme)
	}
	for _, uri := range []string{scheme + "://", strings.ToLower(scheme) + "://h", strings.ToUpper(scheme) + "://h:1"} {
		if _, err := Open(context.Background(), uri); err != nil {
			t.Errorf("Open(%q) = %v", uri, err)
		}
	}
}

func TestSchemesSorted(t *testing.T) {
	Register(uniqueScheme("zz"), noopOpen)
	Register(uniqueScheme("aa"), noopOpen)
	got := Schemes()
	if !slices.IsSorted(got) || len(got) < 2 {
		t.Errorf("Schemes() = %q, want sorted", got)
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	Register(uniqueScheme("known"), noopOpen)
	registered := strings.Join(Schemes(), ", ")
	const root = "github.com/limits-go/limits/storage/"
	for _, tt := range []struct{ uri, scheme, hint string }{
		{"memory://", "memory", root + "memory"},
		{"redis://localhost:6379/0", "redis", root + "redis"},
		{"REDIS://localhost:6379/0", "redis", root + "redis"},
		{"rediss://localhost:6380", "rediss", root + "redis"},
		{"redis+unix:///tmp/redis.sock", "redis+unix", root + "redis"},
		{"redis+cluster://h1:1,h2:2", "redis+cluster", root + "redis"},
		{"redis+sentinel://h:26379/mymaster", "redis+sentinel", root + "redis"},
		{"memcached://h:11211", "memcached", root + "memcached"},
		{"mongodb://h", "mongodb", ""},
		{"localhost:6379", "localhost", ""},
	} {
		_, err := Open(context.Background(), tt.uri)
		hint := "is its backend's package imported, with import _?"
		if tt.hint != "" {
			hint = fmt.Sprintf("is the backend imported? e.g. import _ %q", tt.hint)
		}
		want := fmt.Sprintf(`limiter: open storage: limiter: unknown storage scheme %q (registered: %s; %s)`, tt.scheme, registered, hint)
		if err == nil || err.Error() != want {
			t.Errorf("Open(%q) error =\n\t%v\nwant\n\t%s", tt.uri, err, want)
		}
		if !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("Open(%q) error %v does not wrap ErrUnknownScheme", tt.uri, err)
		}
	}
}

func TestOpenBadURI(t *testing.T) {
	for _, tt := range []struct{ uri, want string }{
		{"", `limiter: open storage "": limiter: invalid storage URI: missing scheme (want e.g. memory:// or redis://host:port)`},
		{"/var/run/redis.sock", `limiter: open storage "/var/run/redis.sock": limiter: invalid storage URI: missing scheme (want e.g. memory:// or redis://host:port)`},
		{"//host:6379", `limiter: open storage "//host:6379": limiter: invalid storage URI: missing scheme (want e.g. memory:// or redis://host:port)`},
		{"redis://[::1", `limiter: open storage: limiter: invalid storage URI: parse "redis://[::1": missing ']' in host`},
		{"127.0.0.1:6379", `limiter: open storage: limiter: invalid storage URI: parse "127.0.0.1:6379": first path segment in URL cannot contain colon`},
		{"redis://h:6379/%zz", `limiter: open storage: limiter: invalid storage URI: parse "redis://h:6379/%zz": invalid URL escape "%zz"`},
		// Passwords never appear in errors.
		{"redis://user:hunter2@[::1", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@[::1": missing ']' in host`},
		{"redis://:hunter2@h:port/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://:xxxxx@h:port/0": invalid port ":port" after host`},
		{"redis://u:hunt@er2@h/%zz?db=1", `limiter: open storage: limiter: invalid storage URI: parse "redis://u:xxxxx@h/%zz?db=1": invalid URL escape "%zz"`},
		{"//user:hunter2@host:6379", `limiter: open storage "//user:xxxxx@host:6379": limiter: invalid storage URI: missing scheme (want e.g. memory:// or redis://host:port)`},
		{"//user@host:6379", `limiter: open storage "//user@host:6379": limiter: invalid storage URI: missing scheme (want e.g. memory:// or redis://host:port)`},
		// A password holding '/', '?', '#', '@' or '%' unescaped: url.Parse
		// ends the authority early and complains about a "port" or an
		// escape cut out of the password. The error names the URI with the
		// password masked up to the last '@', and gives the reason url.Parse
		// finds in that URI, or says the user information is malformed.
		{"redis://user:s3cr?et@127.0.0.1:1/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@127.0.0.1:1/0": ` + userinfoReason},
		{"redis://user:s3cr/et@127.0.0.1:1/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@127.0.0.1:1/0": ` + userinfoReason},
		{"redis://user:s3cr#et@127.0.0.1:1/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@127.0.0.1:1/0": ` + userinfoReason},
		{"redis://user:s3cr%zzet@127.0.0.1:1/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@127.0.0.1:1/0": ` + userinfoReason},
		{"redis://user:s3/cr?e#t@127.0.0.1:1/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://user:xxxxx@127.0.0.1:1/0": ` + userinfoReason},
		{"redis://:s3cr?et@h:port/0", `limiter: open storage: limiter: invalid storage URI: parse "redis://:xxxxx@h:port/0": invalid port ":port" after host`},
		{"redis://u:s3c@r@[::1", `limiter: open storage: limiter: invalid storage URI: parse "redis://u:xxxxx@[::1": missing ']' in host`},
		{"rediss://user:s3cr#et@h:1/%zz", `limiter: open storage: limiter: invalid storage URI: parse "rediss://user:xxxxx@h:1/%zz": invalid URL escape "%zz"`},
	} {
		_, err := Open(context.Background(), tt.uri)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Open(%q) error =\n\t%v\nwant\n\t%s", tt.uri, err, tt.want)
		}
		if !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Open(%q) error %v does not wrap ErrInvalidURI", tt.uri, err)
		}
		var ue *url.Error
		if strings.Contains(tt.want, "parse ") && !errors.As(err, &ue) {
			t.Errorf("Open(%q) error %v does not wrap a *url.Error", tt.uri, err)
		}
		for _, secret := range []string{"hunter2", "s3", "cr", "et"} {
			if strings.Contains(tt.uri, secret) && strings.Contains(fmt.Sprint(err), secret) {
				t.Errorf("Open(%q) error %q quotes %q, part of the password", tt.uri, err, secret)
			}
		}
	}
}

const userinfoReason = `malformed user information (percent-encode '/', '?', '#', '@' and '%' in a user name or password)`

// TestOpenRejectsAtAfterHost checks that Open takes the last '@' as the end
// of the user information: when url.Parse ends it earlier, or finds none,
// because a password holds an unescaped '/', '?' or '#', the URI parses into
// a host, path or query made of the password's pieces, which a backend
// would quote in its error. Open rejects it before calling the backend.
func TestOpenRejectsAtAfterHost(t *testing.T) {
	scheme := uniqueScheme("at")
	var called []string
	Register(scheme, func(_ context.Context, u *url.URL, _ ...StorageOption) (Storage, error) {
		called = append(called, u.String())
		return newRefStorage(), nil
	})
	const reason = `limiter: invalid storage URI: '@' after the host (percent-encode '/', '?', '#' and '@' in a password; write '@' in a path or query as %40)`
	for _, tt := range []struct{ uri, shown string }{
		{"://user:12/s3cret@h:1/0", "://user:xxxxx@h:1/0"},
		{"://:12?s3cret@h:1/0", "://:xxxxx@h:1/0"},
		{"://:12#s3cret@h:1/0", "://:xxxxx@h:1/0"},
		{"://user:12/s3c@ret@h:1", "://user:xxxxx@h:1"},
		{":user:s3cret@h:1", ":xxxxx@h:1"},
		// An '@' that belongs to the path or query must be escaped, or the
		// error masks the text before it too.
		{"://h:1/0?name=a@b", "://h:xxxxx@b"},
		{"://h/a@b", "://h/a@b"},
	} {
		uri := scheme + tt.uri
		_, err := Open(context.Background(), uri)
		want := "limiter: open storage " + scheme + tt.shown + ": " + reason
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Open(%q) error =\n\t%v\nwant\n\t%s", uri, err, want)
		}
		if strings.Contains(fmt.Sprint(err), "s3c") {
			t.Errorf("Open(%q) error %q leaks the password", uri, err)
		}
	}
	if len(called) != 0 {
		t.Errorf("the backend was called with %q", called)
	}
	for _, tt := range []struct{ uri, user, password string }{
		{"://user:s3%2Fc%3Fr%23et%40@h:1/0?name=a%40b", "user", "s3/c?r#et@"},
		{"://user:s3c@ret@h:1/0", "user", "s3c@ret"},
		{"://user@h:1", "user", ""},
	} {
		called = nil
		uri := scheme + tt.uri
		if _, err := Open(context.Background(), uri); err != nil || len(called) != 1 {
			t.Errorf("Open(%q) = %v after %d backend calls, want the backend's storage", uri, err, len(called))
			continue
		}
		u, _ := url.Parse(called[0])
		if pw, _ := u.User.Password(); u.User.Username() != tt.user || pw != tt.password {
			t.Errorf("Open(%q) gave the backend user %q, password %q; want %q, %q", uri, u.User.Username(), pw, tt.user, tt.password)
		}
	}
}

func TestOpenWrapsBackendErrorWithoutPassword(t *testing.T) {
	scheme := uniqueScheme("fails")
	Register(scheme, func(_ context.Context, u *url.URL, _ ...StorageOption) (Storage, error) {
		if u.Query().Has("bogus") {
			return nil, fmt.Errorf("%w: unknown parameter %q", ErrInvalidURI, "bogus")
		}
		return nil, errors.New("unreachable")
	})
	for _, tt := range []struct{ uri, shown string }{
		{"://user:hunter2@h:1/0?bogus=1", "://user:xxxxx@h:1/0?bogus=1"},
		// go-redis reads a Sentinel password from the query.
		{"://h:1/svc?password=hunter2&bogus=1", "://h:1/svc?password=xxxxx&bogus=1"},
		{"://:hunter2@h:1/svc?bogus=1&sentinel_Password=hunter2#f", "://:xxxxx@h:1/svc?bogus=1&sentinel_Password=xxxxx#f"},
	} {
		_, err := Open(context.Background(), scheme+tt.uri)
		want := fmt.Sprintf(`limiter: open storage %s%s: limiter: invalid storage URI: unknown parameter "bogus"`, scheme, tt.shown)
		if err == nil || err.Error() != want {
			t.Errorf("Open error =\n\t%v\nwant\n\t%s", err, want)
		}
		if !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Open error %v does not wrap the backend's ErrInvalidURI", err)
		}
		if strings.Contains(fmt.Sprint(err), "hunter2") {
			t.Errorf("Open error %q leaks the password", err)
		}
	}
}

// TestOpenStrictQuery checks that Open rejects a query url.URL.Query would
// read leniently, dropping a pair with a ';' or a malformed %-escape, and
// names the parameter but never its value.
func TestOpenStrictQuery(t *testing.T) {
	scheme := uniqueScheme("query")
	var got url.Values
	Register(scheme, func(_ context.Context, u *url.URL, _ ...StorageOption) (Storage, error) {
		got = u.Query()
		return newRefStorage(), nil
	})
	const semicolon = `';' is not a separator (join parameters with '&'; write a ';' in a value as %3B)`
	for _, tt := range []struct{ query, want string }{
		{"shards=4;bogus=1", `query parameter "shards": ` + semicolon},
		{"prefix=app;tenant=1", `query parameter "prefix": ` + semicolon},
		{"a=1&b;c=2", `query parameter "b": ` + semicolon},
		{"x;y", `query parameter "x": ` + semicolon},
		{"key_prefix=%zz", `query parameter "key_prefix": malformed %-escape in its value`},
		{"password=s3cr%zzet", `query parameter "password": malformed %-escape in its value`},
		{"a=1&%zz=2", `query parameter "%zz": malformed %-escape in its name`},
		{"k%2=1", `query parameter "k%2": malformed %-escape in its name`},
	} {
		uri := scheme + "://h:1/0?" + tt.query
		_, err := Open(context.Background(), uri)
		want := "limiter: open storage " + redactRaw(uri) + ": limiter: invalid storage URI: " + tt.want
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Open(%q) error =\n\t%v\nwant\n\t%s", uri, err, want)
		}
		if strings.Contains(fmt.Sprint(err), "s3cr") {
			t.Errorf("Open(%q) error %q quotes the password", uri, err)
		}
	}
	for _, tt := range []struct {
		query string
		want  url.Values
	}{
		{"", url.Values{}},
		{"a=1&&b=%3B&c", url.Values{"a": {"1"}, "b": {";"}, "c": {""}}},
		{"p=a%40b+c&p=2", url.Values{"p": {"a@b c", "2"}}},
	} {
		uri := scheme + "://h:1/0?" + tt.query
		got = nil
		if _, err := Open(context.Background(), uri); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Open(%q) = %v; the backend read the query %v, want %v", uri, err, got, tt.want)
		}
	}
}

// A backend's error that quotes the URI it rebuilt (go-redis's parsers
// quote the whole URL) has the password and password parameters masked,
// whatever their escaping, and still wraps what the backend wrapped.
func TestOpenMasksSecretsInBackendErrors(t *testing.T) {
	scheme := uniqueScheme("quotes")
	Register(scheme, func(_ context.Context, u *url.URL, _ ...StorageOption) (Storage, error) {
		return nil, fmt.Errorf("%w: parse %q: invalid port; raw %s", ErrInvalidURI, u.String(), u.RawQuery)
	})
	for _, uri := range []string{
		"://user:s3cr3t@h1:x,h2:2/0", // url.Parse checks the last port only
		"://user:s3%2Fcr3t@h1:x,h2:2/0",
		"://h1:1/svc?pass%77ord=s3cr3t&bogus=1",
		"://h1:1/svc?Sentinel_Password=s3+cr3t",
	} {
		_, err := Open(context.Background(), scheme+uri)
		if err == nil {
			t.Fatalf("Open(%q) = nil error", uri)
		}
		for _, secret := range []string{"s3cr3t", "s3%2Fcr3t", "s3/cr3t", "s3+cr3t", "s3 cr3t", "s3%20cr3t"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Open(%q) error shows the password as %q: %v", uri, secret, err)
			}
		}
		if !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Open(%q) error %v does not wrap the backend's ErrInvalidURI", uri, err)
		}
	}
}
