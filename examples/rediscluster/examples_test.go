package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/examples/internal/extest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Against a real server (skipped without one, failed without one under
// LIMITS_REQUIRE_SERVERS=1): see extest.CheckSharedStorage.
func TestLimitsInServer(t *testing.T) {
	uri := "redis+cluster://" + strings.Join(servers.RedisCluster(t), ",") + "?clock=client" // decide on the limiter's (manual) clock
	extest.CheckSharedStorage(t, uri, newRouter)
}
