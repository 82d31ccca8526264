package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Against a real server (skipped without one, failed without one under
// LIMITS_REQUIRE_SERVERS=1): see extest.CheckSharedStorage.
func TestLimitsInServer(t *testing.T) {
	uri := "redis://" + servers.Redis(t) + "/0?clock=client" // decide on the limiter's (manual) clock
	extest.CheckSharedStorage(t, uri, newRouter)
}
