package ownstorage_test

import (
	"context"
	"testing"

	"github.com/limits-go/limits/conformance"
	"github.com/limits-go/limits/examples/ownstorage"
	"github.com/limits-go/limits/limiter"
)

// harness tells the suite how to make storages and what they can do.
type harness struct{}

func (harness) MakeStorage(ctx context.Context, clock limiter.Clock) (limiter.Storage, error) {
	return ownstorage.New(), nil
}

// AcceptsClock: the storage keeps time only through Request.Now, so the
// suite may step a manual clock instead of sleeping.
func (harness) AcceptsClock() bool { return true }

func (harness) Capabilities() conformance.Capabilities {
	return conformance.Capabilities{} // fixed windows only
}

func (harness) Close() {}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(ctx context.Context, t *testing.T) (conformance.Harness, error) {
		return harness{}, nil
	})
}
