package redis

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/redis/go-redis/v9"
)

// The URI schemes this package registers with [limiter.Register].
const (
	SchemeRedis    = "redis"          // redis://[user:pass@]host:port[/db]
	SchemeRedisTLS = "rediss"         // rediss://[user:pass@]host:port[/db]
	SchemeUnix     = "redis+unix"     // redis+unix://[user:pass@]/path/to/socket[?db=N]
	SchemeCluster  = "redis+cluster"  // redis+cluster://[user:pass@]h1:p1[,h2:p2...]
	SchemeSentinel = "redis+sentinel" // redis+sentinel://[user:pass@]h1:p1[,h2:p2...]/service[/db]
)

func init() {
	for _, scheme := range []string{SchemeRedis, SchemeRedisTLS, SchemeUnix, SchemeCluster, SchemeSentinel} {
		limiter.Register(scheme, open)
	}
}

// open is the [limiter.OpenFunc] of every scheme. The storage's own query
// parameters (prefix, timeout, clock, expiry_grace) are taken out first;
// everything else goes to go-redis's URL parser for the scheme, which
// rejects parameters it does not know. A parameter given twice is an error,
// whoever reads it (go-redis would keep the last silently), but for addr,
// which lists more cluster or sentinel nodes. A URI without "//" after the
// scheme ("redis:host:6379", which url.Parse reads as opaque and go-redis
// as localhost) and one with a fragment are errors too. The client gets
// ContextTimeoutEnabled, so context deadlines bound every read, and belongs
// to the storage. Its retries are off unless the URI sets max_retries: a
// script whose reply is lost may have run, and running it again would count
// the hit twice. It dials once per connection unless the URI sets
// dialer_retries (see dialParams).
func open(_ context.Context, u *url.URL, opts ...limiter.StorageOption) (limiter.Storage, error) {
	switch {
	case u.Opaque != "" || u.OmitHost && strings.ToLower(u.Scheme) != SchemeUnix:
		// "redis:host:6379" or "redis:/host:6379/0": go-redis would find no
		// host in either and connect to localhost:6379.
		return nil, fmt.Errorf("redis storage: %w: no \"//\" after %q (want %s://host:port)", limiter.ErrInvalidURI, u.Scheme+":", strings.ToLower(u.Scheme))
	case strings.ToLower(u.Scheme) == SchemeUnix && u.Host != "":
		// go-redis would ignore it and dial the path.
		return nil, fmt.Errorf("redis storage: %w: host %q in a %s URI (want %s:///path/to/socket)", limiter.ErrInvalidURI, u.Host, SchemeUnix, SchemeUnix)
	case u.Fragment != "":
		return nil, fmt.Errorf("redis storage: %w: unexpected fragment %q", limiter.ErrInvalidURI, u.Fragment)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, invalidURI(fmt.Errorf("query: %w", err))
	}
	retries := q.Has("max_retries")
	own, err := uriOptions(q)
	if err != nil {
		return nil, err
	}
	dial, err := dialParams(q)
	if err != nil {
		return nil, err
	}
	for name, vs := range q {
		if len(vs) > 1 && name != "addr" {
			return nil, fmt.Errorf("redis storage: %w: parameter %q given %d times", limiter.ErrInvalidURI, name, len(vs))
		}
	}
	v := *u
	v.RawQuery = ""
	var client redis.UniversalClient
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case SchemeRedis, SchemeRedisTLS, SchemeUnix:
		v.Scheme = scheme
		if scheme == SchemeUnix {
			v.Scheme = "unix"
		}
		if scheme != SchemeUnix {
			if err := dbConflict(strings.Trim(u.Path, "/"), q); err != nil {
				return nil, err
			}
			if strings.Contains(u.Host, ",") {
				return nil, fmt.Errorf("redis storage: %w: several hosts in a %s URI (a cluster is %s://h1:p1,h2:p2)", limiter.ErrInvalidURI, scheme, SchemeCluster)
			}
			if p := u.Port(); p != "" {
				// url.Parse takes any digits for a port; go-redis would
				// only fail on the first dial. (No host is go-redis's
				// localhost, no port its 6379.)
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					return nil, fmt.Errorf("redis storage: %w: port %q: want 1 to 65535", limiter.ErrInvalidURI, p)
				}
			}
		}
		v.RawQuery = q.Encode()
		o, err := redis.ParseURL(v.String())
		if err != nil {
			return nil, invalidURI(err)
		}
		if err := checkDB(o.DB); err != nil {
			return nil, err
		}
		if err := checkPool(o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxActiveConns, o.PipelinePoolSize); err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		if !retries {
			o.MaxRetries = -1
		}
		o.DialerRetries, o.DialerRetryTimeout = dial.retries, dial.backoff
		client = redis.NewClient(o)
	case SchemeCluster:
		hosts, err := nodes(u.Host)
		if err != nil {
			return nil, err
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("redis storage: %w: cluster URI has a path %q (a Redis Cluster has only database 0)", limiter.ErrInvalidURI, u.Path)
		}
		v.Scheme, v.Host, v.Path = "redis", hosts[0], ""
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		v.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(v.String())
		if err != nil {
			return nil, invalidURI(err)
		}
		if err := checkPool(o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxActiveConns, o.PipelinePoolSize); err != nil {
			return nil, err
		}
		o.ContextTimeoutEnabled = true
		if !retries {
			o.MaxRetries = -1
		}
		o.DialerRetries, o.DialerRetryTimeout = dial.retries, dial.backoff
		client = redis.NewClusterClient(o)
	case SchemeSentinel:
		hosts, err := nodes(u.Host)
		if err != nil {
			return nil, err
		}
		path := strings.Split(strings.Trim(u.Path, "/"), "/")
		if path[0] == "" || len(path) > 2 {
			return nil, fmt.Errorf("redis storage: %w: sentinel URI path %q: want /service or /service/db", limiter.ErrInvalidURI, u.Path)
		}
		v.Scheme, v.Host, v.Path = "redis", hosts[0], ""
		if len(path) == 2 {
			v.Path = "/" + path[1]
			if err := dbConflict(path[1], q); err != nil {
				return nil, err
			}
		}
		if m, ok := q["master_name"]; ok && m[0] != path[0] {
			return nil, fmt.Errorf("redis storage: %w: parameter master_name=%q conflicts with the service %q in the path", limiter.ErrInvalidURI, m[0], path[0])
		}
		q.Set("master_name", path[0])
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		v.RawQuery = q.Encode()
		o, err := redis.ParseFailoverURL(v.String())
		if err != nil {
			return nil, invalidURI(err)
		}
		if err := checkDB(o.DB); err != nil {
			return nil, err
		}
		if err := checkPool(o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxActiveConns, o.PipelinePoolSize); err != nil {
			return nil, err
		}
		// go-redis's failover client panics on these: only its failover
		// cluster client routes commands over replicas.
		for _, p := range []struct {
			name string
			set  bool
		}{{"route_by_latency", o.RouteByLatency}, {"route_randomly", o.RouteRandomly}} {
			if p.set {
				return nil, fmt.Errorf("redis storage: %w: parameter %s is not supported by %s (the storage always talks to the master)", limiter.ErrInvalidURI, p.name, SchemeSentinel)
			}
		}
		o.ContextTimeoutEnabled = true
		if !retries {
			o.MaxRetries = -1
		}
		o.DialerRetries, o.DialerRetryTimeout = dial.retries, dial.backoff
		client = redis.NewFailoverClient(o)
	default:
		return nil, fmt.Errorf("redis storage: %w: scheme %q", limiter.ErrUnknownScheme, u.Scheme)
	}
	s, err := New(client, append(append(own, WithOwnedClient()), opts...)...)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return s, nil
}

// nodes splits a cluster or sentinel URI's host list and checks each
// host[:port]: url.Parse checks the last port only, and go-redis's parser
// would quote the whole URI, password included, in its error for another.
// A node without a port gets 6379, as go-redis gives the first one.
func nodes(hostList string) ([]string, error) {
	hosts := strings.Split(hostList, ",")
	for i, h := range hosts {
		if !strings.Contains(h, ":") || strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = net.JoinHostPort(strings.Trim(h, "[]"), "6379")
		}
		host, port, err := net.SplitHostPort(h)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("redis storage: %w: node %q: want host:port, with a port from 1 to 65535", limiter.ErrInvalidURI, hosts[i])
		}
		hosts[i] = h
	}
	return hosts, nil
}

// dbConflict rejects a db parameter naming another database than the
// path's (pathDB, "" if the path names none): go-redis lets the parameter
// override the path silently.
func dbConflict(pathDB string, q url.Values) error {
	vs, ok := q["db"]
	if pathDB == "" || !ok || len(vs) != 1 {
		return nil // no conflict, or one reported elsewhere
	}
	p, perr := strconv.Atoi(pathDB)
	d, derr := strconv.Atoi(vs[0])
	if perr == nil && derr == nil && p == d {
		return nil
	}
	return fmt.Errorf("redis storage: %w: parameter db=%s conflicts with the database %s in the path", limiter.ErrInvalidURI, vs[0], pathDB)
}

// checkDB rejects a negative database number, which go-redis accepts and
// then never selects, using database 0.
func checkDB(db int) error {
	if db < 0 {
		return fmt.Errorf("redis storage: %w: database %d: want 0 or more", limiter.ErrInvalidURI, db)
	}
	return nil
}

// checkPool rejects connection-pool sizes that go-redis accepts from a URI
// and then panics on when it makes the pool: negative ones, and ones above
// 2^31-1, which its pool keeps as int32 (a cluster client makes a node's
// pool on its first command, so the panic would come at request time).
func checkPool(poolSize, minIdle, maxIdle, maxActive, pipelinePool int) error {
	for _, p := range []struct {
		name string
		n    int
	}{{"pool_size", poolSize}, {"min_idle_conns", minIdle}, {"max_idle_conns", maxIdle}, {"max_active_conns", maxActive}} {
		if p.n < 0 || p.n > math.MaxInt32 {
			return fmt.Errorf("redis storage: %w: parameter %s=%d: want 0 to %d", limiter.ErrInvalidURI, p.name, p.n, math.MaxInt32)
		}
	}
	// A negative pipeline_pool_size turns go-redis's pipeline pool off.
	if pipelinePool > math.MaxInt32 {
		return fmt.Errorf("redis storage: %w: parameter pipeline_pool_size=%d: want at most %d (or negative, for none)", limiter.ErrInvalidURI, pipelinePool, math.MaxInt32)
	}
	return nil
}

func invalidURI(err error) error {
	return fmt.Errorf("redis storage: %w: %w", limiter.ErrInvalidURI, err)
}

// dialing is how an opened client dials: how many attempts a connection
// gets, and the pause between them (0: go-redis's default, 100ms).
type dialing struct {
	retries int
	backoff time.Duration
}

// maxDialPause bounds dialer_retry_timeout: a dial waiting longer than a
// request would has no one to answer, and go-redis's dialing goroutines
// sleep through Close.
const maxDialPause = 5 * time.Second

// dialParams removes dialer_retries and dialer_retry_timeout from q (go-redis's
// ParseURL does not know them, its cluster and failover parsers do) and returns them, with one attempt
// by default: go-redis's five, 100ms apart, would hold every request about
// 400ms while the server refuses connections, where a rate limiter should
// fail at once and let its fallback or error handler answer.
func dialParams(q url.Values) (dialing, error) {
	d := dialing{retries: 1}
	if vs, ok := q["dialer_retries"]; ok {
		delete(q, "dialer_retries")
		n, err := strconv.Atoi(vs[0])
		if len(vs) != 1 || err != nil || n < 1 || n > 100 {
			return d, fmt.Errorf("redis storage: %w: parameter dialer_retries=%q: want one number of dial attempts from 1 to 100", limiter.ErrInvalidURI, strings.Join(vs, ","))
		}
		d.retries = n
	}
	if vs, ok := q["dialer_retry_timeout"]; ok {
		delete(q, "dialer_retry_timeout")
		b, err := time.ParseDuration(vs[0])
		if len(vs) != 1 || err != nil || b <= 0 || b > maxDialPause {
			return d, fmt.Errorf("redis storage: %w: parameter dialer_retry_timeout=%q: want one positive duration up to %v, such as 50ms", limiter.ErrInvalidURI, strings.Join(vs, ","), maxDialPause)
		}
		d.backoff = b
	}
	return d, nil
}

// uriOptions removes the storage's own parameters from q and returns them as
// options.
func uriOptions(q url.Values) ([]limiter.StorageOption, error) {
	var opts []limiter.StorageOption
	one := func(name string) (string, bool, error) {
		vs, ok := q[name]
		if !ok {
			return "", false, nil
		}
		delete(q, name)
		if len(vs) != 1 {
			return "", false, fmt.Errorf("redis storage: %w: parameter %q given %d times", limiter.ErrInvalidURI, name, len(vs))
		}
		return vs[0], true, nil
	}
	duration := func(name string) (time.Duration, bool, error) {
		s, ok, err := one(name)
		if !ok || err != nil {
			return 0, ok, err
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, false, fmt.Errorf("redis storage: %w: parameter %s=%q: want a non-negative duration such as 500ms", limiter.ErrInvalidURI, name, s)
		}
		return d, true, nil
	}
	if p, ok, err := one("prefix"); err != nil {
		return nil, err
	} else if ok {
		if strings.ContainsAny(p, "{}") {
			return nil, fmt.Errorf("redis storage: %w: parameter prefix=%q must not contain '{' or '}'", limiter.ErrInvalidURI, p)
		}
		opts = append(opts, WithPrefix(p))
	}
	if d, ok, err := duration("timeout"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, WithTimeout(d))
	}
	if d, ok, err := duration("expiry_grace"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, WithExpiryGrace(d))
	}
	if c, ok, err := one("clock"); err != nil {
		return nil, err
	} else if ok {
		switch c {
		case "server":
		case "client":
			opts = append(opts, WithClientClock())
		default:
			return nil, fmt.Errorf("redis storage: %w: parameter clock=%q: want server or client", limiter.ErrInvalidURI, c)
		}
	}
	return opts, nil
}
