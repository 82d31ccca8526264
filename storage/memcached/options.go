package memcached

import (
	"fmt"
	"time"

	"github.com/limits-go/limits/limiter"
)

// config is what the options of this package set.
type config struct {
	prefix     string
	grace      time.Duration
	timeout    time.Duration
	timeoutSet bool
	maxIdle    int
	maxIdleSet bool
}

// Defaults.
const (
	// DefaultExpiryGrace is how long memcached keeps an item after the
	// state it holds is dead, by default.
	DefaultExpiryGrace = time.Minute
	// DefaultMaxIdleConns is the idle connections per server kept by a
	// client that [limiter.Open] creates (gomemcache's own default is 2,
	// which makes concurrent callers dial a connection per operation).
	DefaultMaxIdleConns = 64
	// maxPrefixLen leaves room in memcached's 250-byte key limit for a
	// hashed key and its suffix.
	maxPrefixLen = 128
	// minGrace covers memcached's one-second expiry resolution and modest
	// clock skew between the application and the server.
	minGrace = 2 * time.Second
)

func defaultConfig() config {
	return config{grace: DefaultExpiryGrace, maxIdle: DefaultMaxIdleConns}
}

func (c *config) apply(opts []limiter.StorageOption) error {
	for _, o := range opts {
		if o == nil {
			return fmt.Errorf("memcached storage: nil option: %w", limiter.ErrInvalidOption)
		}
		if err := o(c); err != nil {
			return err
		}
	}
	return nil
}

// option adapts a setter of config to a limiter.StorageOption, rejecting
// the configuration of any other backend.
func option(name string, set func(*config) error) limiter.StorageOption {
	return func(cfg any) error {
		c, ok := cfg.(*config)
		if !ok {
			return fmt.Errorf("%w: memcached.%s used with a %T storage", limiter.ErrInvalidOption, name, cfg)
		}
		return set(c)
	}
}

// WithKeyPrefix puts prefix in front of every memcached key the storage
// uses, so several limiters (or tests) can share servers without seeing
// each other's keys. The default is no prefix. The prefix must be at most
// 128 bytes of printable ASCII without spaces.
func WithKeyPrefix(prefix string) limiter.StorageOption {
	return option("WithKeyPrefix", func(c *config) error {
		if len(prefix) > maxPrefixLen || !safeKey(prefix) {
			return fmt.Errorf("%w: memcached key prefix %q (want at most %d bytes of printable ASCII without spaces)",
				limiter.ErrInvalidOption, prefix, maxPrefixLen)
		}
		c.prefix = prefix
		return nil
	})
}

// WithExpiryGrace sets how long memcached keeps an item after the state in
// it is dead (a window over, a bucket full again). Decisions never depend
// on the server's expiry; the grace only has to cover the server's
// one-second expiry resolution and the difference between the server's
// clock and the clocks that fill in [limiter.Request.Now]. The default is
// [DefaultExpiryGrace]; the minimum 2 seconds.
func WithExpiryGrace(d time.Duration) limiter.StorageOption {
	return option("WithExpiryGrace", func(c *config) error {
		if d < minGrace {
			return fmt.Errorf("%w: memcached expiry grace %v (want at least %v)", limiter.ErrInvalidOption, d, minGrace)
		}
		c.grace = d
		return nil
	})
}

// WithTimeout sets the read/write timeout of each round trip of a client
// that [limiter.Open] creates (the URI parameter timeout does the same).
// The default is gomemcache's, 500ms. [New] rejects it: set Timeout on the
// client instead.
func WithTimeout(d time.Duration) limiter.StorageOption {
	return option("WithTimeout", func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: memcached timeout %v (want > 0)", limiter.ErrInvalidOption, d)
		}
		c.timeout, c.timeoutSet = d, true
		return nil
	})
}

// WithMaxIdleConns sets how many idle connections per server a client that
// [limiter.Open] creates keeps (the URI parameter max_idle_conns does the
// same). The default is [DefaultMaxIdleConns]. [New] rejects it: set
// MaxIdleConns on the client instead.
func WithMaxIdleConns(n int) limiter.StorageOption {
	return option("WithMaxIdleConns", func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: memcached max idle connections %d (want ≥ 1)", limiter.ErrInvalidOption, n)
		}
		c.maxIdle, c.maxIdleSet = n, true
		return nil
	})
}
