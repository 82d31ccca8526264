package limiter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	for _, tt := range []struct {
		l     Limit
		parts []string
		want  string
	}{
		{lim(10, 1, Hour), []string{"/api", "127.0.0.1"}, "LIMITER/10/1/hour/4:/api/9:127.0.0.1"},
		{lim(5, 2, Second), nil, "LIMITER/5/2/second"},
		{lim(0, 7, Day), []string{""}, "LIMITER/0/7/day/0:"},
		{lim(1, 1, Minute), []string{"", ""}, "LIMITER/1/1/minute/0:/0:"},
		{lim(3, 1, Year), []string{"a:b/c", "héllo"}, "LIMITER/3/1/year/5:a:b/c/6:héllo"},
		{lim(1, 1, 9), []string{"x"}, "LIMITER/1/1/unit(9)/1:x"},
	} {
		if got := Key(tt.l, tt.parts...); got != tt.want {
			t.Errorf("Key(%v, %q) = %q, want %q", tt.l, tt.parts, got, tt.want)
		}
		if got := string(AppendKey(nil, tt.l, tt.parts...)); got != tt.want {
			t.Errorf("AppendKey(nil, %v, %q) = %q, want %q", tt.l, tt.parts, got, tt.want)
		}
		if got := string(AppendKey([]byte("prefix|"), tt.l, tt.parts...)); got != "prefix|"+tt.want {
			t.Errorf("AppendKey(%q, %v, %q) = %q, want the key appended", "prefix|", tt.l, tt.parts, got)
		}
	}
}

// TestKeyNoCollisions lists pairs of inputs that a naive join would map to
// one key; Key must keep them apart.
func TestKeyNoCollisions(t *testing.T) {
	type input struct {
		l     Limit
		parts []string
	}
	h := lim(10, 1, Hour)
	for _, tt := range []struct{ a, b input }{
		{input{h, []string{"a/b", "c"}}, input{h, []string{"a", "b/c"}}},
		{input{h, []string{"a", ""}}, input{h, []string{"", "a"}}},
		{input{h, []string{"ab"}}, input{h, []string{"a", "b"}}},
		{input{h, nil}, input{h, []string{""}}},
		{input{h, []string{""}}, input{h, []string{"", ""}}},
		{input{h, []string{"a/1:b"}}, input{h, []string{"a", "b"}}},     // a part that forges a length prefix
		{input{h, []string{"1:a"}}, input{h, []string{"1", "a"}}},       // digits and ':'
		{input{h, []string{"3:abc"}}, input{h, []string{"abc"}}},        // a part shaped like an encoded part
		{input{h, []string{"x/3:abc"}}, input{h, []string{"x", "abc"}}}, // ... following the separator
		{input{h, []string{"10", "1"}}, input{h, []string{"1", "01"}}},
		{input{h, []string{"a:"}}, input{h, []string{"a", ""}}},
		{input{h, []string{"/"}}, input{h, []string{"", ""}}},
		{input{lim(1, 11, Hour), nil}, input{lim(11, 1, Hour), nil}},
		{input{lim(1, 1, Hour), []string{"hour"}}, input{lim(1, 1, Hour), []string{"", "hour"}}},
		{input{lim(1, 1, Minute), nil}, input{lim(1, 1, Hour), nil}},
		{input{lim(1, 1, Hour), []string{"1/hour"}}, input{lim(1, 1, Hour), []string{"1", "hour"}}},
	} {
		ka, kb := Key(tt.a.l, tt.a.parts...), Key(tt.b.l, tt.b.parts...)
		if ka == kb {
			t.Errorf("Key(%v, %q) = Key(%v, %q) = %q", tt.a.l, tt.a.parts, tt.b.l, tt.b.parts, ka)
		}
		for _, in := range []input{tt.a, tt.b} {
			k := Key(in.l, in.parts...)
			l, parts, ok := decodeKey(k)
			if !ok || l != in.l || !slices.Equal(parts, in.parts) {
				t.Errorf("decodeKey(%q) = %v, %q, %v, want %v, %q", k, l, parts, ok, in.l, in.parts)
			}
		}
	}
}

// decodeKey inverts Key. That such a function exists is the proof that Key
// is injective: two inputs with the same key would decode the same.
func decodeKey(k string) (l Limit, parts []string, ok bool) {
	rest, ok := strings.CutPrefix(k, keyNamespace+"/")
	if !ok {
		return l, nil, false
	}
	amount, rest, ok1 := strings.Cut(rest, "/")
	multiples, rest, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return l, nil, false
	}
	var err1, err2 error
	l.Amount, err1 = strconv.ParseInt(amount, 10, 64)
	l.Multiples, err2 = strconv.ParseInt(multiples, 10, 64)
	if err1 != nil || err2 != nil {
		return l, nil, false
	}
	unit, rest, more := strings.Cut(rest, "/")
	if u, ok := strings.CutPrefix(unit, "unit("); ok {
		n, err := strconv.ParseUint(strings.TrimSuffix(u, ")"), 10, 8)
		if err != nil {
			return l, nil, false
		}
		l.Unit = Unit(n)
	} else if l.Unit, ok = lookupUnit(unit); !ok || unit != l.Unit.String() {
		return l, nil, false
	}
	for more {
		n, after, ok := strings.Cut(rest, ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size < 0 || size > len(after) {
			return l, nil, false
		}
		parts = append(parts, after[:size])
		rest = after[size:]
		if rest == "" {
			break
		}
		if rest, more = strings.CutPrefix(rest, "/"); !more {
			return l, nil, false
		}
	}
	return l, parts, true
}

// FuzzKey checks injectivity on fuzzed inputs in two ways: every key
// decodes back to its limit and parts, and two part lists cut from the same
// bytes at different places never share a key.
func FuzzKey(f *testing.F) {
	f.Add("a/b/c", uint8(0x13), uint8(0x21), int64(10), int64(1), uint8(Hour))
	f.Add("1:a/1:b", uint8(0x03), uint8(0x30), int64(0), int64(7), uint8(Day))
	f.Add("", uint8(0), uint8(0), int64(-1), int64(0), uint8(0))
	f.Add("x/3:abc", uint8(0x12), uint8(0x21), int64(1<<62), int64(2), uint8(9))
	f.Fuzz(func(t *testing.T, s string, cutA, cutB uint8, amount, multiples int64, unit uint8) {
		l := Limit{Amount: amount, Multiples: multiples, Unit: Unit(unit)}
		// Each cut byte splits s into up to three parts at two offsets.
		split := func(c uint8) []string {
			i, j := int(c&0x0f), int(c>>4)
			i, j = min(i, len(s)), min(j, len(s))
			if i > j {
				i, j = j, i
			}
			return []string{s[:i], s[i:j], s[j:]}
		}
		a, b := split(cutA), split(cutB)
		ka, kb := Key(l, a...), Key(l, b...)
		if (ka == kb) != slices.Equal(a, b) {
			t.Fatalf("Key(%v, %q) = %q, Key(%v, %q) = %q", l, a, ka, l, b, kb)
		}
		// The concatenation as one part, and with one part fewer.
		for _, other := range [][]string{{s}, a[:2], b[1:]} {
			if k := Key(l, other...); (k == ka) != slices.Equal(other, a) {
				t.Fatalf("Key(%v, %q) = %q, Key(%v, %q) = %q", l, a, ka, l, other, k)
			}
		}
		got, parts, ok := decodeKey(ka)
		if !ok || got != l || !slices.Equal(parts, a) {
			t.Fatalf("decodeKey(Key(%v, %q) = %q) = %v, %q, %v", l, a, ka, got, parts, ok)
		}
		if string(AppendKey(nil, l, a...)) != ka {
			t.Fatalf("AppendKey and Key differ for %v, %q", l, a)
		}
	})
}

func TestAppendKeyAllocs(t *testing.T) {
	l := lim(100, 1, Minute)
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendKey(buf[:0], l, "myapp", "/users/{id}", "203.0.113.7")
	})
	if allocs != 0 {
		t.Errorf("AppendKey into a buffer with room: %v allocations, want 0", allocs)
	}
	if got, want := string(buf), "LIMITER/100/1/minute/5:myapp/11:/users/{id}/11:203.0.113.7"; got != want {
		t.Errorf("AppendKey = %q, want %q", got, want)
	}
}

func BenchmarkKey(b *testing.B) {
	l := lim(100, 1, Minute)
	b.Run("Key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Key(l, "myapp", "/users/{id}", "203.0.113.7")
		}
	})
	b.Run("AppendKey", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = AppendKey(buf[:0], l, "myapp", "/users/{id}", "203.0.113.7")
		}
	})
}
