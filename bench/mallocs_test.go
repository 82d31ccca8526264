package bench_test

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runOps times b.N operations and reports their exact allocations. newOp
// returns the operation of one worker, whose state (the next key, its own
// request) lives in the closure; it runs before the timer starts. Serially,
// worker 0 runs all b.N ops on the benchmark's goroutine. In parallel,
// GOMAXPROCS workers take batches of ops from a shared counter until b.N
// are done, as b.RunParallel does, but the loop allocates nothing while it
// is measured (b.RunParallel allocates about 8 objects per call, which
// would show in an op's fraction; see countLoop).
//
// Beside testing's B/op and allocs/op, which truncate to whole numbers (0.04
// allocations per op reads as 0), it reports the runtime.MemStats deltas
// around the loop: mallocs/op and mallocB/op, fractional, and mallocs, the
// total, from which cmd/benchreport computes mallocs/op exactly (testing
// prints a metric with four significant digits). The counts are global:
// they include what the runtime allocates meanwhile, such as the objects a
// sync.Pool allocates again after a collection emptied it.
func runOps(b *testing.B, parallel bool, newOp func(worker int) func()) {
	b.ReportAllocs()
	procs := 1
	if parallel {
		procs = runtime.GOMAXPROCS(0)
	}
	ops := make([]func(), procs)
	for w := range ops {
		ops[w] = newOp(w)
	}
	mallocs, bytes := countLoop(int64(b.N), ops, b.ResetTimer, b.StopTimer)
	b.ReportMetric(float64(mallocs), "mallocs")
	b.ReportMetric(float64(mallocs)/float64(b.N), "mallocs/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "mallocB/op")
}

// countLoop runs n operations on len(ops) workers, one op function each,
// between startTimer and stopTimer, and returns the heap objects and bytes
// allocated meanwhile. ops[0] runs on the calling goroutine. The other
// workers start, and wait by spinning, before the counters are read; the
// caller spins too while it waits for them at the end: a goroutine that
// blocks may allocate its wait record.
func countLoop(n int64, ops []func(), startTimer, stopTimer func()) (mallocs, bytes uint64) {
	// Batches of about a hundredth of each worker's share, so a worker
	// that is descheduled leaves the rest to the others.
	grain := max(1, min(10_000, n/int64(100*len(ops))))
	var next, started, done atomic.Int64
	var begin atomic.Bool
	work := func(op func()) {
		for {
			end := next.Add(grain)
			first := end - grain
			if first >= n {
				return
			}
			for range min(end, n) - first {
				op()
			}
		}
	}
	for _, op := range ops[1:] {
		go func() {
			started.Add(1)
			for !begin.Load() {
				runtime.Gosched()
			}
			work(op)
			done.Add(1)
		}()
	}
	others := int64(len(ops) - 1)
	for started.Load() < others {
		runtime.Gosched()
	}
	// Collect the setup's garbage, as testing does before the setup, and let
	// the goroutines the setup started (a storage's sweeper, a peer's
	// cleaner) and the finalizers the collection queued run to their first
	// wait, so that what they allocate is not counted: sleeping frees this
	// goroutine's processor for them.
	runtime.GC()
	time.Sleep(time.Millisecond)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	startTimer()
	begin.Store(true)
	work(ops[0])
	for done.Load() < others {
		runtime.Gosched()
	}
	stopTimer()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// exactMallocs returns how many heap objects n calls of f allocate in
// total, counted by runtime.MemStats: exact, where testing.AllocsPerRun
// returns a mean truncated to a whole number. It runs with GOMAXPROCS 1 and
// the collector off, so sync.Pool keeps what it holds, and returns the
// fewest of three tries, so a stray allocation by another goroutine (a
// timer, a peer's cleaner) does not count. An allocation f makes once in k
// calls, for k up to n, shows in every try.
func exactMallocs(n int, f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	f() // the first call may fill caches
	least := uint64(1<<64 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		least = min(least, after.Mallocs-before.Mallocs)
	}
	return least
}

// failures collects the errors of a benchmark's operations, from any
// goroutine: the benchmark fails after its loop, with the first.
type failures struct {
	n     atomic.Int64
	mu    sync.Mutex
	first error
}

func (f *failures) add(err error) {
	if f.n.Add(1) == 1 {
		f.mu.Lock()
		f.first = err
		f.mu.Unlock()
	}
}

// check fails tb if any operation of name failed.
func (f *failures) check(tb testing.TB, name string) {
	tb.Helper()
	if n := f.n.Load(); n > 0 {
		f.mu.Lock()
		defer f.mu.Unlock()
		tb.Fatalf("%s: %d operations failed, the first with: %v", name, n, f.first)
	}
}

// The benchmarks' loop allocates nothing of its own, serially or in
// parallel, so mallocs/op counts only what the operations allocate. The
// fewest of three tries counts, as in exactMallocs: the counters are global,
// and the earlier tests leave goroutines and finalizers behind.
func TestCountLoopAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates as goroutines start and synchronize")
	}
	for _, workers := range []int{1, 2, 4} {
		var ran atomic.Int64
		ops := make([]func(), workers)
		for w := range ops {
			ops[w] = func() { ran.Add(1) }
		}
		nothing := func() {}
		const n = 100_000
		least := uint64(1<<64 - 1)
		for try := range 3 {
			mallocs, _ := countLoop(n, ops, nothing, nothing)
			least = min(least, mallocs)
			if got := ran.Load(); got != int64(try+1)*n {
				t.Fatalf("%d workers: %d ops ran in %d loops, want %d", workers, got, try+1, int64(try+1)*n)
			}
		}
		if least != 0 {
			t.Errorf("%d workers: a loop of %d empty ops allocated %d objects, want 0", workers, n, least)
		}
	}
}
