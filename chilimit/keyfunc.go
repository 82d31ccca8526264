package chilimit

import (
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
)

// RemoteAddr is the default key function (see [WithKeyFunc]): the request's TCP peer address
// without the port (http.Request.RemoteAddr), such as "192.0.2.1" or
// "2001:db8::1". It never reads forwarded headers, which clients can forge;
// behind reverse proxies use [ForwardedFor] or [WithTrustedProxies].
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
func ForwardedFor(hops int) func(r *http.Request) string {
	if hops < 1 {
		hops = 1
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
					return part
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

// builtinKeys holds the code pointers of the key functions ForwardedFor
// returned: one closure can have several (see markerCode).
var builtinKeys sync.Map // uintptr → true

// builtinKeyFunc reports whether fn is one of this package's key functions,
// which read no route: RemoteAddr or a ForwardedFor.
func builtinKeyFunc(fn func(*http.Request) string) bool {
	p := reflect.ValueOf(fn).Pointer()
	if p == reflect.ValueOf(RemoteAddr).Pointer() {
		return true
	}
	_, ok := builtinKeys.Load(p)
	return ok
}
