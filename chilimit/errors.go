package chilimit

import (
	"errors"
	"time"

	"github.com/limits-go/limits/limiter"
)

// Sentinel errors, comparable with errors.Is.
var (
	// ErrRateLimited is wrapped by every [*RateLimitError]: a request was
	// rejected because a limit was breached.
	ErrRateLimited = errors.New("chilimit: rate limit exceeded")

	// ErrInvalidConfig is wrapped by the errors [New] returns for a bad
	// option or environment value.
	ErrInvalidConfig = errors.New("chilimit: invalid configuration")

	// ErrStorage is wrapped by the errors passed to the error handler when
	// the storage fails and neither a fallback nor swallowing errors lets the
	// request through. The storage's own error is wrapped too.
	ErrStorage = errors.New("chilimit: storage failure")

	// ErrRequestDeadline is wrapped, with the storage call's error (itself
	// wrapping context.DeadlineExceeded), by the error passed to the error
	// handler when the request's own deadline (chi's middleware.Timeout,
	// say) passed before all its limits were checked. The request does not
	// reach the handler; limits checked before the deadline may have
	// counted it. [DefaultErrorHandler] answers 504 Gateway Timeout, as
	// middleware.Timeout does. It is not an [ErrStorage]: the storage did
	// not fail.
	ErrRequestDeadline = errors.New("chilimit: the request's deadline passed before its limits were checked")
)

// A RateLimitError describes the breached limit behind a 429 response. The
// error handler (see [WithErrorHandler]) receives it, and errors.As finds it:
//
//	var rle *chilimit.RateLimitError
//	if errors.As(err, &rle) { ... rle.Limit, rle.Result.RetryAfter ... }
type RateLimitError struct {
	// Limit is the breached limit.
	Limit limiter.Limit
	// Result is the strategy's answer for it: what is left (less than the
	// request's cost, 0 for a cost of 1), reset time and retry-after.
	Result limiter.Result
	// Message is the text of the default 429 body: the limit's custom error
	// message if it has one, else the limit's text such as "1 per 1 day".
	Message string
	// Scope names what was limited: the route pattern for default and route
	// limits, the scope name for shared limits, "" for application limits
	// and meta limits.
	Scope string
	// Kind is what declared the limit: "default", "application", "route",
	// "shared", "fallback" or "meta".
	Kind string
	// Key is the client's key as the key function returned it.
	Key string
	// DryRun reports that the limiter runs in dry-run mode: the request was
	// let through.
	DryRun bool
}

// Error returns "chilimit: rate limit exceeded: " followed by the message.
func (e *RateLimitError) Error() string { return ErrRateLimited.Error() + ": " + e.Message }

// Unwrap returns [ErrRateLimited].
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// RetryAfter is how long until the breached limit has room again.
func (e *RateLimitError) RetryAfter() time.Duration { return e.Result.RetryAfter }
