package limiter

import (
	"context"
	"fmt"
)

// HitBatch runs several steps under the strategy called strategy over s: a
// hit for each op, or a test where op.Peek is set, in order, stopping after
// the first step that is not allowed. That step counts nothing and the steps
// after it are not run, so a request that must pass several limits is
// counted against all of them or stopped at the first it breaches; the
// steps before that one stay counted (see the example).
// results[i] receives the Result of ops[i] for every step run (as
// [Strategy.Hit] or [Strategy.Test] would return it), and HitBatch returns
// how many ran. On an error it returns how many ran before it, and those
// steps stay counted: a backend running the batch as one atomic operation
// runs none, one running it step by step (a Redis Cluster) may have run
// some.
//
// Every op is checked first, as [Strategy.Hit] checks a Request (a valid
// limit, a cost of at least 1, a Now in the range [Request.Now] allows); an
// op that fails runs nothing at all.
//
// When s implements [BatchStorage] the whole batch is one storage operation:
// one round trip on a network backend that can run it so, however many
// limits there are (storage/redis on a Cluster or Ring runs it step by
// step). Otherwise the steps run one by one.
func HitBatch(ctx context.Context, s Storage, strategy string, ops []BatchOp, results []Result) (int, error) {
	if len(results) < len(ops) {
		return 0, fmt.Errorf("limiter: %s: batch of %d steps with room for %d results", strategy, len(ops), len(results))
	}
	for i := range ops {
		if err := ops[i].Limit.Validate(); err != nil {
			return 0, err
		}
		if ops[i].Cost < 1 {
			return 0, fmt.Errorf("%w: batch step %d on %q with cost %d", ErrInvalidCost, i, ops[i].Key, ops[i].Cost)
		}
		if !nowInRange(ops[i].Now) {
			return 0, timeError(fmt.Sprintf("batch step %d on %q", i, ops[i].Key), ops[i].Now)
		}
	}
	if b, ok := s.(BatchStorage); ok && len(ops) > 1 {
		states := make([]State, len(ops))
		n, err := b.AcquireBatch(ctx, strategy, ops, states)
		n = min(max(n, 0), len(ops))
		for i := range n {
			results[i] = newResult(&ops[i].Request, states[i])
		}
		if err != nil {
			return n, fmt.Errorf("limiter: %s: batch of %d starting at %q: %w", strategy, len(ops), ops[0].Key, err)
		}
		return n, nil
	}
	for i := range ops {
		st, err := runStep(ctx, s, strategy, &ops[i])
		if err != nil {
			return i, fmt.Errorf("limiter: %s: batch step %d on %q: %w", strategy, i, ops[i].Key, err)
		}
		results[i] = newResult(&ops[i].Request, st)
		if !st.Allowed {
			return i + 1, nil
		}
	}
	return len(ops), nil
}

// AcquireEach runs a batch step by step over s's single-key methods, with the
// semantics of [BatchStorage.AcquireBatch]. Backends that implement
// AcquireBatch use it for batches they cannot run as one operation.
func AcquireEach(ctx context.Context, s Storage, strategy string, ops []BatchOp, states []State) (int, error) {
	for i := range ops {
		st, err := runStep(ctx, s, strategy, &ops[i])
		if err != nil {
			return i, err
		}
		states[i] = st
		if !st.Allowed {
			return i + 1, nil
		}
	}
	return len(ops), nil
}

// runStep runs one op over s's single-key method for strategy.
func runStep(ctx context.Context, s Storage, strategy string, op *BatchOp) (State, error) {
	switch strategy {
	case StrategyFixedWindow, StrategyFixedWindowElasticExpiry:
		if op.Peek {
			return s.PeekFixedWindow(ctx, op.Request)
		}
		return s.AcquireFixedWindow(ctx, op.Request, strategy == StrategyFixedWindowElasticExpiry)
	case StrategyMovingWindow:
		if mw, ok := s.(MovingWindowStorage); ok {
			if op.Peek {
				return mw.PeekMovingWindow(ctx, op.Request)
			}
			return mw.AcquireMovingWindow(ctx, op.Request)
		}
		return State{}, missingCapability(strategy, "MovingWindowStorage", s)
	case StrategySlidingWindowCounter:
		if sw, ok := s.(SlidingWindowStorage); ok {
			if op.Peek {
				return sw.PeekSlidingWindow(ctx, op.Request)
			}
			return sw.AcquireSlidingWindow(ctx, op.Request)
		}
		return State{}, missingCapability(strategy, "SlidingWindowStorage", s)
	case StrategyTokenBucket:
		if tb, ok := s.(TokenBucketStorage); ok {
			if op.Peek {
				return tb.PeekTokenBucket(ctx, op.Request)
			}
			return tb.AcquireTokenBucket(ctx, op.Request)
		}
		return State{}, missingCapability(strategy, "TokenBucketStorage", s)
	}
	return State{}, fmt.Errorf("%w %q", ErrUnknownStrategy, strategy)
}

func missingCapability(strategy, iface string, s Storage) error {
	return fmt.Errorf("limiter: strategy %q needs a storage implementing limiter.%s; %T does not: %w",
		strategy, iface, s, ErrUnsupported)
}
