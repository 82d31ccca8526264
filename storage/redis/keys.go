package redis

import "strings"

// The suffixes of the one key each capability keeps per limiter key.
const (
	fixedWindowSuffix   = ":fw"
	movingWindowSuffix  = ":mw"
	slidingWindowSuffix = ":sw"
	tokenBucketSuffix   = ":tb"
)

var suffixes = [...]string{fixedWindowSuffix, movingWindowSuffix, slidingWindowSuffix, tokenBucketSuffix}

// braceEscaper keeps '{' and '}' out of a hash tag, injectively.
var braceEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// redisKey returns prefix{key}suffix, the Redis key of one capability's
// state for a limiter key. The limiter key, escaped so it holds no braces,
// is the hash tag: every key of one limiter key lands in one Cluster slot,
// and different limiter keys spread over all slots. An empty key becomes
// the tag "%", which no escaped key equals.
func redisKey(prefix, key, suffix string) string {
	tag := key
	switch {
	case key == "":
		tag = "%"
	case strings.ContainsAny(key, "%{}"):
		tag = braceEscaper.Replace(key)
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(tag) + len(suffix) + 2)
	b.WriteString(prefix)
	b.WriteByte('{')
	b.WriteString(tag)
	b.WriteByte('}')
	b.WriteString(suffix)
	return b.String()
}

// globEscaper escapes the characters SCAN's MATCH treats specially.
var globEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`)

// scanPattern matches every key [redisKey] builds with prefix, and only
// keys of that shape.
func scanPattern(prefix string) string {
	return globEscaper.Replace(prefix) + "{*}:[fmst][wb]"
}
