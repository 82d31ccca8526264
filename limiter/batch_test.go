package limiter

import (
	"context"
	"errors"
	"testing"
	"time"
)

// batchRef is a refStorage that also runs batches, counting them.
type batchRef struct {
	*refStorage
	batches int
}

func (b *batchRef) AcquireBatch(ctx context.Context, strategy string, ops []BatchOp, states []State) (int, error) {
	b.batches++
	return AcquireEach(ctx, b.refStorage, strategy, ops, states)
}

var _ BatchStorage = (*batchRef)(nil)

func TestHitBatch(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	perSecond := Limit{Amount: 2, Multiples: 1, Unit: Second}
	perMinute := Limit{Amount: 3, Multiples: 1, Unit: Minute}
	ops := func(at time.Duration, peekSecond bool) []BatchOp {
		return []BatchOp{
			{Request: Request{Key: "s", Limit: perSecond, Cost: 1, Now: t0.Add(at)}, Peek: peekSecond},
			{Request: Request{Key: "m", Limit: perMinute, Cost: 1, Now: t0.Add(at)}},
		}
	}
	steps := []struct {
		at         time.Duration
		peekSecond bool
		wantRan    int
		wantOK     []bool
		wantRemain []int64
	}{
		{0, false, 2, []bool{true, true}, []int64{1, 2}},
		{0, false, 2, []bool{true, true}, []int64{0, 1}},
		{0, false, 1, []bool{false}, []int64{0}},                  // the per-second limit stops it; the minute limit is not touched
		{time.Second, true, 2, []bool{true, true}, []int64{2, 0}}, // a peek counts nothing on the first key
		{2 * time.Second, false, 2, []bool{true, false}, []int64{1, 0}},
		// The per-minute breach counted nothing: the per-second key still
		// has the unit the previous step took, and no more.
		{2 * time.Second, false, 2, []bool{true, false}, []int64{0, 0}},
	}
	for _, name := range []string{"step by step", "batch storage"} {
		t.Run(name, func(t *testing.T) {
			ref := newRefStorage()
			var s Storage = ref
			var b *batchRef
			if name == "batch storage" {
				b = &batchRef{refStorage: ref}
				s = b
			}
			for i, st := range steps {
				results := make([]Result, 2)
				n, err := HitBatch(ctx, s, StrategyFixedWindow, ops(st.at, st.peekSecond), results)
				if err != nil {
					t.Fatalf("step %d: HitBatch error %v", i, err)
				}
				if n != st.wantRan {
					t.Fatalf("step %d: HitBatch ran %d steps, want %d (results %+v)", i, n, st.wantRan, results)
				}
				for j := range n {
					if results[j].Allowed != st.wantOK[j] || results[j].Remaining != st.wantRemain[j] {
						t.Errorf("step %d, op %d: Allowed=%v Remaining=%d, want %v %d", i, j,
							results[j].Allowed, results[j].Remaining, st.wantOK[j], st.wantRemain[j])
					}
				}
				if !results[n-1].Allowed && results[n-1].RetryAfter <= 0 {
					t.Errorf("step %d: rejected result has RetryAfter %v, want > 0", i, results[n-1].RetryAfter)
				}
			}
			if b != nil && b.batches != len(steps) {
				t.Errorf("AcquireBatch called %d times, want once per HitBatch (%d)", b.batches, len(steps))
			}
		})
	}
}

func TestHitBatchErrors(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	ok := Request{Key: "k", Limit: Limit{Amount: 1, Multiples: 1, Unit: Second}, Cost: 1, Now: now}
	ref := newRefStorage()

	if _, err := HitBatch(ctx, ref, StrategyFixedWindow, []BatchOp{{Request: ok}, {Request: ok}}, make([]Result, 1)); err == nil {
		t.Error("HitBatch with too few results: no error")
	}
	bad := ok
	bad.Cost = 0
	if _, err := HitBatch(ctx, ref, StrategyFixedWindow, []BatchOp{{Request: ok}, {Request: bad}}, make([]Result, 2)); !errors.Is(err, ErrInvalidCost) {
		t.Errorf("HitBatch with cost 0 = %v, want ErrInvalidCost", err)
	}
	if ref.callCount() != 0 {
		t.Errorf("invalid batch made %d storage calls, want 0 (validated first)", ref.callCount())
	}
	for _, at := range []time.Time{{}, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)} {
		bad = ok
		bad.Now = at
		want := `limiter: request time out of range: batch step 1 on "k" at ` + at.Format(time.RFC3339Nano) +
			` (Request.Now must lie from 1970 to 2149; is it set?)`
		_, err := HitBatch(ctx, ref, StrategyFixedWindow, []BatchOp{{Request: ok}, {Request: bad}}, make([]Result, 2))
		if !errors.Is(err, ErrInvalidTime) || err.Error() != want {
			t.Errorf("HitBatch with Now %v = %v, want %q wrapping ErrInvalidTime", at, err, want)
		}
	}
	if ref.callCount() != 0 {
		t.Errorf("invalid batch made %d storage calls, want 0 (validated first)", ref.callCount())
	}
	bad = ok
	bad.Limit.Multiples = 0
	if _, err := HitBatch(ctx, ref, StrategyFixedWindow, []BatchOp{{Request: bad}}, make([]Result, 1)); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("HitBatch with an invalid limit = %v, want ErrInvalidLimit", err)
	}
	if _, err := HitBatch(ctx, newFixedOnly(), StrategyTokenBucket, []BatchOp{{Request: ok}}, make([]Result, 1)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("HitBatch token-bucket over fixed-only storage = %v, want ErrUnsupported", err)
	}
	if _, err := HitBatch(ctx, ref, "leaky", []BatchOp{{Request: ok}}, make([]Result, 1)); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("HitBatch unknown strategy = %v, want ErrUnknownStrategy", err)
	}
	ref.fail = errors.New("boom")
	n, err := HitBatch(ctx, ref, StrategyFixedWindow, []BatchOp{{Request: ok}}, make([]Result, 1))
	if n != 0 || err == nil || err.Error() != `limiter: fixed-window: batch step 0 on "k": ref storage: acquire fixed window "k": boom` {
		t.Errorf("HitBatch over a failing storage = %d, %v", n, err)
	}
}

// TestHitBatchMatchesStrategies checks that every strategy's batch steps
// give what its Hit and Test give on a twin storage.
func TestHitBatchMatchesStrategies(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	l := Limit{Amount: 3, Multiples: 10, Unit: Second}
	for _, name := range Strategies() {
		a, b := newRefStorage(), newRefStorage()
		st := MustNewStrategy(name, b)
		for i := range 12 {
			r := Request{Key: "k", Limit: l, Cost: int64(1 + i%2), Now: t0.Add(time.Duration(i) * 700 * time.Millisecond)}
			peek := i%5 == 4
			var got [1]Result
			if _, err := HitBatch(ctx, a, name, []BatchOp{{Request: r, Peek: peek}}, got[:]); err != nil {
				t.Fatal(err)
			}
			hitOrTest := st.Hit
			if peek {
				hitOrTest = st.Test
			}
			want, err := hitOrTest(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != want {
				t.Errorf("%s step %d: HitBatch = %+v, Strategy = %+v", name, i, got[0], want)
			}
		}
	}
}

func BenchmarkHitBatchTwoLimits(b *testing.B) {
	ctx := context.Background()
	s := newRefStorage()
	now := time.Unix(1_700_000_000, 0)
	ops := []BatchOp{
		{Request: Request{Key: "a", Limit: Limit{Amount: 1 << 40, Multiples: 1, Unit: Second}, Cost: 1, Now: now}},
		{Request: Request{Key: "b", Limit: Limit{Amount: 1 << 40, Multiples: 1, Unit: Hour}, Cost: 1, Now: now}},
	}
	results := make([]Result, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HitBatch(ctx, s, StrategyFixedWindow, ops, results); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHitBatchImpossibleStepRetryAfter checks that a batch step that can
// never be allowed (a cost above the amount) reports the window as its
// RetryAfter, as Strategy.Hit does, whether the storage runs the batch or
// HitBatch runs the steps.
func TestHitBatchImpossibleStepRetryAfter(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	for _, name := range Strategies() {
		for _, s := range []Storage{newRefStorage(), &batchRef{refStorage: newRefStorage()}} {
			ops := []BatchOp{
				{Request: Request{Key: "a", Limit: lim(5, 1, Minute), Cost: 1, Now: t0}},
				{Request: Request{Key: "b", Limit: lim(0, 10, Second), Cost: 1, Now: t0}},
			}
			results := make([]Result, 2)
			n, err := HitBatch(ctx, s, name, ops, results)
			if err != nil || n != 2 || !results[0].Allowed || results[1].Allowed {
				t.Errorf("%s over %T: HitBatch = %d, %v, %+v; want the second step rejected", name, s, n, err, results)
				continue
			}
			if got := results[1].RetryAfter; got != 10*time.Second {
				t.Errorf("%s over %T: an amount-0 step's RetryAfter = %v, want the window, 10s", name, s, got)
			}
		}
	}
}

// keyFailing is a batch-running reference storage whose fixed-window
// acquisitions fail on one key, as a Redis Cluster running a batch step by
// step fails on the key of a master that is down.
type keyFailing struct {
	*refStorage
	bad string
}

func (s *keyFailing) AcquireFixedWindow(ctx context.Context, r Request, elastic bool) (State, error) {
	if r.Key == s.bad {
		return State{}, errors.New("master down")
	}
	return s.refStorage.AcquireFixedWindow(ctx, r, elastic)
}

func (s *keyFailing) AcquireBatch(ctx context.Context, strategy string, ops []BatchOp, states []State) (int, error) {
	return AcquireEach(ctx, s, strategy, ops, states)
}

// A batch that fails part way reports the steps that ran before the
// failure, which stay counted, with their results.
func TestHitBatchFailurePartWay(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	l := Limit{Amount: 5, Multiples: 1, Unit: Minute}
	s := &keyFailing{refStorage: newRefStorage(), bad: "b"}
	ops := []BatchOp{
		{Request: Request{Key: "a", Limit: l, Cost: 1, Now: now}},
		{Request: Request{Key: "b", Limit: l, Cost: 1, Now: now}},
		{Request: Request{Key: "c", Limit: l, Cost: 1, Now: now}},
	}
	results := make([]Result, len(ops))
	n, err := HitBatch(ctx, s, StrategyFixedWindow, ops, results)
	if n != 1 || err == nil {
		t.Fatalf("HitBatch failing at step 1 = %d, %v; want 1 and an error", n, err)
	}
	if !results[0].Allowed || results[0].Remaining != 4 {
		t.Errorf("result of the step that ran = %+v, want allowed with 4 left", results[0])
	}
}
