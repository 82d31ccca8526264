package chilimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// fallback is the in-memory storage used while the configured storage is
// failing, with the health checker that switches back.
type fallback struct {
	lim      *Limiter
	storage  *memory.Storage
	strategy limiter.Strategy
	group    *group // nil: the original limits are inherited
	min, max time.Duration

	dead     atomic.Bool
	gen      atomic.Uint64 // switches so far, either way
	mu       sync.Mutex
	checking bool
	closed   bool
	stop     chan struct{}
	wg       sync.WaitGroup

	// A storage that answers health checks but fails hits (Redis out of
	// memory, a Cluster that lost a master) would be left and re-entered
	// at every check: a switch soon after a recovery resumes the back-off
	// where that recovery left it, and the switches are logged once per
	// log interval (the others at DEBUG).
	recoveredAt time.Time     // the last switch back, on the system clock
	lastDelay   time.Duration // the back-off that switch back ended
	switchLog   logGate
	quiet       bool // the last switch to the fallback was logged at DEBUG
	unlogged    int  // switches to the fallback logged at DEBUG since the last WARN
}

func newFallback(l *Limiter, cfg config, limits *group) (*fallback, error) {
	s, err := memory.New(memory.WithClock(cfg.clock))
	if err != nil {
		return nil, err
	}
	name := cfg.strategy
	strat, err := limiter.NewStrategy(name, s)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return &fallback{lim: l, storage: s, strategy: strat, group: limits,
		min: cfg.healthMin, max: cfg.healthMax, stop: make(chan struct{})}, nil
}

// fail switches to the fallback after a storage error from a call begun
// at generation gen, and starts the health checks unless they run already.
// An error from a call begun before the last switch is old news: a call
// caught in the outage may only fail once the health check has found the
// storage back (a connection the crash broke, a goroutine scheduled late),
// and switching again on it would leave a storage that answers.
func (f *fallback) fail(err error, gen uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.gen.Load() != gen {
		return
	}
	soon := !f.recoveredAt.IsZero() && time.Since(f.recoveredAt) < f.max // failed again soon after recovering
	if f.dead.CompareAndSwap(false, true) {
		f.switched()
		// A new outage is always logged; a storage flapping between the
		// two, once per log interval, with the switches left unlogged.
		allowed := f.switchLog.allow(f.lim.clock.Now(), f.lim.logInterval)
		f.quiet = soon && !allowed
		if f.quiet {
			f.unlogged++
			f.lim.logger.Debug("chilimit: storage failed; using the in-memory fallback until it recovers", "error", err)
		} else {
			f.lim.logger.Warn("chilimit: storage failed; using the in-memory fallback until it recovers", "error", err,
				"unlogged_switches", f.unlogged)
			f.unlogged = 0
		}
	}
	if !f.checking {
		f.checking = true
		d := f.min
		if soon {
			d = min(2*f.lastDelay, f.max)
		}
		f.wg.Add(1)
		go f.watch(d)
	}
}

// switched notes a switch to or from the fallback: answers cached from
// the other storage no longer hold.
func (f *fallback) switched() {
	f.gen.Add(1)
	if f.lim.over != nil {
		f.lim.over.reset()
	}
}

// watch checks the storage with back-off (d, 2×d, 4×d … max) until it
// answers, then switches back to it.
func (f *fallback) watch(d time.Duration) {
	defer f.wg.Done()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-timer.C:
		}
		timeout := f.lim.timeout
		if timeout <= 0 {
			timeout = DefaultStorageTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := f.lim.storage.Check(ctx)
		cancel()
		if err == nil {
			f.mu.Lock()
			f.checking = false
			// A new generation first: a request answered by the fallback
			// that sees the storage alive again must also see the switch,
			// or it could put the fallback's answer in the over-limit
			// cache after switched emptied it.
			f.switched()
			f.dead.Store(false)
			f.recoveredAt, f.lastDelay = time.Now(), d
			level := slog.LevelInfo
			if f.quiet {
				level = slog.LevelDebug // as its switch was
			}
			f.mu.Unlock()
			f.lim.logger.Log(context.Background(), level, "chilimit: storage recovered; leaving the in-memory fallback")
			return
		}
		d = min(2*d, f.max)
		timer.Reset(d)
	}
}

// close stops the health checks and closes the fallback storage. Requests
// after it go to the configured storage, which the caller may still own
// and use: a closed fallback would answer them with errors for good.
func (f *fallback) close() {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.stop)
	}
	f.mu.Unlock()
	f.wg.Wait()
	if f.dead.Load() {
		f.switched() // before the store, as in watch
		f.dead.Store(false)
	}
	_ = f.storage.Close()
}
