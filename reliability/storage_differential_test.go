package reliability

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/bradfitz/gomemcache/memcache"
	goredis "github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memcached"
	"github.com/limits-go/limits/storage/memory"
	redisstore "github.com/limits-go/limits/storage/redis"
)

// TestStorageDifferential drives random programs — hits and peeks under
// every algorithm, clears and batches, on a few keys with random limits,
// costs and time steps — through the memory storage and through each
// network storage deciding on Request.Now (Redis in client-clock mode on
// miniredis and on a real server, memcached on a real server), and
// requires every State, batch length and error to be the memory storage's.
// A disagreement is shrunk to a shortest failing program before it is
// reported.
//
// A quarter of the programs step the clock back now and then, by less than
// a minute, as hits from application servers whose clocks lag do.
//
// The simulated clock runs far ahead of real time (days in a second).
// That is valid for these storages: their decisions use only Request.Now
// and the instants stored in their values, and a server-side TTL is the
// state's remaining life measured from Request.Now plus a grace (a minute
// on both), so in real time a key outlives its state, never the reverse.
//
// -xst.seeds and -xst.ops make longer runs; -xst.seed replays one seed.
// With -short only miniredis runs.
func TestStorageDifferential(t *testing.T) {
	targets := []struct {
		name string
		open func(t *testing.T) (xstTarget, func())
	}{
		{"miniredis", func(t *testing.T) (xstTarget, func()) {
			m := miniredis.RunT(t)
			return redisTarget(t, m.Addr())
		}},
		{"redis", func(t *testing.T) (xstTarget, func()) {
			return redisTarget(t, servers.Redis(t))
		}},
		{"memcached", func(t *testing.T) (xstTarget, func()) {
			c := memcache.New(servers.Memcached(t))
			c.Timeout = 2 * time.Second
			s, err := memcached.New(c, memcached.WithKeyPrefix(xstPrefix()))
			if err != nil {
				t.Fatal(err)
			}
			return xstTarget{Storage: s, batch: eachBatch(s)}, func() { s.Close(); c.Close() }
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			if testing.Short() && tg.name != "miniredis" {
				t.Skip("-short: miniredis only")
			}
			target, done := tg.open(t)
			defer done()
			seeds := make([]uint64, 0, *xstSeeds)
			if *xstSeed != 0 {
				seeds = append(seeds, *xstSeed)
			} else {
				for i := range *xstSeeds {
					seeds = append(seeds, uint64(i)+1)
				}
			}
			total := 0
			for _, seed := range seeds {
				p := genProgram(seed, *xstOps)
				res := runProgram(target, p)
				total += res.calls
				if res.fail < 0 {
					continue
				}
				small := shrink(target, p)
				t.Errorf("seed %d: %s disagrees with memory; shortest program found:\n%s", seed, tg.name, runProgram(target, small).log)
			}
			t.Logf("%d programs, %d storage calls on each of memory and %s", len(seeds), total, tg.name)
		})
	}
}

var (
	xstSeeds = flag.Int("xst.seeds", 40, "TestStorageDifferential: programs per storage")
	xstOps   = flag.Int("xst.ops", 160, "TestStorageDifferential: operations per program")
	xstSeed  = flag.Uint64("xst.seed", 0, "TestStorageDifferential: run this seed only")
)

// xstTarget is a storage under test, with every capability but batches
// from the storage itself; batch runs a batch as one operation when the
// storage can.
type xstTarget struct {
	limiter.Storage
	batch func(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error)
}

func eachBatch(s limiter.Storage) func(context.Context, string, []limiter.BatchOp, []limiter.State) (int, error) {
	return func(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
		return limiter.AcquireEach(ctx, s, strategy, ops, states)
	}
}

func redisTarget(t *testing.T, addr string) (xstTarget, func()) {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	s, err := redisstore.New(c, redisstore.WithClientClock(), redisstore.WithPrefix(xstPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	return xstTarget{Storage: s, batch: s.AcquireBatch}, func() { s.Close(); c.Close() }
}

// xstPrefix is a key prefix no other run shares, for servers given in the
// environment.
func xstPrefix() string { return fmt.Sprintf("xst%x:", rand.Uint64()) }

// xstRun numbers program runs, so that no run sees another's keys.
var xstRun atomic.Int64

// The algorithms, as strategy names.
var xstAlgs = []string{
	limiter.StrategyFixedWindow,
	limiter.StrategyFixedWindowElasticExpiry,
	limiter.StrategyMovingWindow,
	limiter.StrategySlidingWindowCounter,
	limiter.StrategyTokenBucket,
}

// A program is the keys with their limits, a start instant, and the
// operations to run in order.
type program struct {
	limits []limiter.Limit
	start  time.Time
	skewed bool // clocks lag: stepBack steps
	ops    []xop
}

type opKind uint8

const (
	opHit opKind = iota
	opClear
	opBatch
)

// xop is one operation: a clock step, then a hit or peek on a key, a
// clear, or a batch.
type xop struct {
	step  clockStep
	kind  opKind
	alg   int
	key   int
	cost  int64
	peek  bool
	steps []batchStep // opBatch
}

type batchStep struct {
	key  int
	cost int64
	peek bool
	lag  time.Duration // added to the batch's instant for this step and the ones after it
}

type stepKind uint8

const (
	stepNone     stepKind = iota
	stepBy                // by d
	stepWindows           // by n windows of key, plus d
	stepBoundary          // to the next multiple of key's window, plus d
	stepReset             // to the last State's ResetAt, plus d
	stepRetry             // to the last State's RetryAt, plus d
	stepBack              // back by d: the next hits come from a clock behind
)

// clockStep moves the simulated clock forward before an operation. Steps
// that aim at a window edge or a reported instant are resolved when the
// program runs. Only stepBack moves the clock back, as a hit from an
// application server whose clock lags does.
type clockStep struct {
	kind stepKind
	key  int
	n    int64
	d    time.Duration
}

func genLimit(rng *rand.Rand) limiter.Limit {
	amount := rng.Int64N(21)
	if rng.IntN(3) == 0 {
		amount = 1 + rng.Int64N(4)
	}
	switch rng.IntN(8) {
	case 0, 1, 2:
		return limiter.Limit{Amount: amount, Multiples: 1, Unit: limiter.Second}
	case 3, 4:
		return limiter.Limit{Amount: amount, Multiples: 2 + rng.Int64N(9), Unit: limiter.Second}
	case 5:
		return limiter.Limit{Amount: amount, Multiples: 1 + rng.Int64N(5), Unit: limiter.Minute}
	case 6:
		return limiter.Limit{Amount: amount, Multiples: 1 + rng.Int64N(3), Unit: limiter.Hour}
	default:
		return limiter.Limit{Amount: amount, Multiples: 1, Unit: limiter.Day}
	}
}

func genCost(rng *rand.Rand, l limiter.Limit) int64 {
	if rng.IntN(2) == 0 {
		return 1
	}
	return 1 + rng.Int64N(l.Amount+2)
}

func genStep(rng *rand.Rand, limits []limiter.Limit, skewed bool) clockStep {
	key := rng.IntN(len(limits))
	if skewed && rng.IntN(8) == 0 {
		// Servers sharing memcached must agree on the time to well
		// within its expiry grace (a minute): lag by less.
		lag := min(2*limits[key].Window(), 59*time.Second)
		return clockStep{kind: stepBack, d: time.Duration(1 + rng.Int64N(int64(lag)))}
	}
	edge := time.Duration(rng.IntN(3) - 1) // -1ns, 0 or +1ns
	switch x := rng.IntN(100); {
	case x < 20:
		return clockStep{}
	case x < 28:
		return clockStep{kind: stepBy, d: time.Nanosecond}
	case x < 45:
		return clockStep{kind: stepBy, d: time.Duration(rng.Int64N(int64(time.Second)))}
	case x < 52:
		return clockStep{kind: stepWindows, key: key, n: 1}
	case x < 58:
		return clockStep{kind: stepWindows, key: key, n: 1, d: edge}
	case x < 66:
		return clockStep{kind: stepBoundary, key: key, d: edge}
	case x < 76:
		return clockStep{kind: stepReset, d: edge}
	case x < 86:
		return clockStep{kind: stepRetry, d: edge}
	case x < 94:
		// Part of a window: within the span a limit's state lives.
		return clockStep{kind: stepWindows, key: key, n: 0, d: time.Duration(rng.Int64N(1 << 30))}
	case x < 98:
		return clockStep{kind: stepWindows, key: key, n: 1 + rng.Int64N(3), d: time.Duration(rng.Int64N(int64(time.Second)))}
	default:
		return clockStep{kind: stepBy, d: time.Duration(rng.Int64N(int64(72 * time.Hour)))}
	}
}

// genProgram returns the program seed makes, of n operations.
func genProgram(seed uint64, n int) program {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	p := program{
		start: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(48 * time.Hour)))),
	}
	for range 1 + rng.IntN(3) {
		p.limits = append(p.limits, genLimit(rng))
	}
	keys := len(p.limits)
	// Half the programs give each key one algorithm, so its state grows
	// deep; the rest mix algorithms on every key.
	keyAlg := make([]int, keys)
	for i := range keyAlg {
		keyAlg[i] = rng.IntN(len(xstAlgs))
	}
	mixed := rng.IntN(2) == 0
	// A quarter of the programs have hits from clocks that lag.
	p.skewed = rng.IntN(4) == 0
	for range n {
		op := xop{step: genStep(rng, p.limits, p.skewed), key: rng.IntN(keys)}
		op.alg = keyAlg[op.key]
		if mixed {
			op.alg = rng.IntN(len(xstAlgs))
		}
		switch x := rng.IntN(100); {
		case x < 4:
			op.kind = opClear
		case x < 18:
			op.kind = opBatch
			for range 1 + rng.IntN(4) {
				k := rng.IntN(keys)
				s := batchStep{key: k, cost: genCost(rng, p.limits[k]), peek: rng.IntN(4) == 0}
				if rng.IntN(6) == 0 {
					s.lag = time.Duration(rng.Int64N(int64(time.Second)))
				}
				op.steps = append(op.steps, s)
			}
		default:
			op.kind = opHit
			op.cost = genCost(rng, p.limits[op.key])
			op.peek = rng.IntN(3) == 0
		}
		p.ops = append(p.ops, op)
	}
	return p
}

// runResult is what running a program found: the index of the first
// operation whose results differ (-1 if none), the storage calls made on
// each side, and a log of the operations up to the first difference.
type runResult struct {
	fail  int
	calls int
	log   string
}

// runProgram runs p on a fresh memory storage and on target, under keys
// no earlier run used.
func runProgram(target xstTarget, p program) runResult {
	ctx := context.Background()
	clock := limiter.NewManualClock(p.start)
	mem, err := memory.New(memory.WithClock(clock), memory.WithSweepInterval(0))
	if err != nil {
		panic(err)
	}
	defer mem.Close()
	ref := xstTarget{Storage: mem, batch: eachBatch(mem)}
	run := xstRun.Add(1)
	keys := make([]string, len(p.limits))
	var log strings.Builder
	used := make([]bool, len(p.limits))
	for _, op := range p.ops {
		used[op.key] = true
		for _, s := range op.steps {
			used[s.key] = true
		}
	}
	for i, l := range p.limits {
		keys[i] = fmt.Sprintf("r%d/k%d", run, i)
		if used[i] {
			fmt.Fprintf(&log, "key %d: %s (window %v)\n", i, l, l.Window())
		}
	}
	fmt.Fprintf(&log, "start %s\n", p.start.Format(time.RFC3339Nano))
	now := p.start
	var last limiter.State // the memory storage's last State, for clock steps
	res := runResult{fail: -1}
	for i, op := range p.ops {
		now = resolveStep(op.step, now, p, last)
		clock.Set(now)
		elapsed := now.Sub(p.start)
		alg := xstAlgs[op.alg]
		switch op.kind {
		case opClear:
			e1, e2 := mem.Clear(ctx, keys[op.key]), target.Clear(ctx, keys[op.key])
			res.calls++
			fmt.Fprintf(&log, "%3d +%v clear k%d\n", i, elapsed, op.key)
			if (e1 == nil) != (e2 == nil) {
				fmt.Fprintf(&log, "    memory err %v, target err %v\n", e1, e2)
				res.fail = i
			}
		case opHit:
			r := limiter.Request{Key: keys[op.key], Limit: p.limits[op.key], Cost: op.cost, Now: now}
			want, e1 := call(ctx, ref, alg, op.peek, r)
			got, e2 := call(ctx, target, alg, op.peek, r)
			res.calls++
			fmt.Fprintf(&log, "%3d +%v %s %s k%d cost %d: memory %s", i, elapsed, verb(op.peek), alg, op.key, op.cost, fmtState(want, now, e1))
			if want != got || (e1 == nil) != (e2 == nil) {
				fmt.Fprintf(&log, "\n    target %s  <-- differs", fmtState(got, now, e2))
				res.fail = i
			}
			log.WriteString("\n")
			if e1 == nil {
				last = want
			}
		case opBatch:
			ops := make([]limiter.BatchOp, len(op.steps))
			at := now
			for j, s := range op.steps {
				at = at.Add(s.lag)
				ops[j] = limiter.BatchOp{Request: limiter.Request{Key: keys[s.key], Limit: p.limits[s.key], Cost: s.cost, Now: at}, Peek: s.peek}
			}
			want := make([]limiter.State, len(ops))
			got := make([]limiter.State, len(ops))
			n1, e1 := ref.batch(ctx, alg, ops, want)
			n2, e2 := target.batch(ctx, alg, ops, got)
			res.calls += len(ops)
			fmt.Fprintf(&log, "%3d +%v batch %s: memory ran %d (err %v), target %d (err %v)\n", i, elapsed, alg, n1, e1, n2, e2)
			differs := n1 != n2 || (e1 == nil) != (e2 == nil)
			for j, s := range op.steps {
				fmt.Fprintf(&log, "      %s k%d cost %d at +%v: memory %s", verb(s.peek), s.key, s.cost, ops[j].Now.Sub(p.start), fmtState(want[j], ops[j].Now, nil))
				if j < min(n1, n2) && want[j] != got[j] {
					fmt.Fprintf(&log, "\n      target %s  <-- differs", fmtState(got[j], ops[j].Now, nil))
					differs = true
				}
				log.WriteString("\n")
			}
			if differs {
				res.fail = i
			}
			if n1 > 0 && e1 == nil {
				last = want[n1-1]
			}
			now = at
		}
		if res.fail >= 0 {
			break
		}
	}
	res.log = log.String()
	return res
}

func resolveStep(s clockStep, now time.Time, p program, last limiter.State) time.Time {
	var next time.Time
	switch s.kind {
	case stepNone:
		return now
	case stepBy:
		next = now.Add(s.d)
	case stepWindows:
		next = now.Add(time.Duration(s.n)*p.limits[s.key].Window() + s.d)
	case stepBoundary:
		w := int64(p.limits[s.key].Window())
		n := now.UnixNano()
		next = time.Unix(0, n-n%w+w).Add(s.d)
	case stepReset:
		next = time.Unix(0, last.ResetAt).Add(s.d)
	case stepRetry:
		next = time.Unix(0, last.RetryAt).Add(s.d)
	case stepBack:
		return now.Add(-s.d)
	}
	if next.Before(now) {
		return now
	}
	return next.In(time.UTC)
}

func verb(peek bool) string {
	if peek {
		return "peek"
	}
	return "acquire"
}

// fmtState shows a State with its instants relative to now.
func fmtState(s limiter.State, now time.Time, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	n := now.UnixNano()
	return fmt.Sprintf("{allowed %v, remaining %d, reset now%+v, retry now%+v}", s.Allowed, s.Remaining, time.Duration(s.ResetAt-n), time.Duration(s.RetryAt-n))
}

// call runs one hit or peek under alg.
func call(ctx context.Context, s xstTarget, alg string, peek bool, r limiter.Request) (limiter.State, error) {
	states := make([]limiter.State, 1)
	_, err := eachBatch(s.Storage)(ctx, alg, []limiter.BatchOp{{Request: r, Peek: peek}}, states)
	return states[0], err
}

// shrink returns a shortest program it finds that still makes target
// disagree with memory: it cuts the program after the first difference,
// then drops operations and batch steps one at a time while the
// disagreement stays.
func shrink(target xstTarget, p program) program {
	fails := func(q program) bool { return runProgram(target, q).fail >= 0 }
	p.ops = p.ops[:runProgram(target, p).fail+1]
	for changed := true; changed; {
		changed = false
		for i := len(p.ops) - 1; i >= 0; i-- {
			q := p
			q.ops = append(append([]xop(nil), p.ops[:i]...), p.ops[i+1:]...)
			if fails(q) {
				p, changed = q, true
				continue
			}
			if p.ops[i].kind == opBatch {
				for j := len(p.ops[i].steps) - 1; j >= 0 && len(p.ops[i].steps) > 1; j-- {
					q := p
					q.ops = append([]xop(nil), p.ops...)
					q.ops[i].steps = append(append([]batchStep(nil), p.ops[i].steps[:j]...), p.ops[i].steps[j+1:]...)
					if fails(q) {
						p, changed = q, true
					}
				}
			}
		}
		if n := runProgram(target, p).fail; n >= 0 && n+1 < len(p.ops) {
			p.ops, changed = p.ops[:n+1], true
		}
	}
	return p
}
