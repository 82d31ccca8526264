package memory

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/limits-go/limits/limiter"
)

// Scheme is the URI scheme this package registers with [limiter.Register].
const Scheme = "memory"

func init() {
	limiter.Register(Scheme, open)
}

// open makes a storage for a memory:// URI. The URI has no host, user or
// path; its query may set
//
//	sweep_interval  a Go duration such as 30s, at least 1ms; 0 disables the sweeper
//	shards          the number of shards, 1 to 65536
//
// Options passed to [limiter.Open] are applied after the query, so they win.
// A query that does not parse strictly (a ';', a malformed %-escape) is an
// error, as is a parameter given twice.
func open(_ context.Context, u *url.URL, opts ...limiter.StorageOption) (limiter.Storage, error) {
	if u.Host != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.Fragment != "" {
		return nil, fmt.Errorf("memory storage: %w %q: want memory:// with no host, user, path or fragment", limiter.ErrInvalidURI, u.Redacted())
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// u.Query would drop the pair it cannot read and carry on.
		return nil, fmt.Errorf("memory storage: %w: query: %w", limiter.ErrInvalidURI, err)
	}
	var fromURI []limiter.StorageOption
	for name, values := range q {
		if len(values) != 1 {
			return nil, fmt.Errorf("memory storage: %w: parameter %q given %d times", limiter.ErrInvalidURI, name, len(values))
		}
		v := values[0]
		switch name {
		case "sweep_interval":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 0 && d < MinSweepInterval {
				return nil, fmt.Errorf("memory storage: %w: sweep_interval %q is not 0 or a duration of %v or more, such as 30s", limiter.ErrInvalidURI, v, MinSweepInterval)
			}
			fromURI = append(fromURI, WithSweepInterval(d))
		case "shards":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxShards {
				return nil, fmt.Errorf("memory storage: %w: shards %q is not a number from 1 to %d", limiter.ErrInvalidURI, v, maxShards)
			}
			fromURI = append(fromURI, WithShards(n))
		default:
			return nil, fmt.Errorf("memory storage: %w: unknown parameter %q (want sweep_interval or shards)", limiter.ErrInvalidURI, name)
		}
	}
	s, err := New(append(fromURI, opts...)...)
	if err != nil {
		return nil, err
	}
	return s, nil
}
