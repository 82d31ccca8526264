package chilimit

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/limits-go/limits/limiter"
)

// An Option configures a [Limiter] built by [New]. Options are applied in
// order; an option given explicitly always wins over the same setting read
// from the environment ([FromEnv], [WithConfigLookup]), whatever the order.
type Option func(*config) error

// A DeductFunc decides, once the response status is known, whether a
// request counts against a limit. It receives the request and the status
// code: the handler's (200 when it wrote nothing), 500 when the handler
// panicked, or the rejection's (429, or the error handler's) when another
// limit stopped the request, as Flask-Limiter's after_request sees it. It is
// not called for a request whose handler aborted with
// [http.ErrAbortHandler].
type DeductFunc func(r *http.Request, status int) bool

// An ErrorHandler writes the response for a rejected request. err is a
// [*RateLimitError] (errors.As) for a breached limit, or wraps [ErrStorage]
// when the storage failed. It replaces the default response entirely; the
// rate-limit headers, if enabled, are already set on w.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// A BreachFunc is called for every breached limit, before the 429 response
// is written (and in dry-run mode, where nothing is rejected).
type BreachFunc func(r *http.Request, err *RateLimitError)

// HeaderNames are the names of the rate-limit response headers. An empty
// field keeps the default.
type HeaderNames struct {
	Limit      string // default X-RateLimit-Limit
	Remaining  string // default X-RateLimit-Remaining
	Reset      string // default X-RateLimit-Reset
	RetryAfter string // default Retry-After
}

// Defaults of the options below.
const (
	// DefaultStorageURI is the storage used unless [WithStorageURI] or
	// [WithStorage] says otherwise: the in-process memory storage.
	DefaultStorageURI = "memory://"
	// DefaultStorageTimeout bounds each request's storage calls unless
	// [WithStorageTimeout] says otherwise.
	DefaultStorageTimeout = 500 * time.Millisecond
	// DefaultLogInterval is how often a repeated problem (storage errors,
	// empty keys, malformed dynamic limits) is logged unless
	// [WithLogInterval] says otherwise.
	DefaultLogInterval = time.Minute
	// DefaultHealthCheckMin and DefaultHealthCheckMax bound the back-off of
	// the health checks that decide when a failed storage is back.
	DefaultHealthCheckMin = time.Second
	DefaultHealthCheckMax = 30 * time.Second
)

// Names of the settings, used to let explicit options win over the
// environment.
const (
	setKeyFunc = iota
	setDefaults
	setDefaultsPerMethod
	setApplication
	setStrategy
	setStorage
	setStorageOptions
	setHeaders
	setHeaderLimit
	setHeaderRemaining
	setHeaderReset
	setHeaderRetryAfter
	setRetryAfterDate
	setSwallow
	setFallbackLimits
	setFallbackEnabled
	setKeyPrefix
	setEnabled
	setMeta
	setCount
)

type config struct {
	set [setCount]bool
	// envKey names the configuration key a setting was read from, so an
	// error in it names what the user wrote.
	envKey [setCount]string
	// deprecatedGlobal: the default limits came from RATELIMIT_GLOBAL,
	// which New warns about.
	deprecatedGlobal bool

	keyFunc           func(*http.Request) string
	defaults          []string
	defaultFuncs      []func(*http.Request) string
	defaultsPerMethod bool
	defaultsExempt    func(*http.Request) bool
	defaultsDeduct    DeductFunc
	defaultsCost      int64
	defaultsCostFunc  func(*http.Request) int64
	application       []string
	applicationFuncs  []func(*http.Request) string
	strategy          string
	storageURI        string
	storage           limiter.Storage
	storageOpts       []limiter.StorageOption
	storageTimeout    time.Duration
	headers           bool
	headerNames       HeaderNames
	retryAfterDate    bool
	ietf              bool
	swallow           bool
	fallbackLimits    []string
	fallbackFuncs     []func(*http.Request) string
	fallbackEnabled   bool
	keyPrefix         string
	enabled           bool
	logger            *slog.Logger
	clock             limiter.Clock
	errorHandler      ErrorHandler
	filters           []func(*http.Request) bool
	dryRun            bool
	metaLimits        []string
	onBreach          BreachFunc
	logInterval       time.Duration
	healthMin         time.Duration
	healthMax         time.Duration
	lookup            func(string) (string, bool)
	overLimitCache    bool
}

func defaultConfig() config {
	return config{
		keyFunc:        RemoteAddr,
		defaultsCost:   1,
		strategy:       limiter.StrategyFixedWindow,
		storageURI:     DefaultStorageURI,
		storageTimeout: DefaultStorageTimeout,
		headerNames: HeaderNames{
			Limit: "X-RateLimit-Limit", Remaining: "X-RateLimit-Remaining",
			Reset: "X-RateLimit-Reset", RetryAfter: "Retry-After",
		},
		enabled:     true,
		clock:       limiter.SystemClock,
		logInterval: DefaultLogInterval,
		healthMin:   DefaultHealthCheckMin,
		healthMax:   DefaultHealthCheckMax,
	}
}

// invalid returns an error wrapping ErrInvalidConfig that says, after it,
// what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// WithKeyFunc sets the function that says which client a request comes
// from. The default is [RemoteAddr], the TCP peer address: forwarded
// headers are not trusted unless you say so with [WithTrustedProxies],
// [ForwardedFor], [Forwarded] or [ClientIPHeader].
//
// For default, application and meta limits the key function runs before
// chi routes, in lim.Handler, and still sees the route's URL parameters and
// pattern (Handler looks the route up ahead); once per request context, so
// a route limit behind middleware that changed the context (say, put the
// user in it) gets its own call. A key function returning "" puts the
// request in one bucket shared by every request whose key is empty, and the
// limiter logs a warning (at most once per log interval): an empty key is
// usually a bug. A key is written into storage keys and into the
// limiter's log lines (breaches in dry-run mode, storage errors): a key
// function that keys by a secret, such as an API key, should return a
// digest of it.
func WithKeyFunc(fn func(r *http.Request) string) Option {
	return func(c *config) error {
		if fn == nil {
			return invalid("WithKeyFunc(nil)")
		}
		c.keyFunc, c.set[setKeyFunc] = fn, true
		return nil
	}
}

// WithTrustedProxies makes the key the client address as seen by the
// outermost of hops trusted reverse proxies, from X-Forwarded-For (see
// [ForwardedFor]). Only use it when every request passes through exactly
// that many proxies you control: otherwise clients can choose their key.
// The default is no trusted proxies.
func WithTrustedProxies(hops int) Option {
	return func(c *config) error {
		if hops < 1 {
			return invalid("WithTrustedProxies(%d): want at least 1 hop", hops)
		}
		c.keyFunc, c.set[setKeyFunc] = ForwardedFor(hops), true
		return nil
	}
}

// WithDefaultLimits sets the limits every route gets unless it declares
// its own (see [OverrideDefaults]), as Flask-Limiter's default_limits and
// RATELIMIT_DEFAULT. Each string may hold several limits ("10/second;
// 100/minute"). Each route pattern has its own buckets. A malformed string
// makes [New] fail. The default is no default limits.
func WithDefaultLimits(limits ...string) Option {
	return func(c *config) error {
		c.defaults, c.set[setDefaults] = append([]string(nil), limits...), true
		return nil
	}
}

// WithDefaultLimitFuncs adds default limits read per request from fns, for
// limits kept in configuration or a database. A string that does not parse
// is logged at ERROR and ignored for that request. The default is none.
// Like [WithDefaultLimits], it sets the default limits, so RATELIMIT_DEFAULT
// is not read: in Flask-Limiter too, default_limits given to the
// constructor, strings or callables, win over the configuration.
func WithDefaultLimitFuncs(fns ...func(r *http.Request) string) Option {
	return func(c *config) error {
		if err := noNilFunc("WithDefaultLimitFuncs", fns); err != nil {
			return err
		}
		c.defaultFuncs = append(c.defaultFuncs, fns...)
		c.set[setDefaults] = true
		return nil
	}
}

// noNilFunc returns an error naming option and the first nil in fns.
func noNilFunc(option string, fns []func(*http.Request) string) error {
	for i, fn := range fns {
		if fn == nil {
			return invalid("%s: func %d is nil", option, i)
		}
	}
	return nil
}

// WithDefaultLimitsPerMethod counts default limits separately for each
// HTTP method of a route (RATELIMIT_DEFAULTS_PER_METHOD). The default is
// false: all methods of a route share its default buckets. A HEAD that
// middleware.GetHead serves with the GET handler counts as the GET.
func WithDefaultLimitsPerMethod(perMethod bool) Option {
	return func(c *config) error {
		c.defaultsPerMethod, c.set[setDefaultsPerMethod] = perMethod, true
		return nil
	}
}

// WithDefaultLimitsExemptWhen skips the default limits for requests where
// fn returns true. The default is never.
func WithDefaultLimitsExemptWhen(fn func(r *http.Request) bool) Option {
	return func(c *config) error {
		c.defaultsExempt = fn
		return nil
	}
}

// WithDefaultLimitsDeductWhen makes the default limits count a request only
// when fn, called after the handler with the response status, returns
// true. Requests are still tested before the handler and rejected if a
// default limit is already exhausted. The default is to count every request.
func WithDefaultLimitsDeductWhen(fn DeductFunc) Option {
	return func(c *config) error {
		c.defaultsDeduct = fn
		return nil
	}
}

// WithDefaultLimitsCost sets how many units each request takes from the
// default limits. The default is 1.
func WithDefaultLimitsCost(cost int64) Option {
	return func(c *config) error {
		if cost < 1 {
			return invalid("WithDefaultLimitsCost(%d): want at least 1", cost)
		}
		c.defaultsCost = cost
		return nil
	}
}

// WithDefaultLimitsCostFunc computes the cost of each request against the
// default limits. The default is a constant 1 (see [WithDefaultLimitsCost]).
func WithDefaultLimitsCostFunc(fn func(r *http.Request) int64) Option {
	return func(c *config) error {
		c.defaultsCostFunc = fn
		return nil
	}
}

// WithApplicationLimits sets limits shared by every route together (one set
// of buckets for the whole application, per client), as
// RATELIMIT_APPLICATION. A malformed string makes [New] fail. The default is
// none.
func WithApplicationLimits(limits ...string) Option {
	return func(c *config) error {
		c.application, c.set[setApplication] = append([]string(nil), limits...), true
		return nil
	}
}

// WithApplicationLimitFuncs adds application limits read per request from
// fns, as Flask-Limiter's application_limits accepts callables. A string
// that does not parse is logged at ERROR and ignored for that request. The
// default is none. Like [WithApplicationLimits], it sets the application
// limits, so RATELIMIT_APPLICATION is not read.
func WithApplicationLimitFuncs(fns ...func(r *http.Request) string) Option {
	return func(c *config) error {
		if err := noNilFunc("WithApplicationLimitFuncs", fns); err != nil {
			return err
		}
		c.applicationFuncs = append(c.applicationFuncs, fns...)
		c.set[setApplication] = true
		return nil
	}
}

// WithStrategy selects the rate-limiting strategy by name: fixed-window
// (the default), fixed-window-elastic-expiry, moving-window,
// sliding-window-counter or token-bucket.
func WithStrategy(name string) Option {
	return func(c *config) error {
		c.strategy, c.set[setStrategy] = name, true
		return nil
	}
}

// WithStorageURI selects the storage by URI, such as "memory://" (the
// default) or "redis://localhost:6379/0"; the backend package must be
// imported so it registers its scheme. The limiter owns a storage opened
// this way and closes it on [Limiter.Close].
func WithStorageURI(uri string) Option {
	return func(c *config) error {
		c.storageURI, c.storage, c.set[setStorage] = uri, nil, true
		return nil
	}
}

// WithStorage uses s as the storage. The caller keeps ownership:
// [Limiter.Close] does not close it. The default is a memory storage opened
// from [DefaultStorageURI].
func WithStorage(s limiter.Storage) Option {
	return func(c *config) error {
		if s == nil {
			return invalid("WithStorage(nil)")
		}
		c.storage, c.storageURI, c.set[setStorage] = s, "", true
		return nil
	}
}

// WithStorageOptions passes options to the backend when the storage is
// opened by URI (Flask-Limiter's storage_options). Given, even empty, it
// wins over RATELIMIT_STORAGE_OPTIONS. The default is none.
func WithStorageOptions(opts ...limiter.StorageOption) Option {
	return func(c *config) error {
		c.storageOpts = append(c.storageOpts, opts...)
		c.set[setStorageOptions] = true
		return nil
	}
}

// WithStorageTimeout bounds each request's storage calls, so a hung storage
// adds at most d of latency before it is treated as failed: the fallback
// then answers the request's later steps, or, with [WithSwallowErrors],
// they skip the storage. It does not apply to the in-process memory
// storage, which never waits on I/O. The default is
// [DefaultStorageTimeout]; 0 means no bound.
func WithStorageTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalid("WithStorageTimeout(%v): negative", d)
		}
		c.storageTimeout = d
		return nil
	}
}

// WithHeaders turns the rate-limit response headers on or off
// (RATELIMIT_HEADERS_ENABLED). The default is off, as in Flask-Limiter.
func WithHeaders(enabled bool) Option {
	return func(c *config) error {
		c.headers, c.set[setHeaders] = enabled, true
		return nil
	}
}

// WithHeaderNames renames the rate-limit headers; empty fields keep their
// defaults (X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset,
// Retry-After).
func WithHeaderNames(names HeaderNames) Option {
	return func(c *config) error {
		for _, n := range []struct {
			name string
			dst  *string
			set  int
		}{
			{names.Limit, &c.headerNames.Limit, setHeaderLimit},
			{names.Remaining, &c.headerNames.Remaining, setHeaderRemaining},
			{names.Reset, &c.headerNames.Reset, setHeaderReset},
			{names.RetryAfter, &c.headerNames.RetryAfter, setHeaderRetryAfter},
		} {
			if n.name == "" {
				continue
			}
			if !validHeaderName(n.name) {
				return invalid("WithHeaderNames: bad header name %q (%s)", n.name, headerNameRule)
			}
			*n.dst, c.set[n.set] = textproto.CanonicalMIMEHeaderKey(n.name), true
		}
		return nil
	}
}

// WithRetryAfterHTTPDate renders Retry-After as an HTTP date instead of a
// number of seconds (RATELIMIT_HEADER_RETRY_AFTER_VALUE=http-date). The
// default is delta-seconds.
func WithRetryAfterHTTPDate(httpDate bool) Option {
	return func(c *config) error {
		c.retryAfterDate, c.set[setRetryAfterDate] = httpDate, true
		return nil
	}
}

// WithRetryAfterFormat sets the Retry-After format by its Flask-Limiter
// name: "delta-seconds" (the default) or "http-date".
func WithRetryAfterFormat(format string) Option {
	return func(c *config) error {
		date, err := parseRetryAfterFormat(format)
		if err != nil {
			return err
		}
		c.retryAfterDate, c.set[setRetryAfterDate] = date, true
		return nil
	}
}

func parseRetryAfterFormat(format string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "delta-seconds", "":
		return false, nil
	case "http-date":
		return true, nil
	}
	return false, invalid("retry-after format %q (want delta-seconds or http-date)", format)
}

// WithIETFHeaders adds the RateLimit-Policy and RateLimit structured-field
// headers of draft-ietf-httpapi-ratelimit-headers-10 next to the
// X-RateLimit ones (it needs [WithHeaders](true)). The default is off.
//
// RateLimit-Policy lists every limit the request met, on a 429 too: the
// limits a breach left unchecked (those after it, by window, in the same
// check) are listed as on a 200. Limits of a later step, which never ran,
// are missing: a route's own limits when an application or meta limit
// rejects the request in Handler, and the application and default limits
// when a meta limit does.
func WithIETFHeaders(enabled bool) Option {
	return func(c *config) error {
		c.ietf = enabled
		return nil
	}
}

// WithSwallowErrors lets requests through when the storage fails, logging
// the error, instead of answering 500 (RATELIMIT_SWALLOW_ERRORS). After a
// storage call of a request timed out, its later steps skip the storage
// (the over-limit cache still rejects), so a hung storage costs one
// timeout. A request whose own deadline passed is answered 504 all the
// same (see [ErrRequestDeadline]). The default is false.
func WithSwallowErrors(swallow bool) Option {
	return func(c *config) error {
		c.swallow, c.set[setSwallow] = swallow, true
		return nil
	}
}

// WithInMemoryFallback switches to an in-memory storage with these limits
// (instead of every other limit) while the configured storage is failing
// (RATELIMIT_IN_MEMORY_FALLBACK). The request whose storage call failed is
// counted in the in-memory storage under the limits it had; the fallback
// limits apply from the next request on. Health checks with back-off switch
// back when it recovers. A malformed string makes [New] fail. The default
// is no fallback.
//
// Like default limits, the fallback limits count each route apart and key
// requests with the limiter's key function ([WithKeyFunc]): a route limit's
// own [KeyFunc] (an API key, a user) is not used while they apply, so
// clients it tells apart share one bucket per limiter key (per IP address,
// by default) until the storage recovers.
func WithInMemoryFallback(limits ...string) Option {
	return func(c *config) error {
		c.fallbackLimits, c.set[setFallbackLimits] = append([]string(nil), limits...), true
		return nil
	}
}

// WithInMemoryFallbackFuncs adds in-memory fallback limits read per request
// from fns, as Flask-Limiter's in_memory_fallback accepts callables; see
// [WithInMemoryFallback]. A string that does not parse is logged at ERROR
// and ignored for that request. The default is none. Like
// WithInMemoryFallback, it sets the fallback limits, so
// RATELIMIT_IN_MEMORY_FALLBACK is not read.
func WithInMemoryFallbackFuncs(fns ...func(r *http.Request) string) Option {
	return func(c *config) error {
		if err := noNilFunc("WithInMemoryFallbackFuncs", fns); err != nil {
			return err
		}
		c.fallbackFuncs = append(c.fallbackFuncs, fns...)
		c.set[setFallbackLimits] = true
		return nil
	}
}

// WithInMemoryFallbackEnabled switches to an in-memory storage, keeping all
// the configured limits, while the configured storage is failing
// (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED). Limits given to
// [WithInMemoryFallback] take precedence. The default is false.
func WithInMemoryFallbackEnabled(enabled bool) Option {
	return func(c *config) error {
		c.fallbackEnabled, c.set[setFallbackEnabled] = enabled, true
		return nil
	}
}

// WithHealthCheckBackoff sets the interval between health checks of a
// failed storage: min after the failure, doubling up to max. A storage
// that fails again less than max after it recovered (one that answers
// health checks but fails hits, as Redis out of memory does) resumes the
// back-off where it left off rather than at min, so it is not re-entered at
// every check. The defaults are [DefaultHealthCheckMin] and
// [DefaultHealthCheckMax].
func WithHealthCheckBackoff(min, max time.Duration) Option {
	return func(c *config) error {
		if min <= 0 || max < min {
			return invalid("WithHealthCheckBackoff(%v, %v): want 0 < min <= max", min, max)
		}
		c.healthMin, c.healthMax = min, max
		return nil
	}
}

// WithKeyPrefix prefixes every storage key, to keep several applications
// apart in one storage (RATELIMIT_KEY_PREFIX). The default is "".
// [Limiter.Reset] clears the whole storage all the same, other
// applications' keys included; applications that reset their limits
// need a storage namespace each (the Redis storage's prefix parameter in
// the storage URI), not only a key prefix.
func WithKeyPrefix(prefix string) Option {
	return func(c *config) error {
		c.keyPrefix, c.set[setKeyPrefix] = prefix, true
		return nil
	}
}

// WithEnabled is the kill switch (RATELIMIT_ENABLED): false lets every
// request through unlimited and unmeasured. The default is true.
func WithEnabled(enabled bool) Option {
	return func(c *config) error {
		c.enabled, c.set[setEnabled] = enabled, true
		return nil
	}
}

// WithLogger sets the logger for configuration and storage problems. The
// default is [slog.Default]. A malformed spec given to the package-level
// [Limit] or [SharedLimit] is logged through slog.Default whatever this
// says; [Limiter.Limit] and [Limiter.SharedLimit] log through it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("WithLogger(nil)")
		}
		c.logger = l
		return nil
	}
}

// WithLogInterval sets how often a repeated problem, such as a failing
// storage, an empty key or a malformed dynamic limit, is logged. The
// default is [DefaultLogInterval].
func WithLogInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalid("WithLogInterval(%v): negative", d)
		}
		c.logInterval = d
		return nil
	}
}

// WithClock sets the clock the limiter reads for every request. The default
// is [limiter.SystemClock]; tests pass a [limiter.ManualClock]. A memory
// storage the limiter opens from its storage URI (memory://, the default)
// and the in-memory fallback judge expiry by it too; give a storage you
// build yourself the same clock (memory.WithClock).
func WithClock(clock limiter.Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return invalid("WithClock(nil)")
		}
		c.clock = clock
		return nil
	}
}

// WithErrorHandler replaces the response written for rejected requests and
// storage failures. The default writes 429 with the breached limit's
// message as a text/plain body, 500 for a storage failure, or 504 when the
// request's own deadline passed before its limits were checked (see
// [DefaultErrorHandler]).
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *config) error {
		c.errorHandler = h
		return nil
	}
}

// WithRequestFilter adds a filter: a request for which any filter returns
// true is not rate limited at all (Flask-Limiter's request_filter), which
// makes allow lists by header, address or anything else. The default is no
// filters.
func WithRequestFilter(filters ...func(r *http.Request) bool) Option {
	return func(c *config) error {
		for i, f := range filters {
			if f == nil {
				return invalid("WithRequestFilter: filter %d is nil", i)
			}
		}
		c.filters = append(c.filters, filters...)
		return nil
	}
}

// WithRequestFilters is [WithRequestFilter] under its plural name.
func WithRequestFilters(filters ...func(r *http.Request) bool) Option {
	return WithRequestFilter(filters...)
}

// WithDryRun counts and logs the requests that would be rejected, and calls
// the on-breach callbacks, but lets them through. See
// [Limiter.DryRunRejections]. The default is false.
func WithDryRun(dryRun bool) Option {
	return func(c *config) error {
		c.dryRun = dryRun
		return nil
	}
}

// WithMetaLimits limits how often a client may breach limits: each
// rejection counts one hit on the meta limits (keyed by the limiter's key
// function), and a client over a meta limit is rejected on every route until
// it resets. A malformed string makes [New] fail. The default is none.
func WithMetaLimits(limits ...string) Option {
	return func(c *config) error {
		c.metaLimits, c.set[setMeta] = append([]string(nil), limits...), true
		return nil
	}
}

// WithOnBreach sets a function called for every breached limit. Route
// limits may set their own with [OnBreach]. The default is none.
func WithOnBreach(fn BreachFunc) Option {
	return func(c *config) error {
		c.onBreach = fn
		return nil
	}
}

// WithOverLimitCache keeps, in process, the keys whose last hit was
// rejected until they can be allowed again, and rejects their requests
// without asking the storage, so a client hammering a limit costs no
// storage round trips. Answers stay exact for every strategy but
// fixed-window-elastic-expiry, where rejected hits must reach the storage
// to extend the window, so the cache is not used with it. A limit cleared
// by another process is seen here only once the cached retry instant has
// passed ([Limiter.Reset] clears the cache). With [WithMetaLimits], each
// rejection still tests the meta limits and counts the breach against
// them, in the storage. The default is off.
func WithOverLimitCache(enabled bool) Option {
	return func(c *config) error {
		c.overLimitCache = enabled
		return nil
	}
}

// headerNameRule says what validHeaderName accepts, for error messages.
const headerNameRule = "want letters, digits and !#$%&'*+-.^_`|~"

// validHeaderName reports whether name is an HTTP field name (an RFC 9110
// token). net/http drops fields with other names from the response without
// a word, so they are refused when the limiter is built.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// describe names a setting in an error: what it is, and the configuration
// key it came from when it was read from one.
func (c *config) describe(set int, what string) string {
	if k := c.envKey[set]; k != "" {
		return what + " (" + k + ")"
	}
	return what
}
