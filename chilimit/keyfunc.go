package chilimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"reflect"
	"strings"
	"sync"
	"unsafe"
)

// RemoteAddr is the default key function (see [WithKeyFunc]): the request's TCP peer address
// without the port (http.Request.RemoteAddr), such as "192.0.2.1" or
// "2001:db8::1". It never reads forwarded headers, which clients can forge;
// behind reverse proxies use [WithTrustedProxies] (or [ForwardedFor]),
// [Forwarded] or [ClientIPHeader], whichever header your proxies write. To
// key IPv6 clients by their /64, wrap it in [AddressPrefix].
func RemoteAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// ForwardedFor returns a key function for an application behind exactly hops
// trusted reverse proxies that each append the address they received the
// request from to X-Forwarded-For: the key is the hops-th address from the
// right of the combined X-Forwarded-For values, the client as the outermost
// trusted proxy saw it. Addresses further left are chosen by the client and
// ignored. A request carrying fewer than hops addresses did not come through
// the proxies and is keyed by [RemoteAddr].
//
// An address is keyed in its canonical form, as RemoteAddr gives it: a port
// some proxies append ("192.0.2.7:50001", "[2001:db8::7]:443") is dropped,
// an IPv4-mapped IPv6 address is the IPv4 address, and IPv6 is written in
// lower case, compressed; so a client cannot get several buckets by the
// spelling of its address or by opening new connections. A value that is
// no IP address ("unknown", an obfuscated identifier) is kept as it is.
//
// With hops below 1 no proxy is trusted, and it returns [RemoteAddr]: the
// peer is the client, and every X-Forwarded-For value is the client's own.
func ForwardedFor(hops int) func(r *http.Request) string {
	if hops < 1 {
		return RemoteAddr
	}
	fn := func(r *http.Request) string {
		values := r.Header.Values("X-Forwarded-For")
		need := hops
		for i := len(values) - 1; i >= 0; i-- {
			v := values[i]
			for {
				comma := strings.LastIndexByte(v, ',')
				part := strings.TrimSpace(v[comma+1:])
				need--
				if need == 0 {
					if part == "" {
						return RemoteAddr(r)
					}
					return canonicalAddr(part)
				}
				if comma < 0 {
					break
				}
				v = v[:comma]
			}
		}
		return RemoteAddr(r)
	}
	builtinKeys.Store(reflect.ValueOf(fn).Pointer(), true)
	return fn
}

// Forwarded returns a key function for an application behind exactly hops
// trusted reverse proxies that each append an element to the standard
// Forwarded header (RFC 7239) with the address they received the request
// from as its for= parameter: the key is that address in the hops-th
// element from the right of the combined Forwarded values. It is
// [ForwardedFor] for proxies that write the standard header, and keys
// addresses in the same canonical form ("[2001:db8::7]:4711" is
// 2001:db8::7). Elements further left are chosen by the client and
// ignored; quoted strings are read as quoted, so a comma or semicolon in a
// client's host= value moves no boundary. A request carrying fewer than
// hops elements did not come through the proxies, and one whose hops-th
// element has no for= node (an address, "unknown" or an obfuscated
// "_name", as the RFC allows) does not name its client: both are keyed by
// [RemoteAddr]. "unknown" is a key like any other: every client a proxy
// calls so shares one bucket. With hops below 1 it returns RemoteAddr.
func Forwarded(hops int) func(r *http.Request) string {
	if hops < 1 {
		return RemoteAddr
	}
	fn := func(r *http.Request) string {
		values := r.Header.Values("Forwarded")
		need := hops
		for i := len(values) - 1; i >= 0; i-- {
			v := values[i]
			n := 1 // elements in v
			for rest := v; ; n++ {
				var more bool
				if _, rest, more = cutUnquoted(rest, ','); !more {
					break
				}
			}
			if need > n {
				need -= n
				continue
			}
			// The element (n - need) from the left, 0-based.
			element := v
			for range n - need {
				_, element, _ = cutUnquoted(element, ',')
			}
			element, _, _ = cutUnquoted(element, ',')
			if node, ok := forwardedFor(element); ok {
				return node
			}
			return RemoteAddr(r)
		}
		return RemoteAddr(r)
	}
	builtinKeys.Store(reflect.ValueOf(fn).Pointer(), true)
	return fn
}

// cutUnquoted cuts s around the first sep outside a quoted string (a
// backslash inside one escapes the next byte), as strings.Cut does.
func cutUnquoted(s string, sep byte) (before, after string, found bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// forwardedFor returns the key of the for= node of one element of a
// Forwarded header ("for=192.0.2.7;proto=https"): an address in canonical
// form, "unknown", or an obfuscated identifier; ok is false when the
// element has no such node.
func forwardedFor(element string) (key string, ok bool) {
	for element != "" {
		var pair string
		pair, element, _ = cutUnquoted(element, ';')
		name, value, found := strings.Cut(strings.TrimSpace(pair), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "for") {
			continue
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, `"`) {
			if len(value) < 2 || !strings.HasSuffix(value, `"`) {
				return "", false
			}
			value = value[1 : len(value)-1]
			if strings.IndexByte(value, '\\') >= 0 {
				var b strings.Builder
				for i := 0; i < len(value); i++ {
					if value[i] == '\\' && i+1 < len(value) {
						i++
					}
					b.WriteByte(value[i])
				}
				value = b.String()
			}
		}
		return forwardedNode(value)
	}
	return "", false
}

// forwardedNode returns the key of an RFC 7239 node: its address in
// canonical form (port dropped), or "unknown" or an obfuscated "_name" as
// they are; ok is false for anything else.
func forwardedNode(node string) (key string, ok bool) {
	if node == "" {
		return "", false
	}
	if key := canonicalAddr(node); key != node || isAddr(node) {
		return key, true
	}
	name, _, _ := strings.Cut(node, ":") // an obfuscated name may carry a port
	if strings.EqualFold(name, "unknown") {
		return node, true
	}
	if len(name) < 2 || name[0] != '_' {
		return "", false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", false
		}
	}
	return node, true
}

// isAddr reports whether s is an IP address as canonicalAddr returns it.
func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// ClientIPHeader returns a key function for an application behind a
// reverse proxy that puts the client's address in the request header name,
// replacing whatever the client sent there: X-Real-IP (nginx, Traefik),
// CF-Connecting-IP (Cloudflare), True-Client-IP, Fly-Client-IP. The key
// is the header's last value (the last of a comma-separated list, should
// a proxy append rather than replace), in the canonical form [ForwardedFor]
// gives; a request without the header did not come through the proxy and
// is keyed by [RemoteAddr]. Only use it when every request reaches the
// application through that proxy: clients that reach it directly choose
// their key by sending the header. It panics if name is empty.
func ClientIPHeader(name string) func(r *http.Request) string {
	if strings.TrimSpace(name) == "" {
		panic("chilimit: ClientIPHeader needs a header name, such as X-Real-IP")
	}
	name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
	fn := func(r *http.Request) string {
		values := r.Header[name]
		if len(values) == 0 {
			return RemoteAddr(r)
		}
		v := values[len(values)-1]
		if comma := strings.LastIndexByte(v, ','); comma >= 0 {
			v = v[comma+1:]
		}
		if v = strings.TrimSpace(v); v == "" {
			return RemoteAddr(r)
		}
		return canonicalAddr(v)
	}
	builtinKeys.Store(reflect.ValueOf(fn).Pointer(), true)
	return fn
}

// AddressPrefix returns a key function that keys a request by the network
// of the address fn returns for it: the first ipv4Bits bits of an IPv4
// address, the first ipv6Bits of an IPv6 one, as "192.0.2.0/24" or
// "2001:db8:1:2::/64". One host commonly holds a whole IPv6 /64 (and a
// client can pick any address in it), so keying IPv6 by /64 keeps such a
// client in one bucket:
//
//	chilimit.WithKeyFunc(chilimit.AddressPrefix(chilimit.RemoteAddr, 32, 64))
//
// A network as long as the address (32 or 128 bits) is the address itself,
// as fn gave it, and so is a key that is no IP address. Each masked key
// costs an allocation. It panics if ipv4Bits is not 0 to 32, or ipv6Bits
// not 0 to 128.
func AddressPrefix(fn func(r *http.Request) string, ipv4Bits, ipv6Bits int) func(r *http.Request) string {
	if fn == nil || ipv4Bits < 0 || ipv4Bits > 32 || ipv6Bits < 0 || ipv6Bits > 128 {
		panic(fmt.Sprintf("chilimit: AddressPrefix(%p, %d, %d): want a key function, 0 to 32 IPv4 bits and 0 to 128 IPv6 bits", fn, ipv4Bits, ipv6Bits))
	}
	prefix := func(key string) string {
		a, err := netip.ParseAddr(key)
		if err != nil {
			return key
		}
		u := a.Unmap()
		bits := ipv6Bits
		if u.Is4() {
			bits = ipv4Bits
		}
		if bits == u.BitLen() {
			if u != a {
				return u.String() // as canonicalAddr keys it
			}
			return key
		}
		p, err := u.Prefix(bits)
		if err != nil {
			return key
		}
		var buf [64]byte
		return string(p.AppendTo(buf[:0]))
	}
	if !builtinKeyFunc(fn) {
		return func(r *http.Request) string { return prefix(fn(r)) }
	}
	// Around one of this package's key functions it reads no route either:
	// Handler need not look the route up ahead for it.
	own := func(r *http.Request) string { return prefix(fn(r)) }
	builtinKeys.Store(reflect.ValueOf(own).Pointer(), true)
	return own
}

// canonicalAddr returns the IP address s names, without a port or
// brackets, IPv4-mapped addresses unmapped, in netip's canonical text; s
// itself when that is what it is already (no allocation), or when it is no
// IP address.
func canonicalAddr(s string) string {
	if s == "" || !isHexDigit(s[0]) && s[0] != '[' && s[0] != ':' {
		return s // "unknown", "_hidden": no address (and no parse error to allocate)
	}
	a, err := netip.ParseAddr(s) // first: the usual case, which allocates nothing
	if err != nil {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			a = ap.Addr()
		} else if a, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err != nil {
			return s
		}
	}
	var buf [64]byte
	out := a.Unmap().AppendTo(buf[:0])
	if string(out) == s {
		return s
	}
	return string(out)
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

// ownKeyTag marks, in storage keys, the buckets of a route limit keyed by
// a function of its own rather than the limiter's: a per-user limit fed
// the name "203.0.113.9" must not count against the per-address bucket of
// that address. Limits with key functions of their own share buckets when
// the keys are equal, as every limit of one scope does; key functions that
// return values from different spaces (user names, API keys) should prefix
// them ("user:", "apikey:").
const ownKeyTag = "own key"

// A keyFuncID tells key functions apart: the function value itself (its
// closure: a method value or a closure is a new one each time it is made,
// a top-level function always the same), and whether it is one of this
// package's, which all key by the client's address.
type keyFuncID struct {
	value   uintptr
	builtin bool
}

func keyFuncIdentity(fn func(*http.Request) string) keyFuncID {
	return keyFuncID{value: *(*uintptr)(unsafe.Pointer(&fn)), builtin: builtinKeyFunc(fn)}
}

// same reports whether two key functions key alike: the same function
// value, or both this package's.
func (id keyFuncID) same(o keyFuncID) bool {
	return id.value == o.value || id.builtin && o.builtin
}

// builtinKeys holds the code pointers of the key functions ForwardedFor,
// Forwarded and ClientIPHeader returned: one closure can have several (see
// markerCode).
var builtinKeys sync.Map // uintptr → true

// builtinKeyFunc reports whether fn is one of this package's key functions,
// which read no route and key by the client's address: RemoteAddr, or one
// that ForwardedFor, Forwarded or ClientIPHeader returned.
func builtinKeyFunc(fn func(*http.Request) string) bool {
	p := reflect.ValueOf(fn).Pointer()
	if p == reflect.ValueOf(RemoteAddr).Pointer() {
		return true
	}
	_, ok := builtinKeys.Load(p)
	return ok
}
