package conformance

import (
	"context"
	"testing"

	"github.com/limits-go/limits/limiter"
)

// Capabilities declares which optional interfaces a harness's storages
// implement. The suite checks the declaration against the storage itself, so
// a wrapper that hides a capability by accident fails loudly instead of
// having its rules skipped.
type Capabilities struct {
	MovingWindow  bool // limiter.MovingWindowStorage
	SlidingWindow bool // limiter.SlidingWindowStorage
	TokenBucket   bool // limiter.TokenBucketStorage
	ResetAll      bool // limiter.ResetAller
	Batch         bool // limiter.BatchStorage
}

// A Harness makes storages for the suite. The suite calls the HarnessMaker
// once per subtest and Close when the subtest ends, so every rule starts from
// a fresh harness.
type Harness interface {
	// MakeStorage returns a new storage with no keys in it. clock is the
	// clock the suite drives; a storage that keeps time of its own (expiry
	// sweeps, TTLs) should read it rather than the system clock when
	// AcceptsClock reports true. The suite closes the storage.
	MakeStorage(ctx context.Context, clock limiter.Clock) (limiter.Storage, error)
	// AcceptsClock reports whether the storage keeps time only through
	// Request.Now and the clock given to MakeStorage. If so the suite steps
	// a limiter.ManualClock and every time rule is exact and instant;
	// otherwise (a server that expires keys by its own clock) the suite
	// uses the system clock, windows of a few seconds or less, and waits.
	AcceptsClock() bool
	// Capabilities declares the optional interfaces the storages implement.
	Capabilities() Capabilities
	// Close releases what the harness holds (servers, clients).
	Close()
}

// A HarnessMaker returns a fresh Harness for one subtest.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// A SharingHarness is a Harness whose storages can share their keys with a
// second storage, as the storages of an application's processes share one
// server. Implement it for a storage over a server or any backend outside
// the process: the suite then also checks that hits through two storages
// are atomic together, which no rule over one storage can tell from a
// storage made atomic only by a lock of its own. A harness without it has
// those rules skipped, with the reason.
type SharingHarness interface {
	Harness
	// MakePeer returns a new storage over the keys of s, which MakeStorage
	// returned: what another process of the application would open on the
	// same backend (its own client and connections, the same key prefix).
	// clock is the one given to MakeStorage. The suite closes the peer
	// before s.
	MakePeer(ctx context.Context, clock limiter.Clock, s limiter.Storage) (limiter.Storage, error)
}
