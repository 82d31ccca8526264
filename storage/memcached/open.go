package memcached

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// Scheme is the URI scheme this package registers with [limiter.Open]:
//
//	memcached://host:port[,host:port...][?timeout=250ms&max_idle_conns=64&key_prefix=app:]
//
// Several servers form a pool over which gomemcache spreads keys by hash.
// The parameters are the URI forms of [WithTimeout], [WithMaxIdleConns] and
// [WithKeyPrefix]; any other parameter, a parameter given twice, a query
// that does not parse strictly (a ';', a malformed %-escape), a user name or
// password, or a path is an error wrapping [limiter.ErrInvalidURI]. Options
// passed to Open are applied after the URI's parameters. A pool of IPv6
// literals cannot be written as a URI (net/url accepts one bracketed host
// only); build the client yourself and use [New].
const Scheme = "memcached"

func init() {
	limiter.Register(Scheme, open)
}

var uriParams = []string{"key_prefix", "max_idle_conns", "timeout"}

func open(_ context.Context, u *url.URL, opts ...limiter.StorageOption) (limiter.Storage, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("memcached storage: %w: "+format, append([]any{limiter.ErrInvalidURI}, args...)...)
	}
	switch {
	case u.Opaque != "":
		return nil, bad("want memcached://host:port[,host:port...], got opaque %q", u.Opaque)
	case u.User != nil:
		return nil, bad("user info is not supported (memcached has no authentication here)")
	case u.Path != "" && u.Path != "/":
		return nil, bad("unexpected path %q", u.Path)
	case u.Fragment != "":
		return nil, bad("unexpected fragment %q", u.Fragment)
	case u.Host == "":
		return nil, bad("no server (want memcached://host:port[,host:port...])")
	}
	servers := strings.Split(u.Host, ",")
	for _, hp := range servers {
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" || port == "" {
			return nil, bad("server %q is not host:port", hp)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, bad("server %q has a bad port", hp)
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// u.Query would drop the pair it cannot read and carry on.
		return nil, bad("query: %v", err)
	}
	cfg := defaultConfig()
	var uriOpts []limiter.StorageOption
	for name, values := range q {
		if len(values) != 1 {
			return nil, bad("parameter %s given %d times", name, len(values))
		}
		v := values[0]
		switch name {
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, bad("timeout %q: %v", v, err)
			}
			uriOpts = append(uriOpts, WithTimeout(d))
		case "max_idle_conns":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, bad("max_idle_conns %q: %v", v, err)
			}
			uriOpts = append(uriOpts, WithMaxIdleConns(n))
		case "key_prefix":
			uriOpts = append(uriOpts, WithKeyPrefix(v))
		default:
			return nil, bad("unknown parameter %q (known: %s)", name, strings.Join(uriParams, ", "))
		}
	}
	if err := cfg.apply(uriOpts); err != nil {
		return nil, fmt.Errorf("memcached storage: %w: %w", limiter.ErrInvalidURI, err)
	}
	if err := cfg.apply(opts); err != nil {
		return nil, fmt.Errorf("memcached storage: %w", err)
	}
	var list memcache.ServerList
	if err := list.SetServers(servers...); err != nil {
		return nil, bad("servers %s: %v", u.Host, err)
	}
	client := memcache.NewFromSelector(&list)
	client.DialContext = Dialer(nil)
	client.Timeout = cfg.timeout
	client.MaxIdleConns = cfg.maxIdle
	return newStorage(client, true, cfg), nil
}
