package memcached

import (
	"strings"
	"testing"
	"time"
)

// FuzzKeys: whatever the caller's key, every memcached key built from it is
// one memcached accepts, and two different caller keys never share one.
func FuzzKeys(f *testing.F) {
	for _, k := range []string{"", "a", "with space", "ctl\x00\x7f", strings.Repeat("x", 250), "h:abc", "k:abc", "ünï"} {
		f.Add(k, "x")
	}
	long := &Storage{prefix: strings.Repeat("p", maxPrefixLen)}
	none := &Storage{}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []*Storage{none, long} {
			ba := s.base(a)
			for _, suf := range []string{sufWindow, sufCounter + newWindowID(), sufSlot0, sufSlot1, sufTokenBucket, sufMovingWindow} {
				if k := ba + suf; len(k) > maxKeyLen || !safeKey(k) {
					t.Fatalf("key %q (prefix %d bytes) maps to %q: not a legal memcached key", a, len(s.prefix), k)
				}
			}
			if a != b && ba == s.base(b) {
				t.Fatalf("keys %q and %q share the memcached key %q", a, b, ba)
			}
		}
	})
}

func TestBaseKeepsOrHashes(t *testing.T) {
	s := &Storage{prefix: "p:"}
	for _, tc := range []struct {
		key  string
		want string // "" when hashed
	}{
		{"LIMITER/1/1/hour/3:abc", "p:k:LIMITER/1/1/hour/3:abc"},
		{strings.Repeat("x", maxKeyLen-len("p:k:")-maxSuffixLen), "p:k:" + strings.Repeat("x", maxKeyLen-len("p:k:")-maxSuffixLen)},
		{strings.Repeat("x", maxKeyLen-len("p:k:")-maxSuffixLen+1), ""},
		{"a b", ""},
		{"tab\t", ""},
		{"é", ""},
	} {
		got := s.base(tc.key)
		if tc.want != "" && got != tc.want {
			t.Errorf("base(%q) = %q, want %q", tc.key, got, tc.want)
		}
		if tc.want == "" && (!strings.HasPrefix(got, "p:h:") || len(got) != len("p:h:")+64) {
			t.Errorf("base(%q) = %q, want p:h: and a hex SHA-256", tc.key, got)
		}
	}
}

func TestExpiration(t *testing.T) {
	wall := func() time.Time { return time.Unix(1_800_000_000, 0) }
	const day = 24 * time.Hour
	for _, tc := range []struct {
		live, grace time.Duration
		want        int32
	}{
		{0, 2 * time.Second, 2},
		{-time.Hour, 2 * time.Second, 2}, // dead already: kept for the grace
		{time.Nanosecond, 2 * time.Second, 3},
		{time.Second, time.Minute, 61},
		{30*day - time.Minute, time.Minute, 30 * 24 * 3600},                               // exactly 30 days: still relative
		{30*day - time.Minute + time.Second, time.Minute, 1_800_000_000 + 30*24*3600 + 1}, // absolute
		{360 * day, time.Minute, 1_800_000_000 + 360*24*3600 + 60},                        // 1 per year
		{60 * day, time.Minute, 1_800_000_000 + 60*24*3600 + 60},                          // 2 per 2 months
		{100 * 360 * day, time.Minute, 1<<31 - 1},                                         // past 2038: clamped
	} {
		if got := expiration(tc.live, tc.grace, wall); got != tc.want {
			t.Errorf("expiration(%v, grace %v) = %d, want %d", tc.live, tc.grace, got, tc.want)
		}
	}
}
