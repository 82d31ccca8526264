package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
	"github.com/redis/go-redis/v9"
)

var _ limiter.BatchStorage = (*Storage)(nil)

// batchArgs is how many ARGV values each step of a batch script takes: the
// eleven of the single-key scripts (see scripts.go), token-bucket values
// padded with zeros for the other algorithms.
const batchArgs = 11

// batchSource turns a single-key script into one that runs its body once per
// key, in order, and stops after the first step that is not allowed: the
// body becomes a function of the key and of its own slice of ARGV, and the
// prelude's per-call values are reset before each step. Redis's TIME, when
// used, is read once for the whole batch.
func batchSource(single string) string {
	body := strings.TrimPrefix(single, prelude)
	body = strings.ReplaceAll(body, "KEYS[1]", "KEY")
	body = strings.ReplaceAll(body, "ARGV[", "A[")
	helpers := prelude[strings.Index(prelude, "-- int renders"):]
	return `
local nu, nf, amount, window, cost, grace, mode, A
local tu, tf
local function setup(a)
  A = a
  if A[1] ~= '' then
    nu, nf = tonumber(A[1]), tonumber(A[2])
  else
    if tu == nil then
      local t = redis.call('TIME')
      tu, tf = tonumber(t[1]) * 1000000 + tonumber(t[2]), 0
    end
    nu, nf = tu, tf
  end
  amount, window, cost = tonumber(A[3]), tonumber(A[4]), tonumber(A[5])
  grace, mode = tonumber(A[6]), A[7]
end
` + helpers + `
local function step(KEY)
` + body + `
end
local out = {}
for i = 1, #KEYS do
  local a, base = {}, (i - 1) * ` + fmt.Sprint(batchArgs) + `
  for j = 1, ` + fmt.Sprint(batchArgs) + ` do a[j] = ARGV[base + j] end
  setup(a)
  local r = step(KEYS[i])
  for j = 1, 6 do out[#out + 1] = r[j] end
  if r[1] == 0 then break end
end
return out
`
}

// The batch scripts, one per algorithm.
var (
	fixedWindowBatch   = newScript(batchSource(fixedWindowSource))
	movingWindowBatch  = newScript(batchSource(movingWindowSource))
	slidingWindowBatch = newScript(batchSource(slidingWindowSource))
	tokenBucketBatch   = newScript(batchSource(tokenBucketSource))
)

// AcquireBatch implements [limiter.BatchStorage]: on a standalone or
// Sentinel-managed Redis the whole batch is one script, one round trip,
// atomic across all its keys. A Cluster or Ring client spreads the keys of
// different limits over different slots and servers, so there the steps run
// one by one ([limiter.AcquireEach]): each still atomic, with the same
// results, one round trip per step.
func (s *Storage) AcquireBatch(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
	if _, single := s.client.(*redis.Client); !single || len(ops) < 2 {
		return limiter.AcquireEach(ctx, s, strategy, ops, states)
	}
	if s.closed.Load() {
		return 0, fmt.Errorf("redis storage: acquire batch: %w", limiter.ErrClosed)
	}
	var script *redis.Script
	suffix := ""
	switch strategy {
	case limiter.StrategyFixedWindow, limiter.StrategyFixedWindowElasticExpiry:
		script, suffix = fixedWindowBatch, fixedWindowSuffix
	case limiter.StrategyMovingWindow:
		script, suffix = movingWindowBatch, movingWindowSuffix
	case limiter.StrategySlidingWindowCounter:
		script, suffix = slidingWindowBatch, slidingWindowSuffix
	case limiter.StrategyTokenBucket:
		script, suffix = tokenBucketBatch, tokenBucketSuffix
	default:
		return 0, fmt.Errorf("redis storage: acquire batch: %w %q", limiter.ErrUnknownStrategy, strategy)
	}
	keys := make([]string, 0, len(ops))
	args := make([]any, 0, len(ops)*batchArgs)
	for i := range ops {
		r := &ops[i].Request
		if err := r.Limit.Validate(); err != nil {
			return 0, fmt.Errorf("redis storage: acquire batch step %d %q: %w", i, r.Key, err)
		}
		if r.Cost < 1 {
			return 0, fmt.Errorf("redis storage: acquire batch step %d %q: cost %d: %w", i, r.Key, r.Cost, limiter.ErrInvalidCost)
		}
		if suffix == tokenBucketSuffix && r.Limit.Amount == 0 {
			// As the single-key path: nothing is stored, every hit is
			// rejected. The steps before it run one by one.
			n, err := limiter.AcquireEach(ctx, s, strategy, ops[:i], states)
			if err != nil || n < i || n > 0 && !states[n-1].Allowed {
				return n, err
			}
			states[i] = limiter.State{ResetAt: r.Now, RetryAt: r.Now}
			return i + 1, nil
		}
		mode := modeAcquire
		switch {
		case ops[i].Peek:
			mode = modePeek
		case strategy == limiter.StrategyFixedWindowElasticExpiry:
			mode = modeElastic
		}
		keys = append(keys, redisKey(s.cfg.prefix, r.Key, suffix))
		args = s.appendScriptArgs(args, r, mode, suffix == tokenBucketSuffix)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	reply, err := runScript(ctx, s.client, script, keys, args...).Int64Slice()
	if err != nil {
		err = withContextErr(ctx, err)
		return 0, fmt.Errorf("redis storage: acquire batch of %d starting at %q: %w", len(ops), ops[0].Key, err)
	}
	if len(reply) == 0 || len(reply)%6 != 0 || len(reply)/6 > len(ops) {
		return 0, fmt.Errorf("redis storage: acquire batch: %d values: %w", len(reply), ErrUnexpectedReply)
	}
	n := len(reply) / 6
	for i := range n {
		v, now := reply[i*6:], ops[i].Now
		states[i] = limiter.State{
			Allowed:   v[0] == 1,
			Remaining: v[1],
			ResetAt:   now.Add(time.Duration(v[2])*time.Microsecond + time.Duration(v[3])),
			RetryAt:   now.Add(time.Duration(v[4])*time.Microsecond + time.Duration(v[5])),
		}
	}
	return n, nil
}

// appendScriptArgs appends the batchArgs ARGV values of one step.
func (s *Storage) appendScriptArgs(args []any, r *limiter.Request, mode string, tokenBucket bool) []any {
	if s.cfg.clientClock {
		args = append(args, r.Now.UnixMicro(), r.Now.Nanosecond()%1000)
	} else {
		args = append(args, "", 0)
	}
	args = append(args, r.Limit.Amount, r.Limit.Window().Microseconds(), r.Cost, s.graceMS, mode)
	if !tokenBucket {
		return append(args, 0, 0, 0, 0)
	}
	interval := max(int64(r.Limit.Window())/r.Limit.Amount, 1)
	capacity := interval * r.Limit.Amount
	return append(args, interval/1000, interval%1000, capacity/1000, capacity%1000)
}
