package memcached

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Memcached keys are the prefix, a marker, the caller's key and a suffix
// naming the item. Keys that memcached can hold as they are (short enough,
// printable ASCII without spaces) keep the marker "k:"; any other key is
// replaced by the hex SHA-256 of it after the marker "h:". The markers
// differ, so a stored-as-is key can never equal a hashed one, and no two
// different keys share a hash in practice. The suffixes below form a
// suffix-free set (none ends with another), so two different caller keys
// never yield the same memcached key.
const (
	markRaw    = "k:"
	markHashed = "h:"

	sufWindow       = ":w"  // fixed window: id and expiry of the live window
	sufCounter      = ":c:" // fixed window: + window id (16 hex digits), the count
	sufSlot0        = ":s0" // sliding window counter: even-numbered windows
	sufSlot1        = ":s1" // sliding window counter: odd-numbered windows
	sufTokenBucket  = ":tb" // token bucket: the TAT
	sufMovingWindow = ":mw" // moving window: the log

	maxSuffixLen = len(sufCounter) + 16
	maxKeyLen    = 250 // memcached's limit
)

// safeKey reports whether memcached's text protocol can carry k as is.
func safeKey(k string) bool {
	for i := range len(k) {
		if c := k[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// base returns the memcached key, without its suffix, for the caller's key.
func (s *Storage) base(key string) string {
	if len(s.prefix)+len(markRaw)+len(key)+maxSuffixLen <= maxKeyLen && safeKey(key) {
		return s.prefix + markRaw + key
	}
	sum := sha256.Sum256([]byte(key))
	return s.prefix + markHashed + hex.EncodeToString(sum[:])
}

// maxRelativeExpiry is the longest expiry memcached reads as seconds from
// now; larger values are read as an absolute Unix time.
const maxRelativeExpiry = 30 * 24 * 60 * 60

// expiration returns the memcached expiry for an item whose state is dead
// after live (measured on the Request's clock), kept for the storage's grace
// beyond that. Past 30 days it is an absolute Unix time taken from the real
// clock, which is what the server compares it with.
func (s *Storage) expiration(live time.Duration) int32 {
	return expiration(live, s.grace, s.wall)
}

func expiration(live, grace time.Duration, wall func() time.Time) int32 {
	secs := (max(live, 0) + grace + time.Second - 1) / time.Second
	if secs <= maxRelativeExpiry {
		return int32(max(secs, 1))
	}
	// gomemcache carries expiries as int32: absolute times end in 2038.
	abs := wall().Unix() + int64(secs)
	return int32(min(abs, 1<<31-1))
}
