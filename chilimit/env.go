package chilimit

import (
	"fmt"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// FromEnv reads the Flask-Limiter configuration keys from the process
// environment (see [WithConfigLookup] for the keys). Explicit options win
// over the environment whatever their order, as constructor arguments win
// over Flask configuration.
func FromEnv() Option { return WithConfigLookup(os.LookupEnv) }

// WithConfigLookup reads the Flask-Limiter configuration keys through
// lookup (os.LookupEnv, a map, a configuration service). Settings also
// given as explicit options keep the option's value. The keys:
//
//	RATELIMIT_ENABLED                     true/false            WithEnabled
//	RATELIMIT_DEFAULT                     limits                WithDefaultLimits
//	RATELIMIT_GLOBAL                      limits                deprecated: as RATELIMIT_DEFAULT, and wins over it
//	RATELIMIT_DEFAULTS_PER_METHOD         true/false            WithDefaultLimitsPerMethod
//	RATELIMIT_APPLICATION                 limits                WithApplicationLimits
//	RATELIMIT_STRATEGY                    strategy name         WithStrategy
//	RATELIMIT_STORAGE_URI (or _URL)       storage URI           WithStorageURI
//	RATELIMIT_STORAGE_OPTIONS             name=value&...        query parameters added to the storage URI; WithStorageOptions wins
//	RATELIMIT_HEADERS_ENABLED             true/false            WithHeaders
//	RATELIMIT_HEADER_LIMIT                header name           WithHeaderNames
//	RATELIMIT_HEADER_REMAINING            header name           WithHeaderNames
//	RATELIMIT_HEADER_RESET                header name           WithHeaderNames
//	RATELIMIT_HEADER_RETRY_AFTER          header name           WithHeaderNames
//	RATELIMIT_HEADER_RETRY_AFTER_VALUE    delta-seconds|http-date WithRetryAfterFormat
//	RATELIMIT_SWALLOW_ERRORS              true/false            WithSwallowErrors
//	RATELIMIT_IN_MEMORY_FALLBACK          limits                WithInMemoryFallback
//	RATELIMIT_IN_MEMORY_FALLBACK_ENABLED  true/false            WithInMemoryFallbackEnabled
//	RATELIMIT_KEY_PREFIX                  prefix                WithKeyPrefix
//	RATELIMIT_META                        limits                WithMetaLimits
//
// Booleans accept what strconv.ParseBool accepts plus yes/no and on/off;
// a bad value makes [New] fail naming the key. Empty values are ignored.
// The default is no lookup.
func WithConfigLookup(lookup func(key string) (string, bool)) Option {
	return func(c *config) error {
		if lookup == nil {
			return invalid("WithConfigLookup(nil)")
		}
		c.lookup = lookup
		return nil
	}
}

func (c *config) applyEnv() error {
	get := func(key string) (string, bool) {
		v, ok := c.lookup(key)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	boolean := func(key string, set int, dst *bool) error {
		v, ok := get(key)
		if !ok || c.set[set] {
			return nil
		}
		b, err := parseBool(v)
		if err != nil {
			return invalid("%s=%q: want true or false", key, v)
		}
		*dst = b
		return nil
	}
	str := func(key string, set int, dst *string) {
		if v, ok := get(key); ok && !c.set[set] {
			*dst, c.envKey[set] = v, key
		}
	}
	limits := func(key string, set int, dst *[]string) {
		if v, ok := get(key); ok && !c.set[set] {
			*dst, c.envKey[set] = []string{v}, key
		}
	}
	header := func(key string, set int, dst *string) error {
		v, ok := get(key)
		if !ok || c.set[set] {
			return nil
		}
		if !validHeaderName(v) {
			return invalid("%s=%q: not a header name (%s)", key, v, headerNameRule)
		}
		*dst = textproto.CanonicalMIMEHeaderKey(v)
		return nil
	}
	for _, b := range []struct {
		key string
		set int
		dst *bool
	}{
		{"RATELIMIT_ENABLED", setEnabled, &c.enabled},
		{"RATELIMIT_DEFAULTS_PER_METHOD", setDefaultsPerMethod, &c.defaultsPerMethod},
		{"RATELIMIT_HEADERS_ENABLED", setHeaders, &c.headers},
		{"RATELIMIT_SWALLOW_ERRORS", setSwallow, &c.swallow},
		{"RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", setFallbackEnabled, &c.fallbackEnabled},
	} {
		if err := boolean(b.key, b.set, b.dst); err != nil {
			return err
		}
	}
	// RATELIMIT_GLOBAL is Flask-Limiter's name from before 0.9.4, still
	// honoured by 1.x and winning over RATELIMIT_DEFAULT there.
	limits("RATELIMIT_DEFAULT", setDefaults, &c.defaults)
	if _, ok := get("RATELIMIT_GLOBAL"); ok && !c.set[setDefaults] {
		limits("RATELIMIT_GLOBAL", setDefaults, &c.defaults)
		c.deprecatedGlobal = true
	}
	limits("RATELIMIT_APPLICATION", setApplication, &c.application)
	limits("RATELIMIT_IN_MEMORY_FALLBACK", setFallbackLimits, &c.fallbackLimits)
	limits("RATELIMIT_META", setMeta, &c.metaLimits)
	str("RATELIMIT_STRATEGY", setStrategy, &c.strategy)
	str("RATELIMIT_KEY_PREFIX", setKeyPrefix, &c.keyPrefix)
	if !c.set[setStorage] {
		str("RATELIMIT_STORAGE_URL", setStorage, &c.storageURI)
		str("RATELIMIT_STORAGE_URI", setStorage, &c.storageURI) // wins over the older name
	}
	if v, ok := get("RATELIMIT_STORAGE_OPTIONS"); ok && c.storage == nil && !c.set[setStorageOptions] {
		// Flask-Limiter's storage_options, the storage's constructor
		// arguments: here the storage URI's query parameters, which each
		// storage checks (an unknown or repeated one fails New). They join
		// an explicit WithStorageURI too, as Flask's configuration updates
		// the constructor's storage_options; WithStorageOptions wins.
		if err := checkQuery(v); err != nil {
			return invalid("RATELIMIT_STORAGE_OPTIONS: %v", err)
		}
		if strings.Contains(c.storageURI, "#") {
			return invalid("RATELIMIT_STORAGE_OPTIONS: the storage URI has a fragment ('#'); percent-encode it")
		}
		sep := "?"
		if strings.Contains(c.storageURI, "?") {
			sep = "&"
		}
		c.storageURI += sep + v
		if k := c.envKey[setStorage]; k != "" {
			c.envKey[setStorage] = k + " and RATELIMIT_STORAGE_OPTIONS"
		} else if c.set[setStorage] {
			c.envKey[setStorage] = "WithStorageURI and RATELIMIT_STORAGE_OPTIONS"
		} else {
			c.envKey[setStorage] = "RATELIMIT_STORAGE_OPTIONS"
		}
	}
	for _, h := range []struct {
		key string
		set int
		dst *string
	}{
		{"RATELIMIT_HEADER_LIMIT", setHeaderLimit, &c.headerNames.Limit},
		{"RATELIMIT_HEADER_REMAINING", setHeaderRemaining, &c.headerNames.Remaining},
		{"RATELIMIT_HEADER_RESET", setHeaderReset, &c.headerNames.Reset},
		{"RATELIMIT_HEADER_RETRY_AFTER", setHeaderRetryAfter, &c.headerNames.RetryAfter},
	} {
		if err := header(h.key, h.set, h.dst); err != nil {
			return err
		}
	}
	if v, ok := get("RATELIMIT_HEADER_RETRY_AFTER_VALUE"); ok && !c.set[setRetryAfterDate] {
		date, err := parseRetryAfterFormat(v)
		if err != nil {
			return invalid("RATELIMIT_HEADER_RETRY_AFTER_VALUE=%q: want delta-seconds or http-date", v)
		}
		c.retryAfterDate = date
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "on", "y":
		return true, nil
	case "no", "off", "n":
		return false, nil
	}
	return strconv.ParseBool(v)
}

// checkQuery reports the first parameter of the query q that does not
// parse, by its position and name alone: values may be secrets (a Sentinel
// URI's password), and errors reach logs.
func checkQuery(q string) error {
	for i, part := range strings.Split(q, "&") {
		if _, err := url.ParseQuery(part); err != nil {
			what := fmt.Sprintf("parameter %d", i+1)
			if name, _, _ := strings.Cut(part, "="); !strings.ContainsAny(name, ";%") {
				what += fmt.Sprintf(" (%s)", name)
			}
			return fmt.Errorf("%s is not URI-encoded name=value (a ';' or a malformed %%-escape; values are not shown): want name=value pairs joined by &", what)
		}
	}
	return nil
}
