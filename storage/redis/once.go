package redis

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// onceCmd is a script call that go-redis must not send a second time. A
// call whose reply was lost (a connection cut, a read timeout) may well
// have run on the server, and a retry would run it again and count the hit
// twice: go-redis retries such calls on a client with MaxRetries above
// zero, and a ClusterClient retries them within its MaxRedirects whatever
// MaxRetries says. Marked NoRetry, the call is reported as failed instead.
// go-redis still retries dialing, and still follows MOVED and ASK.
type onceCmd struct{ *redis.Cmd }

// NoRetry implements redis.Cmder: the command is sent at most once.
func (onceCmd) NoRetry() bool { return true }

// A script is a Lua script with its SHA1, both boxed once for the
// arguments of every call.
type script struct {
	hash, src any
}

func newScript(src string) *script {
	return &script{hash: redis.NewScript(src).Hash(), src: src}
}

// scriptArgs returns the start of a call's arguments: the verb and the
// script (filled in by run), one key, and room for n more arguments.
func scriptArgs(key string, n int) []any {
	args := make([]any, 4, 4+n)
	args[2], args[3] = 1, key
	return args
}

// run is [redis.Script.Run] (EVALSHA, then EVAL when the server does not
// have the script, so nothing ran) with each command sent at most once.
// args holds the verb, the script, the number of keys, the keys and the
// script's arguments, the first two set here.
func (s *script) run(ctx context.Context, c redis.UniversalClient, args []any) *redis.Cmd {
	args[0], args[1] = "evalsha", s.hash
	cmd := eval(ctx, c, args)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		args[0], args[1] = "eval", s.src
		cmd = eval(ctx, c, args)
	}
	return cmd
}

func eval(ctx context.Context, c redis.UniversalClient, args []any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	_ = c.Process(ctx, onceCmd{cmd})
	return cmd
}

// int64s appends the integers of a script's reply to dst; ok is false if
// an element is not an integer.
func int64s(dst []int64, reply []any) (_ []int64, ok bool) {
	for _, v := range reply {
		n, ok := v.(int64)
		if !ok {
			return dst, false
		}
		dst = append(dst, n)
	}
	return dst, true
}
