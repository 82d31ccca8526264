package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// harness makes memory storages on the suite's clock. The sweeper runs
// often, so the suite also checks that sweeping never removes live state.
type harness struct{}

func (harness) MakeStorage(_ context.Context, clock limiter.Clock) (limiter.Storage, error) {
	return memory.New(memory.WithClock(clock), memory.WithSweepInterval(time.Millisecond))
}

func (harness) AcceptsClock() bool { return true }

func (harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{MovingWindow: true, SlidingWindow: true, TokenBucket: true, ResetAll: true}
}

func (harness) Close() {}

func newHarness(context.Context, *testing.T) (conformance.Harness, error) { return harness{}, nil }

func TestConformance(t *testing.T) {
	conformance.Run(t, newHarness)
}
