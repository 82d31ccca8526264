// Package chilimit is rate-limiting middleware for the chi router with the
// semantics of Flask-Limiter: default, application, route, shared and
// sub-router limits, exemptions, request filters, headers, custom 429
// responses, storage fallback and configuration from the environment.
//
// # Quick start
//
//	lim, err := chilimit.New(
//		chilimit.WithKeyFunc(chilimit.RemoteAddr),
//		chilimit.WithDefaultLimits("200 per day", "50 per hour"),
//	)
//	r := chi.NewRouter()
//	r.Use(lim.Handler)
//	r.With(chilimit.Limit("1 per day")).Get("/slow", slow)                                  // replaces defaults
//	r.With(chilimit.Limit("1/second", chilimit.OverrideDefaults(false))).Get("/medium", medium) // adds to defaults
//	r.Get("/fast", fast)                                                                     // defaults only
//	r.With(chilimit.Exempt).Get("/ping", ping)                                               // no limits
//
// Limit strings follow the grammar of [limiter.ParseMany]: "10 per hour",
// "10/hour;100/day", "100/day, 500/7days". A malformed one makes [New]
// fail, except a route limit's: it is logged and its routes fall back to
// the defaults, as in Flask-Limiter, unless [Limiter.Validate] catches it
// before the server starts.
//
// # Kinds of limits
//
// Default limits ([WithDefaultLimits], or read per request with
// [WithDefaultLimitFuncs]) apply to every route that declares no limit of
// its own; each route pattern has its own buckets. Application limits
// ([WithApplicationLimits], [WithApplicationLimitFuncs]) are one set of
// buckets for the whole application. Route limits ([Limit], [LimitFunc], [Limiter.Limit]) are
// attached with r.With, with Use on a sub-router, with
// r.With(...).Mount / Route / Group for a whole sub-router (Flask's
// blueprints), or by wrapping a handler or a sub-router directly
// (r.Mount("/api", chilimit.Limit("10/second")(api))); they replace the
// defaults unless [OverrideDefaults](false).
// Shared limits ([SharedLimit], [Scope], [ScopeFunc]) count several routes
// in one set of buckets. Meta limits ([WithMetaLimits]) limit how often a
// client may be rejected.
//
// The limits a request meets are checked in steps, each smallest window
// first: [Limiter.Handler] checks the application limits (and the
// defaults, on routes without limits of their own) before the request
// reaches the route, as Flask-Limiter's before_request does; a route's own
// limits are checked where they are declared, markers with no other
// middleware between them together, and the route's last marker adds the
// defaults unless a route limit replaced them. So a limit declared before
// an authentication middleware counts the requests it rejects, against
// its own limits and, if it is the route's last, the defaults; declared
// after, it counts neither, and its key function sees what that
// middleware put in the context (the user). The first
// breached limit rejects the request with 429 and is reported in the body
// and headers. Limits checked before it have counted the request.
// The route identity is chi's route pattern ("/users/{id}"). 404 and 405
// responses of the router (no route matched the path or the method) are
// never counted; a route whose own handler answers 404 (http.NotFound, a
// mounted http.FileServer's missing file) counts like any request to it.
// One exception: a router made with
// chi.NewRouter().With(...), mounted on a router with a NotFound or
// MethodNotAllowed handler of its own, inherits that handler behind its
// With middlewares (chi does so), and a limit among them counts those 404s
// or 405s. Every callback (key functions, request
// filters, exempt-when conditions, callable limits and costs) sees the
// route as after routing, chi.URLParam and RoutePattern included, even
// those Handler runs before chi routes: Handler then looks the route up
// ahead into the request's chi route context, and undoes it before chi
// routes (a configuration without callbacks of its own skips this). The
// error handler and on-breach callbacks get, on a rejection, a copy of the
// request with the route looked up. A limit in a mounted router's stack
// runs before that router routes: its callbacks see the mount's pattern
// ("/api/*"), not the route's parameters.
//
// # How the root middleware knows a route's limits
//
// [Limiter.Handler] runs before chi routes the request, so it looks ahead:
// chi's Routes.Find gives the pattern the request will match, and an index
// of the router's middleware stacks (built on the first request, rebuilt
// when unknown routes show up) says which limits and exemptions that route
// carries. Register routes before serving, as chi requires: a path already
// looked up keeps the route it found (/users/{id} for /users/me) when a
// route registered later would match it better, until the next rebuild.
// Markers made by this package register themselves when created; the index
// invokes only those, with a probe handler, to read their settings. Route
// limits themselves run where they are declared, so their key functions see
// URL parameters and what earlier middleware put in the context. A marker
// installed before Handler runs before Handler has looked the route up: it
// limits on its own and is logged as misplaced. Markers find the request's
// state through the ResponseWriter (wrappers that implement Unwrap are seen
// through) or, behind a wrapper that hides it, through the chi route
// context.
//
// A sub-router mounted behind a plain wrapper (r.Mount("/admin",
// middleware.BasicAuth(realm, creds)(admin)), http.StripPrefix) hides its
// routes from the look-ahead: Handler sees one route, the mount
// ("/admin/*"), so the default limits count the whole mount as one route
// and exemptions inside it are not seen. Limits declared on its routes
// (r.With) still count per route; those in its own stack (Use) run before
// it routes, and count the mount as one route. Mount the sub-router itself and put the wrapper in its stack
// (admin.Use(middleware.BasicAuth(realm, creds))) to keep every route
// apart.
//
// Several Limiters may run on one router, each with its own storage, keys
// and defaults. A marker made by [Limiter.Limit] cooperates with that
// limiter's Handler wherever the others' sit; one made by [Limit] belongs
// to the Handler whose route index counts it, the nearest before it that
// the index can see (not one wrapped in a closure), and the others count
// their defaults as on a route without markers.
//
// Install Handler on the root router with r.Use, after any path-rewriting
// middleware (middleware.StripSlashes, middleware.CleanPath,
// middleware.URLFormat), or wrap the router itself, lim.Handler(r), which
// is Handler first in the router's stack. A path
// rewritten after Handler, or on a sub-router, is not the path Handler
// looked up: the request counts as what that path would be (for a 404,
// only the route's own limits count, on their own), and the index logs a
// warning. HEAD requests count against GET
// routes when middleware.GetHead is installed, as GETs (per-method
// buckets and Methods("GET") included).
//
// # Exemptions and filters
//
// [Exempt] marks a route or a sub-router (and the routers nested in it) as
// exempt from the default, application and meta limits and from the limits
// of enclosing routers; [ExemptFrom] narrows what is exempted and whether
// the exemption reaches nested sub-routers. Limits declared at or below an
// exemption still apply. Request filters ([WithRequestFilter]) skip all
// limiting for the requests they match, for allow lists.
//
// # Keys
//
// The default key is the TCP peer address ([RemoteAddr]); forwarded
// headers, which clients can forge, are read only through an explicit
// number of trusted proxies ([WithTrustedProxies], [ForwardedFor]). A key
// function returning "" puts those requests in one shared bucket and logs a
// warning once per log interval. A route limit with a key function of its
// own ([KeyFunc], another function value than the limiter's) counts in
// buckets apart from the limiter's key: a per-user limit and a per-address
// limit never share one, even when a user name reads as an address. Limits
// with key functions of their own share buckets when their keys are equal;
// prefix keys from different spaces ("user:", "apikey:").
//
// # Responses and headers
//
// A rejected request gets 429 with the breached limit's text ("1 per 1
// day") or its custom message ([ErrorMessage], [ErrorMessageFunc]) as a
// text/plain body; [WithErrorHandler] replaces the response, and errors.As
// gives it the [*RateLimitError]. With [WithHeaders], responses carry
// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset for the
// breached limit, else the one with the smallest window (the first
// checked, among limits of equal windows); rejections also
// carry Retry-After, the time until the breached limit has room again (not
// the window length), in seconds or as an HTTP date. [WithIETFHeaders] adds
// the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers-10.
//
// # Storage and strategy
//
// Counters live in the in-process memory storage unless [WithStorageURI]
// names another, whose package must be imported so it registers its
// schemes, or [WithStorage] passes one built by hand. Several application
// servers share limits through Redis or memcached:
//
//	import _ "github.com/limits-go/limits/storage/redis"
//
//	lim, err := chilimit.New(
//		chilimit.WithStorageURI("redis://localhost:6379/0"),
//		chilimit.WithStrategy("sliding-window-counter"),
//		chilimit.WithDefaultLimits("100/minute"),
//	)
//
// The schemes are memory://, redis://, rediss://, redis+unix://,
// redis+cluster://, redis+sentinel:// and memcached://; each storage
// package documents its URI. [WithStrategy] picks fixed-window (the
// default), fixed-window-elastic-expiry, moving-window,
// sliding-window-counter or token-bucket; New fails if the storage cannot
// run it. On a storage that runs batches (storage/redis), the limits
// checked together take one round trip: the application and meta limits
// Handler checks, then each group of a route's markers with no other
// middleware between them (the last with the defaults); a route with one
// marker, or markers side by side, costs one (see the steps above). A
// Redis Cluster or Ring runs a batch one limit at a time.
//
// # Storage failures
//
// Each request's storage calls are bounded by [WithStorageTimeout]. When
// the storage fails, the request gets 500 through the error handler, or
// goes through unlimited with [WithSwallowErrors]; a request whose own
// deadline passed first gets 504 ([ErrRequestDeadline]). With
// [WithInMemoryFallback], [WithInMemoryFallbackFuncs] or
// [WithInMemoryFallbackEnabled] the limiter switches to an in-memory
// storage, checks the failed one with back-off (1s, 2s, 4s … 30s by
// default) and switches back when it answers; a storage that fails again
// soon after resumes the back-off where it stopped. Repeated errors, and
// repeated switches, are logged once per log interval.
//
// # Configuration from the environment
//
// [FromEnv] and [WithConfigLookup] read Flask-Limiter's RATELIMIT_* keys;
// options given explicitly win over them whatever the order.
//
// # More examples
//
// Besides the runnable examples below, the limits-go repository's examples
// directory has one small, tested program per section of the Flask-Limiter
// documentation: key functions, trusted proxies, dynamic limits,
// exemptions, shared and sub-router limits, deduct-when, JSON errors,
// headers, environment configuration, Redis, Redis Cluster, memcached and
// the in-memory fallback.
package chilimit
