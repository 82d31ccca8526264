package redis

import (
	"fmt"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
)

// DefaultPrefix starts every key the storage writes unless [WithPrefix]
// says otherwise.
const DefaultPrefix = "limits-go:"

// DefaultTimeout bounds a call whose context has no deadline, unless
// [WithTimeout] says otherwise.
const DefaultTimeout = time.Second

// config is what the options set.
type config struct {
	prefix      string
	clientClock bool
	timeout     time.Duration
	grace       time.Duration
	graceSet    bool
	owned       bool
}

func defaults() config {
	return config{prefix: DefaultPrefix, timeout: DefaultTimeout}
}

// expiryGrace returns the grace added to every key's TTL.
func (c *config) expiryGrace() time.Duration {
	switch {
	case c.graceSet:
		return c.grace
	case c.clientClock:
		return time.Minute
	default:
		return time.Second
	}
}

// option adapts a function on *config to a limiter.StorageOption that
// rejects other backends' configurations.
func option(name string, apply func(*config) error) limiter.StorageOption {
	return func(v any) error {
		c, ok := v.(*config)
		if !ok {
			return fmt.Errorf("redis storage: option %s given to another backend (%T): %w", name, v, limiter.ErrInvalidOption)
		}
		return apply(c)
	}
}

// WithPrefix sets the string every key starts with, so several applications
// can share one Redis and [Storage.ResetAll] removes only this one's keys.
// The default is [DefaultPrefix], "limits-go:". The prefix may be empty, but
// must not contain '{' or '}': the storage places its own hash tag after it.
func WithPrefix(prefix string) limiter.StorageOption {
	return option("WithPrefix", func(c *config) error {
		if strings.ContainsAny(prefix, "{}") {
			return fmt.Errorf("redis storage: WithPrefix(%q): must not contain '{' or '}': %w", prefix, limiter.ErrInvalidOption)
		}
		c.prefix = prefix
		return nil
	})
}

// WithClientClock makes the scripts act on each request's Now instead of the
// Redis server's TIME. Use it when every application server's clock is
// synchronized (skew well below [WithExpiryGrace]) or in tests that step a
// [limiter.ManualClock]. The default is the server clock, which needs no
// synchronization.
func WithClientClock() limiter.StorageOption {
	return option("WithClientClock", func(c *config) error {
		c.clientClock = true
		return nil
	})
}

// WithTimeout sets the deadline given to a call whose context has none, so a
// hung Redis adds bounded latency. Zero leaves such calls unbounded (go-redis
// still applies its own read and write timeouts). The default is
// [DefaultTimeout], one second; negative values are an error.
func WithTimeout(d time.Duration) limiter.StorageOption {
	return option("WithTimeout", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("redis storage: WithTimeout(%v): negative: %w", d, limiter.ErrInvalidOption)
		}
		c.timeout = d
		return nil
	})
}

// WithExpiryGrace sets how long a key outlives its logical state before
// Redis reclaims it. Logical expiry is decided by instants stored inside
// each value, so the grace only matters with [WithClientClock]: a bucket is
// exact only while the clocks of the servers sharing it differ by less than
// the grace. The default is one second with the server clock and one minute
// with the client clock; negative values are an error.
func WithExpiryGrace(d time.Duration) limiter.StorageOption {
	return option("WithExpiryGrace", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("redis storage: WithExpiryGrace(%v): negative: %w", d, limiter.ErrInvalidOption)
		}
		c.grace, c.graceSet = d, true
		return nil
	})
}

// WithOwnedClient hands the client to the storage: Close closes it. Storages
// from [limiter.Open] own their client; by default one from [New] leaves the
// caller's client open.
func WithOwnedClient() limiter.StorageOption {
	return option("WithOwnedClient", func(c *config) error {
		c.owned = true
		return nil
	})
}
