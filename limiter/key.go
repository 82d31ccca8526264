package limiter

import "strconv"

// keyNamespace starts every key built by [Key], so limiter keys are easy to
// recognize in a shared storage.
const keyNamespace = "LIMITER"

// Key builds the storage key for limit l and the given parts (typically the
// key prefix, the scope such as a route pattern, and the client's key such as
// its address). Every part is length-prefixed, so two different part lists or
// limits never produce the same key, whatever bytes the parts hold: a client
// cannot choose a key that lands in another client's or another route's
// bucket.
//
// The result looks like LIMITER/10/1/hour/4:/api/9:127.0.0.1 and is meant to
// be stored as is; backends that cannot store some bytes (memcached: spaces,
// control characters, more than 250 bytes) encode or hash it themselves.
func Key(l Limit, parts ...string) string {
	n := len(keyNamespace) + 24
	for _, p := range parts {
		n += len(p) + 4
	}
	return string(AppendKey(make([]byte, 0, n), l, parts...))
}

// AppendKey appends the key [Key] would return to dst and returns the
// extended buffer. It does not allocate when dst has room.
func AppendKey(dst []byte, l Limit, parts ...string) []byte {
	dst = append(dst, keyNamespace...)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, l.Amount, 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, l.Multiples, 10)
	dst = append(dst, '/')
	dst = append(dst, l.Unit.String()...)
	for _, p := range parts {
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(len(p)), 10)
		dst = append(dst, ':')
		dst = append(dst, p...)
	}
	return dst
}
