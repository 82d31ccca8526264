package memcached

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/limits-go/limits/limiter"
)

// The token bucket is one item (":tb") holding the GCRA theoretical arrival
// time in Unix nanoseconds, decimal. A hit reads it and decides with
// [limiter.TokenBucket]; a rejected hit writes nothing (its answer is true
// of the value it read), an allowed hit writes the new TAT with add or
// compare-and-swap and starts over if another hit wrote first. Each lost
// race means another hit was recorded, so the loop is exact; it gives up
// with [ErrContention] after maxAttempts, counting nothing.

func decodeTAT(item *memcache.Item) (limiter.TokenBucket, error) {
	if item == nil {
		return limiter.TokenBucket{}, nil
	}
	tat, err := strconv.ParseInt(string(bytes.TrimSpace(item.Value)), 10, 64)
	if err != nil {
		return limiter.TokenBucket{}, fmt.Errorf("token bucket %s holds %q: %w: %w", item.Key, item.Value, ErrCorrupt, err)
	}
	return limiter.TokenBucket{TAT: tat}, nil
}

// AcquireTokenBucket takes tokens as [limiter.TokenBucketStorage]
// describes: a get, and for an allowed hit a compare-and-swap (add for a
// new key), repeated if another client wrote in between.
func (s *Storage) AcquireTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		key := s.base(r.Key) + sufTokenBucket
		for attempt := range maxAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return limiter.State{}, err
			}
			item, err := s.getOrNil(key)
			if err != nil {
				return limiter.State{}, err
			}
			tb, err := decodeTAT(item)
			if err != nil {
				return limiter.State{}, err
			}
			st := tb.Acquire(r)
			if !st.Allowed {
				return st, nil
			}
			exp := s.expiration(time.Duration(tb.TAT - r.Now.UnixNano()))
			ok, err := s.store(key, item, strconv.AppendInt(nil, tb.TAT, 10), exp)
			if err != nil {
				return limiter.State{}, err
			}
			if ok {
				return st, nil
			}
		}
		return limiter.State{}, ErrContention
	})
	if err != nil {
		return limiter.State{}, wrap("acquire token bucket", r.Key, err)
	}
	return st, nil
}

// PeekTokenBucket reports what AcquireTokenBucket would, in one round trip.
func (s *Storage) PeekTokenBucket(ctx context.Context, r limiter.Request) (limiter.State, error) {
	st, err := run(ctx, s, func(ctx context.Context) (limiter.State, error) {
		item, err := s.getOrNil(s.base(r.Key) + sufTokenBucket)
		if err != nil {
			return limiter.State{}, err
		}
		tb, err := decodeTAT(item)
		if err != nil {
			return limiter.State{}, err
		}
		return tb.Peek(r), nil
	})
	if err != nil {
		return limiter.State{}, wrap("peek token bucket", r.Key, err)
	}
	return st, nil
}
