package memory_test

import (
	"context"
	"testing"

	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

func BenchmarkTmp(b *testing.B) {
	for _, name := range []string{"fixed-window", "token-bucket", "sliding-window-counter"} {
		b.Run(name, func(b *testing.B) {
			s, _ := memory.New()
			defer s.Close()
			st := limiter.MustNewStrategy(name, s)
			l := limiter.Limit{Amount: 1 << 40, Multiples: 1, Unit: limiter.Second}
			ctx := context.Background()
			n := 0
			for b.Loop() {
				res, err := st.Hit(ctx, limiter.Request{Key: "client-1", Limit: l, Cost: 1, Now: limiter.SystemClock.Now()})
				if err == nil && res.Allowed {
					n++
				}
			}
		})
	}
}
