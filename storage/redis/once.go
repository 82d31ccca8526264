package redis

import (
	"context"
	"sync"

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

// sources maps each script made by newScript to its Lua source, for the
// EVAL that follows a NOSCRIPT reply.
var sources sync.Map // *redis.Script → string

// newScript is redis.NewScript, remembering the source for runScript.
func newScript(src string) *redis.Script {
	s := redis.NewScript(src)
	sources.Store(s, src)
	return s
}

// runScript is [redis.Script.Run] (EVALSHA, then EVAL when the server does
// not have the script, so nothing ran) with each command sent at most once.
func runScript(ctx context.Context, c redis.UniversalClient, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := eval(ctx, c, "evalsha", script.Hash(), keys, args)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		src, _ := sources.Load(script)
		cmd = eval(ctx, c, "eval", src.(string), keys, args)
	}
	return cmd
}

func eval(ctx context.Context, c redis.UniversalClient, verb, script string, keys []string, args []any) *redis.Cmd {
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, verb, script, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	all = append(all, args...)
	cmd := redis.NewCmd(ctx, all...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	_ = c.Process(ctx, onceCmd{cmd})
	return cmd
}
