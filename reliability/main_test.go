package reliability

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// quietRedis drops go-redis's own log lines (one per failed dial while a
// test has Redis down); the limiter's logs are what the tests check.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// TestMain fails the run if any test leaves a goroutine behind: proxies,
// health checkers, storage clients and servers must all end with their
// test.
func TestMain(m *testing.M) {
	goredis.SetLogger(quietRedis{})
	goleak.VerifyTestMain(m)
}
