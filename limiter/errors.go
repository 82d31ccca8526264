package limiter

import "errors"

// Sentinel errors, comparable with errors.Is. Errors returned by this package
// and by storages wrap one of these where one applies, with context naming the
// operation and the input.
var (
	// ErrInvalidLimit is wrapped by every error about a malformed limit string
	// ([*ParseError]) or an unenforceable Limit value ([*LimitError]).
	ErrInvalidLimit = errors.New("limiter: invalid limit")

	// ErrInvalidCost is returned when a hit's cost is less than 1.
	ErrInvalidCost = errors.New("limiter: cost must be at least 1")

	// ErrInvalidTime is returned when a request's Now lies outside the
	// years 1970 to 2149 that [Request.Now] allows, such as a zero
	// time.Time left unset.
	ErrInvalidTime = errors.New("limiter: request time out of range")

	// ErrUnknownStrategy is returned by [NewStrategy] for a name that is not
	// one of the strategies this package defines.
	ErrUnknownStrategy = errors.New("limiter: unknown strategy")

	// ErrUnsupported is returned when a strategy needs a capability its
	// storage lacks, and by storages for operations they cannot perform.
	ErrUnsupported = errors.New("limiter: unsupported by storage")

	// ErrUnknownScheme is returned by [Open] for a URI whose scheme no
	// backend has registered.
	ErrUnknownScheme = errors.New("limiter: unknown storage scheme")

	// ErrInvalidURI is wrapped by errors about a storage URI that a backend
	// cannot use: a bad host list, an unknown query parameter, a bad value.
	ErrInvalidURI = errors.New("limiter: invalid storage URI")

	// ErrInvalidOption is wrapped by errors about a storage option that a
	// backend does not recognize or whose value is out of range.
	ErrInvalidOption = errors.New("limiter: invalid storage option")

	// ErrClosed is returned by every storage operation after Close.
	ErrClosed = errors.New("limiter: storage closed")

	// ErrExceedsLimit is returned by [Wait] for a cost above the limit's
	// amount, which no wait would let through.
	ErrExceedsLimit = errors.New("limiter: cost exceeds the limit's amount")
)
