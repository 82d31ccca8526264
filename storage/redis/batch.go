package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/limits-go/limits/limiter"
	"github.com/redis/go-redis/v9"
)

var _ limiter.BatchStorage = (*Storage)(nil)

// AcquireBatch implements [limiter.BatchStorage]: on a standalone or
// Sentinel-managed Redis the whole batch is one script, one round trip,
// atomic across all its keys. A Cluster or Ring client spreads the keys of
// different limits over different slots and servers, so there the steps run
// one by one ([limiter.AcquireEach]): each still atomic, with the same
// results, one round trip per step.
func (s *Storage) AcquireBatch(ctx context.Context, strategy string, ops []limiter.BatchOp, states []limiter.State) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("redis storage: acquire batch: %w", limiter.ErrClosed)
	}
	if _, single := s.client.(*redis.Client); !single || len(ops) < 2 || s.crossSlot.Load() {
		return limiter.AcquireEach(ctx, s, strategy, ops, states)
	}
	var script *script
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
	args := make([]any, 3+len(ops), 3+len(ops)*(1+tokenBucketArgs+2))
	args[2] = len(ops)
	for i := range ops {
		r := &ops[i].Request
		if err := r.Limit.Validate(); err != nil {
			return 0, fmt.Errorf("redis storage: acquire batch step %d %q: %w", i, r.Key, err)
		}
		if r.Cost < 1 {
			return 0, fmt.Errorf("redis storage: acquire batch step %d %q: cost %d: %w", i, r.Key, r.Cost, limiter.ErrInvalidCost)
		}
		if suffix == movingWindowSuffix && r.Limit.Amount > MaxMovingWindowAmount {
			return 0, fmt.Errorf("redis storage: acquire batch step %d %q: %w", i, r.Key, errMovingAmount)
		}
		if suffix == tokenBucketSuffix && r.Limit.Amount == 0 {
			// As the single-key path: nothing is stored, every hit is
			// rejected. The steps before it run one by one.
			n, err := limiter.AcquireEach(ctx, s, strategy, ops[:i], states)
			if err != nil || n < i || n > 0 && !states[n-1].Allowed {
				return n, err
			}
			now := r.Now.UnixNano()
			states[i] = limiter.State{ResetAt: now, RetryAt: now}
			return i + 1, nil
		}
		mode := modeAcquire
		switch {
		case ops[i].Peek:
			mode = modePeek
		case strategy == limiter.StrategyFixedWindowElasticExpiry:
			mode = modeElastic
		}
		args[3+i] = redisKey(s.cfg.prefix, r.Key, suffix)
		args = s.appendScriptArgs(args, r, mode, suffix)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := script.run(ctx, s.client, args).Slice()
	if err != nil && isCrossSlot(err) {
		// A plain client on a cluster-enabled server (one node owning every
		// slot): it refuses a script over keys of several slots before
		// running it, so nothing was counted. Go step by step, from now on.
		s.crossSlot.Store(true)
		return limiter.AcquireEach(ctx, s, strategy, ops, states)
	}
	if err != nil {
		err = s.callErr(ctx, err)
		return 0, fmt.Errorf("redis storage: acquire batch of %d starting at %q: %w", len(ops), ops[0].Key, err)
	}
	reply, ok := int64s(make([]int64, 0, len(vals)), vals)
	if !ok {
		return 0, fmt.Errorf("redis storage: acquire batch: %v: %w", vals, ErrUnexpectedReply)
	}
	n := 0
	for v := reply; len(v) > 0; n++ {
		if n == len(ops) {
			return 0, fmt.Errorf("redis storage: acquire batch: %d values for %d steps: %w", len(reply), len(ops), ErrUnexpectedReply)
		}
		st, used, ok := decodeStep(v, ops[n].Now.UnixNano())
		if !ok {
			return 0, fmt.Errorf("redis storage: acquire batch: %d values: %w", len(reply), ErrUnexpectedReply)
		}
		states[n], v = st, v[used:]
	}
	if n == 0 || n < len(ops) && states[n-1].Allowed {
		// The script stops early only after a rejected step.
		return 0, fmt.Errorf("redis storage: acquire batch: %d values for %d steps: %w", len(reply), len(ops), ErrUnexpectedReply)
	}
	return n, nil
}

// isCrossSlot reports whether err is the server refusing a command whose
// keys hash to several slots.
func isCrossSlot(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "CROSSSLOT")
}
