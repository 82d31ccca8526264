package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/limits-go/limits/limiter"
	redisstore "github.com/limits-go/limits/storage/redis"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func newMiniredis(t *testing.T, opts ...limiter.StorageOption) (*miniredis.Miniredis, *redis.Client, *redisstore.Storage) {
	t.Helper()
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { c.Close() })
	s, err := redisstore.New(c, append([]limiter.StorageOption{redisstore.WithClientClock()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, c, s
}

// counter is a go-redis hook that records every command sent.
type counter struct {
	mu   sync.Mutex
	cmds []string
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.cmds = append(c.cmds, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		for _, cmd := range cmds {
			c.cmds = append(c.cmds, cmd.Name())
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.cmds
	c.cmds = nil
	return out
}

type namedOp struct {
	name string
	op   func(context.Context, limiter.Request) (limiter.State, error)
}

// operations returns every acquire and peek operation of s.
func operations(s *redisstore.Storage) []namedOp {
	return []namedOp{
		{"AcquireFixedWindow", func(ctx context.Context, r limiter.Request) (limiter.State, error) {
			return s.AcquireFixedWindow(ctx, r, false)
		}},
		{"AcquireFixedWindow[elastic]", func(ctx context.Context, r limiter.Request) (limiter.State, error) {
			return s.AcquireFixedWindow(ctx, r, true)
		}},
		{"PeekFixedWindow", s.PeekFixedWindow},
		{"AcquireMovingWindow", s.AcquireMovingWindow},
		{"PeekMovingWindow", s.PeekMovingWindow},
		{"AcquireSlidingWindow", s.AcquireSlidingWindow},
		{"PeekSlidingWindow", s.PeekSlidingWindow},
		{"AcquireTokenBucket", s.AcquireTokenBucket},
		{"PeekTokenBucket", s.PeekTokenBucket},
	}
}

// TestOneCommandPerHit counts the commands each operation sends: one
// EVALSHA, allowed or rejected; EVALSHA then EVAL only when the server does
// not know the script (first use, or after SCRIPT FLUSH).
func TestOneCommandPerHit(t *testing.T) {
	_, c, s := newMiniredis(t)
	var hook counter
	c.AddHook(&hook)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil { // the connection's handshake is not a hit's
		t.Fatal(err)
	}
	hook.take()
	l := limiter.Limit{Amount: 3, Multiples: 1, Unit: limiter.Minute}
	seen := map[string]bool{}
	for _, o := range operations(s) {
		script := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSuffix(o.name, "[elastic]"), "Acquire"), "Peek")
		for i := range 5 { // allowed and rejected hits alike
			if _, err := o.op(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: t0}); err != nil {
				t.Fatalf("%s: %v", o.name, err)
			}
			want := "evalsha"
			if !seen[script] {
				want = "evalsha eval"
				seen[script] = true
			}
			if got := strings.Join(hook.take(), " "); got != want {
				t.Errorf("%s call %d sent %q, want %q", o.name, i, got, want)
			}
		}
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	hook.take()
	for i, want := range []string{"evalsha eval", "evalsha"} {
		if _, err := s.AcquireTokenBucket(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: t0}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(hook.take(), " "); got != want {
			t.Errorf("after SCRIPT FLUSH, call %d sent %q, want %q", i, got, want)
		}
	}
}

// TestKeysShareOneSlot checks the key layout: prefix, the escaped limiter
// key as hash tag, one key per capability, all in one Cluster slot.
func TestKeysShareOneSlot(t *testing.T) {
	for _, key := range []string{"k", "", "/users/{id}", "}{", "%7B", "a}b{c", "%"} {
		m, _, s := newMiniredis(t, redisstore.WithPrefix("app:"))
		ctx := context.Background()
		r := limiter.Request{Key: key, Limit: limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Minute}, Cost: 1, Now: t0}
		for _, o := range operations(s) {
			if _, err := o.op(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		keys := m.Keys()
		if len(keys) != 4 {
			t.Fatalf("key %q: Redis keys %q, want 4", key, keys)
		}
		slot := int64(-1)
		for _, k := range keys {
			if !strings.HasPrefix(k, "app:{") {
				t.Errorf("key %q: Redis key %q does not start with the prefix and a hash tag", key, k)
				continue
			}
			if tag := k[len("app:{"):strings.IndexByte(k, '}')]; tag == "" {
				t.Errorf("key %q: Redis key %q has an empty hash tag", key, k)
			}
			got := clusterSlot(k)
			if slot >= 0 && got != slot {
				t.Errorf("key %q: Redis keys %q span slots", key, keys)
			}
			slot = got
		}
		if err := s.Clear(ctx, key); err != nil {
			t.Fatal(err)
		}
		if keys := m.Keys(); len(keys) != 0 {
			t.Errorf("key %q: after Clear, Redis keys %q remain", key, keys)
		}
	}
}

// clusterSlot computes a key's Redis Cluster slot: CRC16 (XMODEM) of the
// hash tag, or of the whole key if it has none, modulo 16384.
func clusterSlot(key string) int64 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int64(crc) % 16384
}

// TestDistinctKeysDoNotCollide: escaping keeps keys that differ only in
// braces or percent signs apart.
func TestDistinctKeysDoNotCollide(t *testing.T) {
	_, _, s := newMiniredis(t)
	ctx := context.Background()
	l := limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Minute}
	for _, key := range []string{"{", "%7B", "%257B", "}", "%7D", "", "%"} {
		st, err := s.AcquireFixedWindow(ctx, limiter.Request{Key: key, Limit: l, Cost: 1, Now: t0}, false)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Allowed {
			t.Errorf("first hit on key %q rejected: it shares a bucket with an earlier key", key)
		}
	}
}

// TestResetAllLeavesOtherPrefixes: ResetAll removes this storage's keys
// only, and counts them; glob characters in the prefix match literally.
func TestResetAllLeavesOtherPrefixes(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	ctx := context.Background()
	a, _ := redisstore.New(c, redisstore.WithPrefix("a*:"), redisstore.WithClientClock())
	b, _ := redisstore.New(c, redisstore.WithPrefix("ab:"), redisstore.WithClientClock())
	l := limiter.Limit{Amount: 5, Multiples: 1, Unit: limiter.Minute}
	for _, s := range []*redisstore.Storage{a, b} {
		for _, k := range []string{"x", "y", "z"} {
			if _, err := s.AcquireFixedWindow(ctx, limiter.Request{Key: k, Limit: l, Cost: 1, Now: t0}, false); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AcquireTokenBucket(ctx, limiter.Request{Key: k, Limit: l, Cost: 1, Now: t0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := m.Set("a*:unrelated", "1"); err != nil {
		t.Fatal(err)
	}
	n, err := a.ResetAll(ctx)
	if err != nil || n != 6 {
		t.Fatalf("ResetAll = %d, %v; want 6, nil", n, err)
	}
	if got := len(m.Keys()); got != 7 {
		t.Errorf("after ResetAll of prefix a*: %d keys left (%q), want 7", got, m.Keys())
	}
}

func TestClose(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	for _, owned := range []bool{false, true} {
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		var opts []limiter.StorageOption
		if owned {
			opts = append(opts, redisstore.WithOwnedClient())
		}
		s, err := redisstore.New(c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		clientErr := c.Ping(ctx).Err()
		if owned && !errors.Is(clientErr, redis.ErrClosed) {
			t.Errorf("owned client after Close: Ping = %v, want redis.ErrClosed", clientErr)
		}
		if !owned && clientErr != nil {
			t.Errorf("caller's client after Close: Ping = %v, want nil", clientErr)
		}
		r := limiter.Request{Key: "k", Limit: limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Second}, Cost: 1, Now: t0}
		for _, o := range operations(s) {
			if _, err := o.op(ctx, r); !errors.Is(err, limiter.ErrClosed) {
				t.Errorf("%s after Close = %v, want ErrClosed", o.name, err)
			}
		}
		if err := s.Check(ctx); !errors.Is(err, limiter.ErrClosed) {
			t.Errorf("Check after Close = %v, want ErrClosed", err)
		}
		if err := s.Clear(ctx, "k"); !errors.Is(err, limiter.ErrClosed) {
			t.Errorf("Clear after Close = %v, want ErrClosed", err)
		}
		if _, err := s.ResetAll(ctx); !errors.Is(err, limiter.ErrClosed) {
			t.Errorf("ResetAll after Close = %v, want ErrClosed", err)
		}
		for _, ops := range [][]limiter.BatchOp{nil, {{Request: r}}, {{Request: r}, {Request: r}}} {
			if _, err := s.AcquireBatch(ctx, limiter.StrategyFixedWindow, ops, make([]limiter.State, len(ops))); !errors.Is(err, limiter.ErrClosed) {
				t.Errorf("AcquireBatch of %d after Close = %v, want ErrClosed", len(ops), err)
			}
		}
		if !owned {
			c.Close()
		}
	}
}

// hungServer accepts connections and never answers.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestDeadlines: a hung server costs a call its context's deadline, or the
// storage's default timeout when the context has none.
func TestDeadlines(t *testing.T) {
	addr := hungServer(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	r := limiter.Request{Key: "k", Limit: limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Second}, Cost: 1, Now: t0}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		ctx     time.Duration
		want    time.Duration
	}{
		{"default timeout", 150 * time.Millisecond, 0, 150 * time.Millisecond},
		{"context deadline", time.Hour, 100 * time.Millisecond, 100 * time.Millisecond},
	} {
		s, err := redisstore.New(c, redisstore.WithTimeout(tc.timeout))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if tc.ctx > 0 {
			ctx, cancel = context.WithTimeout(ctx, tc.ctx)
		}
		start := time.Now()
		_, err = s.AcquireFixedWindow(ctx, r, false)
		took := time.Since(start)
		_, resetErr := s.ResetAll(ctx)
		cancel()
		if !errors.Is(resetErr, context.DeadlineExceeded) {
			t.Errorf("%s: ResetAll error %v, want one wrapping context.DeadlineExceeded", tc.name, resetErr)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v, want one wrapping context.DeadlineExceeded", tc.name, err)
		}
		if err == nil || !strings.HasPrefix(err.Error(), `redis storage: acquire fixed window "k": `) {
			t.Errorf("%s: error %q lacks the operation and key", tc.name, err)
		}
		if took < tc.want || took > tc.want+time.Second {
			t.Errorf("%s: call took %v, want about %v", tc.name, took, tc.want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, opt := range []limiter.StorageOption{
		redisstore.WithPrefix("a{b"),
		redisstore.WithTimeout(-time.Second),
		redisstore.WithExpiryGrace(-1),
	} {
		if _, err := redisstore.New(c, opt); !errors.Is(err, limiter.ErrInvalidOption) {
			t.Errorf("New with a bad option = %v, want ErrInvalidOption", err)
		}
	}
	var foreign struct{}
	if err := redisstore.WithPrefix("x")(&foreign); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("WithPrefix on another backend's config = %v, want ErrInvalidOption", err)
	}
	if _, err := redisstore.New(nil); !errors.Is(err, limiter.ErrInvalidOption) {
		t.Errorf("New(nil) = %v, want ErrInvalidOption", err)
	}
}

// TestServerClock: without WithClientClock the scripts act on the server's
// TIME, whatever Request.Now says, and report instants relative to
// Request.Now.
func TestServerClock(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	s, err := redisstore.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l := limiter.Limit{Amount: 2, Multiples: 1, Unit: limiter.Minute}
	m.SetTime(t0)
	ahead := t0.Add(time.Hour) // an application server an hour ahead
	for i, want := range []limiter.State{
		{Allowed: true, Remaining: 1, ResetAt: ahead.Add(time.Minute).UnixNano(), RetryAt: ahead.UnixNano()},
		{Allowed: true, Remaining: 0, ResetAt: ahead.Add(time.Minute).UnixNano(), RetryAt: ahead.UnixNano()},
		{Allowed: false, Remaining: 0, ResetAt: ahead.Add(time.Minute).UnixNano(), RetryAt: ahead.Add(time.Minute).UnixNano()},
	} {
		got, err := s.AcquireFixedWindow(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: ahead}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("hit %d = %+v, want %+v", i, got, want)
		}
	}
	// Another server, an hour behind, sees the same window on the server's
	// clock.
	behind := t0.Add(-time.Hour)
	m.SetTime(t0.Add(59 * time.Second))
	got, err := s.PeekFixedWindow(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: behind})
	want := limiter.State{Allowed: false, Remaining: 0, ResetAt: behind.Add(time.Second).UnixNano(), RetryAt: behind.Add(time.Second).UnixNano()}
	if err != nil || got != want {
		t.Errorf("peek from a server behind = %+v, %v; want %+v", got, err, want)
	}
	m.SetTime(t0.Add(time.Minute))
	got, err = s.AcquireFixedWindow(ctx, limiter.Request{Key: "k", Limit: l, Cost: 1, Now: behind}, false)
	want = limiter.State{Allowed: true, Remaining: 1, ResetAt: behind.Add(time.Minute).UnixNano(), RetryAt: behind.UnixNano()}
	if err != nil || got != want {
		t.Errorf("hit after the server's window ended = %+v, %v; want %+v", got, err, want)
	}
}

// TestTTLOnlyReclaims: every key's TTL is its logical remaining time plus
// the grace, rounded up to a millisecond.
func TestTTLOnlyReclaims(t *testing.T) {
	m, _, s := newMiniredis(t, redisstore.WithPrefix("p:"), redisstore.WithExpiryGrace(5*time.Second))
	ctx := context.Background()
	l := limiter.Limit{Amount: 2, Multiples: 10, Unit: limiter.Second}
	r := limiter.Request{Key: "k", Limit: l, Cost: 1, Now: t0}
	for _, o := range operations(s) {
		if _, err := o.op(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for suffix, want := range map[string]time.Duration{
		":fw": 15 * time.Second,
		":mw": 15 * time.Second,
		":sw": 20*time.Second - 5600*time.Millisecond + 5*time.Second, // two windows from the aligned start, t0 being 5.6s into its window
		":tb": 5*time.Second + 5*time.Second,                          // one of two tokens taken: full again in 5s
	} {
		if ttl := m.TTL("p:{k}" + suffix); ttl < want || ttl > want+time.Millisecond {
			t.Errorf("TTL of %s = %v, want %v", suffix, ttl, want)
		}
	}
}

// TestRing: a Ring spreads buckets over its shards by key; hits, Clear and
// ResetAll (on every shard) work through it.
func TestRing(t *testing.T) {
	m1, m2 := miniredis.RunT(t), miniredis.RunT(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": m1.Addr(), "b": m2.Addr()}})
	defer ring.Close()
	s, err := redisstore.New(ring, redisstore.WithClientClock())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l := limiter.Limit{Amount: 1, Multiples: 1, Unit: limiter.Minute}
	const keys = 40
	for i := range keys {
		r := limiter.Request{Key: fmt.Sprint("client-", i), Limit: l, Cost: 1, Now: t0}
		for j, want := range []bool{true, false} {
			st, err := s.AcquireSlidingWindow(ctx, r)
			if err != nil || st.Allowed != want {
				t.Fatalf("key %d hit %d = %+v, %v; want Allowed %v", i, j, st, err, want)
			}
		}
	}
	if len(m1.Keys()) == 0 || len(m2.Keys()) == 0 || len(m1.Keys())+len(m2.Keys()) != keys {
		t.Fatalf("shards hold %d and %d keys, want %d spread over both", len(m1.Keys()), len(m2.Keys()), keys)
	}
	if err := s.Clear(ctx, "client-0"); err != nil {
		t.Fatal(err)
	}
	n, err := s.ResetAll(ctx)
	if err != nil || n != keys-1 {
		t.Errorf("ResetAll = %d, %v; want %d, nil", n, err, keys-1)
	}
	if len(m1.Keys())+len(m2.Keys()) != 0 {
		t.Errorf("after ResetAll the shards hold %q and %q", m1.Keys(), m2.Keys())
	}

	t.Run("a shard down fails ResetAll", func(t *testing.T) {
		m1, m2 := miniredis.RunT(t), miniredis.RunT(t)
		ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": m1.Addr(), "b": m2.Addr()},
			HeartbeatFrequency: 5 * time.Millisecond, MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
		defer ring.Close()
		s, err := redisstore.New(ring, redisstore.WithClientClock())
		if err != nil {
			t.Fatal(err)
		}
		m2.Close()
		// go-redis's Ring skips a shard once its heartbeats have failed;
		// ResetAll must not then report the reset as done.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := s.ResetAll(ctx)
			if errors.Is(err, redisstore.ErrShardDown) {
				break
			}
			if err == nil {
				t.Fatal("ResetAll with a shard down = nil error: that shard's keys were not removed")
			}
			if time.Now().After(deadline) {
				t.Fatalf("ResetAll with a shard down = %v, want ErrShardDown once the ring marks it down", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// Calls racing Close on an owned client, whose Close also closes the
// connections in use, fail with errors wrapping limiter.ErrClosed: the
// caller learns the storage was closed, not that Redis failed.
func TestCallsRacingCloseFailWithErrClosed(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	s, err := redisstore.New(c, redisstore.WithClientClock(), redisstore.WithOwnedClient())
	if err != nil {
		t.Fatal(err)
	}
	l := limiter.Limit{Amount: 1 << 40, Multiples: 1, Unit: limiter.Hour}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				r := limiter.Request{Key: "k", Limit: l, Cost: 1, Now: t0}
				if _, err := s.AcquireFixedWindow(context.Background(), r, false); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	_ = s.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, limiter.ErrClosed) {
			t.Errorf("call racing Close: %v, want an error wrapping limiter.ErrClosed", err)
		}
	}
}
