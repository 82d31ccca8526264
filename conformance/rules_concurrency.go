package conformance

import (
	"fmt"
	"sync"
	"time"

	"github.com/limits-go/limits/limiter"
)

// outcome is one concurrent hit's result, sent back over a channel so no
// goroutine but the test's own reports failures.
type outcome struct {
	allowed   bool
	remaining int64
	err       error
}

// hammer runs goroutines × hits Strategy.Hit calls of cost 1 on key at one
// instant, all goroutines released at once, and returns every outcome.
func (e *env) hammer(st limiter.Strategy, key string, l limiter.Limit, at time.Time, goroutines, hits int) []outcome {
	return e.hammerThrough([]limiter.Strategy{st}, key, l, at, goroutines, hits)
}

// hammerThrough is hammer with goroutine i hitting through sts[i%len(sts)].
func (e *env) hammerThrough(sts []limiter.Strategy, key string, l limiter.Limit, at time.Time, goroutines, hits int) []outcome {
	results := make(chan outcome, goroutines*hits)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range goroutines {
		st := sts[i%len(sts)]
		wg.Go(func() {
			<-start
			for range hits {
				res, err := st.Hit(e.ctx, req(key, l, 1, at))
				results <- outcome{res.Allowed, res.Remaining, err}
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	out := make([]outcome, 0, goroutines*hits)
	for o := range results {
		out = append(out, o)
	}
	return out
}

// checkExactly asserts that exactly amount of the outcomes were allowed, and
// that the allowed ones reported every remaining count from amount-1 down to
// 0 once each: proof that no two hits saw the same count.
func (e *env) checkExactly(what string, outs []outcome, amount int64) {
	e.t.Helper()
	var allowed int64
	seen := make(map[int64]int)
	for _, o := range outs {
		if o.err != nil {
			e.fatalf("%s: hit failed: %v", what, o.err)
		}
		if o.allowed {
			allowed++
			seen[o.remaining]++
		} else if o.remaining != 0 {
			e.errorf("%s: a rejected hit reported Remaining = %d, want 0", what, o.remaining)
			return
		}
	}
	if allowed != amount {
		e.errorf("%s: %d of %d hits allowed, want exactly %d", what, allowed, len(outs), amount)
		return
	}
	for r := range amount {
		if seen[r] != 1 {
			e.errorf("%s: %d allowed hits reported Remaining = %d, want exactly 1 (concurrent hits saw the same count)", what, seen[r], r)
			return
		}
	}
}

func concurrencyRules() []rule {
	return []rule{
		{name: "OneKey100Goroutines", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			k, l := e.key("k"), perDay(5)
			t0 := e.at(0)
			defer func() { _ = e.s.Clear(e.ctx, k) }()
			outs := e.hammer(st, k, l, t0, 100, 1)
			e.checkExactly(fmt.Sprintf("100 goroutines hitting one key of %v", l), outs, 5)
			res, op := e.test(st, k, l, 1, t0)
			e.checkResult(op+" (afterwards)", res, l, false, 0, anyDuration)
		}},
		{name: "OneKey8Goroutines1000Hits", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			k, l := e.key("k"), perDay(4000)
			t0 := e.at(0)
			defer func() { _ = e.s.Clear(e.ctx, k) }()
			outs := e.hammer(st, k, l, t0, 8, 1000)
			e.checkExactly(fmt.Sprintf("8 goroutines × 1000 hits on one key of %v", l), outs, 4000)
		}},
		{name: "TwoStoragesOneKey", perStrategy: true, twoStorages: true, run: func(e *env) {
			// Two processes sharing the backend: a storage made atomic
			// by a lock of its own lets both read the same count.
			st := e.strategy()
			peer, err := limiter.NewStrategy(e.algo.strategy, e.peer())
			if err != nil {
				e.fatalf("limiter.NewStrategy(%q) over the peer storage: %v", e.algo.strategy, err)
			}
			k, l := e.key("k"), perDay(5)
			t0 := e.at(0)
			defer func() { _ = e.s.Clear(e.ctx, k) }()
			outs := e.hammerThrough([]limiter.Strategy{st, peer}, k, l, t0, 100, 1)
			e.checkExactly(fmt.Sprintf("100 goroutines hitting one key of %v through two storages sharing it, 50 each", l), outs, 5)
			res, op := e.test(peer, k, l, 1, t0)
			e.checkResult(op+" (through the peer, afterwards)", res, l, false, 0, anyDuration)
			// Only the first few of those hits can race, which a backend
			// answering in microseconds rarely lets happen; a thousand
			// hits that each count make a lost update all but certain.
			k2, l2 := e.key("k2"), perDay(1000)
			defer func() { _ = e.s.Clear(e.ctx, k2) }()
			outs = e.hammerThrough([]limiter.Strategy{st, peer}, k2, l2, t0, 8, 250)
			e.checkExactly(fmt.Sprintf("8 goroutines × 250 hits on one key of %v through two storages sharing it, 4 goroutines each", l2), outs, 1000)
		}},
		{name: "ManyKeysIndependent", perStrategy: true, run: func(e *env) {
			st := e.strategy()
			l := perDay(5)
			t0 := e.at(0)
			const keys = 20
			type keyed struct {
				key int
				out outcome
			}
			results := make(chan keyed, keys*10)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range keys {
				k := e.key(fmt.Sprint(i))
				defer func() { _ = e.s.Clear(e.ctx, k) }()
				wg.Go(func() {
					<-start
					for range 10 {
						res, err := st.Hit(e.ctx, req(k, l, 1, t0))
						results <- keyed{i, outcome{res.Allowed, res.Remaining, err}}
					}
				})
			}
			close(start)
			wg.Wait()
			close(results)
			per := make([][]outcome, keys)
			for r := range results {
				per[r.key] = append(per[r.key], r.out)
			}
			for i, outs := range per {
				e.checkExactly(fmt.Sprintf("key %d of %d hit 10 times concurrently with the others, %v", i, keys, l), outs, 5)
			}
		}},
	}
}
