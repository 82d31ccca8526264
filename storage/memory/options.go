package memory

import (
	"fmt"
	"time"

	"github.com/limits-go/limits/limiter"
)

// Defaults for the options below.
const (
	// DefaultSweepInterval is how often the sweeper reclaims expired keys
	// unless [WithSweepInterval] says otherwise.
	DefaultSweepInterval = 10 * time.Second
	// DefaultShards is how many independently locked parts the key space is
	// split into unless [WithShards] says otherwise.
	DefaultShards = 128
	// maxShards bounds [WithShards], so a typo cannot allocate gigabytes.
	maxShards = 1 << 16
)

// config is what the options of this package configure.
type config struct {
	clock         limiter.Clock
	clockSet      bool
	sweepInterval time.Duration
	shards        int
}

func defaultConfig() config {
	return config{clock: limiter.SystemClock, sweepInterval: DefaultSweepInterval, shards: DefaultShards}
}

// option adapts a function on this package's config to a
// [limiter.StorageOption], rejecting configurations of other backends.
func option(name string, apply func(*config) error) limiter.StorageOption {
	return func(c any) error {
		cfg, ok := c.(*config)
		if !ok {
			return fmt.Errorf("memory storage: option %s applied to %T, not a memory storage: %w", name, c, limiter.ErrInvalidOption)
		}
		return apply(cfg)
	}
}

// WithClock sets the clock the storage reads when no request is at hand:
// the sweeper uses it to decide which keys have expired, and ResetAll to
// count live keys. Decisions on hits always act on [limiter.Request].Now.
// The default is [limiter.SystemClock].
//
// Pass the clock your requests' instants come from. If requests carry
// instants from another clock (a [limiter.ManualClock] in a test, say) while
// the storage keeps the system clock, the sweeper compares expiries against
// the wrong time and may reclaim live keys early or keep dead ones late.
func WithClock(c limiter.Clock) limiter.StorageOption {
	return option("WithClock", func(cfg *config) error {
		if c == nil {
			return fmt.Errorf("memory storage: WithClock(nil): %w", limiter.ErrInvalidOption)
		}
		cfg.clock, cfg.clockSet = c, true
		return nil
	})
}

// MinSweepInterval is the shortest sweep interval [WithSweepInterval]
// accepts, other than 0.
const MinSweepInterval = time.Millisecond

// WithSweepInterval sets how often the background sweeper removes expired
// keys, so memory tracks the keys that are live rather than every key ever
// seen. The default is [DefaultSweepInterval]; 0 disables the sweeper (expired
// state is then only replaced when its key is hit again). Negative
// intervals are an error, and so are intervals below [MinSweepInterval],
// whose sweeps, back to back, would keep a core busy on an idle storage.
func WithSweepInterval(d time.Duration) limiter.StorageOption {
	return option("WithSweepInterval", func(cfg *config) error {
		if d < 0 {
			return fmt.Errorf("memory storage: WithSweepInterval(%v): negative interval: %w", d, limiter.ErrInvalidOption)
		}
		if d > 0 && d < MinSweepInterval {
			return fmt.Errorf("memory storage: WithSweepInterval(%v): below %v (0 turns the sweeper off): %w", d, MinSweepInterval, limiter.ErrInvalidOption)
		}
		cfg.sweepInterval = d
		return nil
	})
}

// WithShards sets how many independently locked shards the key space is
// split into; it is rounded up to a power of two. More shards mean less
// contention between goroutines hitting different keys. The default is
// [DefaultShards]; n must be between 1 and 65536.
func WithShards(n int) limiter.StorageOption {
	return option("WithShards", func(cfg *config) error {
		if n < 1 || n > maxShards {
			return fmt.Errorf("memory storage: WithShards(%d): want 1 to %d: %w", n, maxShards, limiter.ErrInvalidOption)
		}
		cfg.shards = n
		return nil
	})
}
