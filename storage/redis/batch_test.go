package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

var strategyOf = map[string]string{
	"fixed": limiter.StrategyFixedWindow, "elastic": limiter.StrategyFixedWindowElasticExpiry,
	"moving": limiter.StrategyMovingWindow, "sliding": limiter.StrategySlidingWindowCounter,
	"token": limiter.StrategyTokenBucket,
}

// checkBatchesMatchSteps drives random batches of two or three limits
// through AcquireBatch on s and through the single-key scripts one by one
// (limiter.AcquireEach) on twin, requiring identical States and step counts,
// and one script command per batch.
func checkBatchesMatchSteps(t *testing.T, s, twin *redisstore.Storage, cmds *counter, alg string, seed uint64, setTime func(time.Time)) {
	t.Helper()
	ctx := context.Background()
	limits := []limiter.Limit{
		{Amount: 4, Multiples: 1, Unit: limiter.Second},
		{Amount: 9, Multiples: 10, Unit: limiter.Second},
		{Amount: 20, Multiples: 1, Unit: limiter.Minute},
		{Amount: 0, Multiples: 1, Unit: limiter.Second},
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	strategy := strategyOf[alg]
	for i := range 200 {
		now = now.Add(time.Duration(rng.Int64N(int64(700 * time.Millisecond)))).Truncate(time.Microsecond)
		ops := make([]limiter.BatchOp, 2+rng.IntN(2))
		for j := range ops {
			l := limits[rng.IntN(3)]
			if rng.IntN(40) == 0 {
				l = limits[3]
			}
			ops[j] = limiter.BatchOp{
				Request: limiter.Request{Key: fmt.Sprintf("client/%d/limit/%s", rng.IntN(2), l), Limit: l, Cost: 1 + rng.Int64N(2), Now: now},
				Peek:    rng.IntN(5) == 0,
			}
		}
		if setTime != nil {
			setTime(now)
		}
		got, want := make([]limiter.State, len(ops)), make([]limiter.State, len(ops))
		before := cmds.count()
		n, err := s.AcquireBatch(ctx, strategy, ops, got)
		if err != nil {
			t.Fatalf("batch %d: AcquireBatch: %v", i, err)
		}
		if sent := cmds.count() - before; sent != 1 && !slices.ContainsFunc(ops, func(op limiter.BatchOp) bool { return op.Limit.Amount == 0 }) {
			t.Fatalf("batch %d: %d commands sent, want 1", i, sent)
		}
		m, err := limiter.AcquireEach(ctx, twin, strategy, ops, want)
		if err != nil {
			t.Fatalf("batch %d: AcquireEach: %v", i, err)
		}
		if n != m {
			t.Fatalf("batch %d: AcquireBatch ran %d steps, step by step ran %d (ops %+v)", i, n, m, ops)
		}
		for j := range n {
			g, w := got[j], want[j]
			if g != w {
				t.Fatalf("batch %d step %d: batch %+v, step by step %+v", i, j, g, w)
			}
		}
	}
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cmds)
}

func TestAcquireBatchMatchesSteps(t *testing.T) {
	for _, clock := range []string{"client", "server"} {
		for _, alg := range algorithms {
			testBatchOnMiniredis(t, clock, alg)
		}
	}
}

func testBatchOnMiniredis(t *testing.T, clock, alg string) {
	t.Run(clock+"/"+alg, func(t *testing.T) {
		m := miniredis.RunT(t)
		client := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { client.Close() })
		cmds := &counter{}
		client.AddHook(cmds)
		var opts []limiter.StorageOption
		var setTime func(time.Time)
		if clock == "client" {
			opts = append(opts, redisstore.WithClientClock())
		} else {
			setTime = m.SetTime
		}
		s, err := redisstore.New(client, append(opts, redisstore.WithPrefix("batch:"))...)
		if err != nil {
			t.Fatal(err)
		}
		twin, err := redisstore.New(client, append(opts, redisstore.WithPrefix("steps:"))...)
		if err != nil {
			t.Fatal(err)
		}
		// Load the script once so every batch below is one EVALSHA.
		if _, err := s.AcquireBatch(context.Background(), strategyOf[alg], []limiter.BatchOp{
			{Request: limiter.Request{Key: "warm", Limit: limiter.MustParse("1/second"), Cost: 1, Now: t0}},
			{Request: limiter.Request{Key: "warm2", Limit: limiter.MustParse("1/second"), Cost: 1, Now: t0}},
		}, make([]limiter.State, 2)); err != nil {
			t.Fatal(err)
		}
		checkBatchesMatchSteps(t, s, twin, cmds, alg, uint64(len(alg)), setTime)
	})
}

// TestAcquireBatchRealServer runs the same comparison on a real Redis, and
// checks that a request's limits cost one round trip there too.
func TestAcquireBatchRealServer(t *testing.T) {
	addr := servers.Redis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	cmds := &counter{}
	client.AddHook(cmds)
	for _, alg := range []string{"fixed", "sliding", "token"} {
		t.Run(alg, func(t *testing.T) {
			p := fmt.Sprintf("batchtest-%d-%s:", time.Now().UnixNano(), alg)
			s, _ := redisstore.New(client, redisstore.WithClientClock(), redisstore.WithPrefix(p+"b:"))
			twin, _ := redisstore.New(client, redisstore.WithClientClock(), redisstore.WithPrefix(p+"s:"))
			if _, err := s.AcquireBatch(context.Background(), strategyOf[alg], []limiter.BatchOp{
				{Request: limiter.Request{Key: "warm", Limit: limiter.MustParse("1/second"), Cost: 1, Now: t0}},
				{Request: limiter.Request{Key: "warm2", Limit: limiter.MustParse("1/second"), Cost: 1, Now: t0}},
			}, make([]limiter.State, 2)); err != nil {
				t.Fatal(err)
			}
			checkBatchesMatchSteps(t, s, twin, cmds, alg, 3, nil)
			_, _ = s.ResetAll(context.Background())
			_, _ = twin.ResetAll(context.Background())
		})
	}
}

// TestAcquireBatchOnClusterEnabledServer: a plain client on a one-node
// cluster (redis://, every slot on that node) meets CROSSSLOT for a batch
// script over keys of several slots; the server refuses it before running
// anything, so the batch goes step by step and counts each hit once.
func TestAcquireBatchOnClusterEnabledServer(t *testing.T) {
	p := servers.StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	if err := client.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := client.ClusterInfo(ctx).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the one-node cluster never came up:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := redisstore.New(client, redisstore.WithClientClock())
	if err != nil {
		t.Fatal(err)
	}
	l := limiter.MustParse("2/minute")
	ops := []limiter.BatchOp{
		{Request: limiter.Request{Key: "a", Limit: l, Cost: 1, Now: t0}},
		{Request: limiter.Request{Key: "b", Limit: l, Cost: 1, Now: t0}},
	}
	for round, want := range []int64{1, 0} {
		states := make([]limiter.State, len(ops))
		n, err := s.AcquireBatch(ctx, limiter.StrategyFixedWindow, ops, states)
		if err != nil || n != 2 || !states[0].Allowed || states[0].Remaining != want || states[1].Remaining != want {
			t.Fatalf("round %d: AcquireBatch = %d, %+v, %v; want 2 allowed steps with %d remaining", round, n, states, err, want)
		}
	}
}
