package bench_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// ulule's memory store stops its cleaner only from a finalizer, which
	// may not have run by the time the tests end.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/ulule/limiter/v3/drivers/store/memory.(*cleaner).Run"))
}
