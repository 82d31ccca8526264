package memory

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/limits-go/limits/limiter"
)

// reference keeps the state of every algorithm in plain maps and never
// forgets anything: what the storage reports must match it exactly, however
// the storage prunes logs, drops dead entries and sweeps.
type reference struct {
	fixed   map[string]limiter.FixedWindow
	moving  map[string]*limiter.MovingWindow
	sliding map[string]limiter.SlidingWindow
	tokens  map[string]limiter.TokenBucket
}

func (ref *reference) fixedWindow(k string) limiter.FixedWindow {
	if w, ok := ref.fixed[k]; ok {
		return w
	}
	return limiter.FixedWindow{Count: -1}
}

func (ref *reference) tokenBucket(k string) limiter.TokenBucket {
	if b, ok := ref.tokens[k]; ok {
		return b
	}
	return limiter.TokenBucket{TAT: math.MinInt64}
}

func (ref *reference) movingWindow(k string) *limiter.MovingWindow {
	if ref.moving[k] == nil {
		ref.moving[k] = &limiter.MovingWindow{}
	}
	return ref.moving[k]
}

// FuzzMatchesAlgorithms runs a sequence of operations, decoded from the
// input, on the storage and on the reference, with time moving forwards, the
// sweeper run at the current instant and keys cleared, and compares every
// State.
func FuzzMatchesAlgorithms(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0})
	f.Add([]byte{2, 1, 5, 1, 2, 1, 5, 1, 2, 1, 5, 2, 9, 1, 200, 0, 2, 1, 5, 1, 10, 0, 0, 0, 2, 1, 5, 2})
	f.Add([]byte{4, 3, 7, 2, 4, 3, 7, 2, 4, 3, 7, 2, 6, 3, 90, 0, 4, 3, 7, 1, 10, 3, 30, 3})
	f.Add([]byte{3, 2, 3, 1, 3, 2, 3, 1, 11, 2, 128, 0, 3, 2, 3, 3, 7, 2, 60, 1, 3, 2, 3, 1})
	// Token buckets on two keys, one cleared and hit again (its slot
	// reused), then both peeked.
	f.Add([]byte{4, 7, 0, 3, 4, 6, 0, 2, 12, 7, 0, 0, 4, 7, 0, 1, 8, 7, 0, 0, 8, 6, 0, 0, 4, 6, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		clock := limiter.NewManualClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		s, err := New(WithClock(clock), WithSweepInterval(0), WithShards(2))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ref := &reference{
			fixed:   make(map[string]limiter.FixedWindow),
			moving:  make(map[string]*limiter.MovingWindow),
			sliding: make(map[string]limiter.SlidingWindow),
			tokens:  make(map[string]limiter.TokenBucket),
		}
		ctx := context.Background()
		keys := []string{"a", "b", "c", "d"}
		amounts := []int64{0, 1, 2, 3, 5, 7, 10, 20}
		for len(ops) >= 4 {
			op, arg, p1, p2 := ops[0], ops[1], ops[2], ops[3]
			ops = ops[4:]
			k := keys[arg%4]
			// Each key keeps one limit, as a real key (which includes the
			// limit) does.
			l := limiter.Limit{Amount: amounts[(arg%4)*2+arg/4%2], Multiples: 1, Unit: limiter.Second}
			cost := int64(p2%4) + 1
			r := limiter.Request{Key: k, Limit: l, Cost: cost, Now: clock.Now()}
			var got, want limiter.State
			kind := op % 13
			switch kind {
			case 0, 1:
				elastic := kind == 1
				got, err = s.AcquireFixedWindow(ctx, r, elastic)
				w := ref.fixedWindow(k)
				want = w.Acquire(r, elastic)
				ref.fixed[k] = w
			case 2:
				got, err = s.AcquireMovingWindow(ctx, r)
				want = ref.movingWindow(k).Acquire(r)
			case 3:
				got, err = s.AcquireSlidingWindow(ctx, r)
				w := ref.sliding[k]
				want = w.Acquire(r)
				ref.sliding[k] = w
			case 4:
				got, err = s.AcquireTokenBucket(ctx, r)
				b := ref.tokenBucket(k)
				want = b.Acquire(r)
				ref.tokens[k] = b
			case 5:
				got, err = s.PeekFixedWindow(ctx, r)
				want = ref.fixedWindow(k).Peek(r)
			case 6:
				got, err = s.PeekMovingWindow(ctx, r)
				want = ref.movingWindow(k).Peek(r)
			case 7:
				got, err = s.PeekSlidingWindow(ctx, r)
				want = ref.sliding[k].Peek(r)
			case 8:
				got, err = s.PeekTokenBucket(ctx, r)
				want = ref.tokenBucket(k).Peek(r)
			case 9, 10:
				// Time moves forward by up to 2.55 windows.
				clock.Advance(time.Duration(p1) * 10 * time.Millisecond)
				continue
			case 11:
				clock.Advance(time.Duration(p1) * time.Millisecond)
				s.sweep()
				continue
			case 12:
				if err := s.Clear(ctx, k); err != nil {
					t.Fatalf("Clear(%q): %v", k, err)
				}
				delete(ref.fixed, k)
				delete(ref.moving, k)
				delete(ref.sliding, k)
				delete(ref.tokens, k)
				continue
			}
			if err != nil {
				t.Fatalf("op %d on %q: %v", kind, k, err)
			}
			if got != want {
				t.Fatalf("op %d on %q (%v, cost %d): storage %+v, algorithm %+v", kind, k, l, cost, got, want)
			}
		}
	})
}
