package reliability

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/conformance/servers"
	"github.com/limits-go/limits/limiter"
)

// backend is a storage URI the hostile-input tests run against.
type backend struct{ name, uri string }

// backends returns the memory storage and a Redis and a memcached started
// for the test.
func backends(t *testing.T) []backend {
	t.Helper()
	return []backend{
		{"memory", "memory://"},
		{"redis", "redis://" + servers.Redis(t)},
		{"memcached", "memcached://" + servers.Memcached(t)},
	}
}

// hostileKeys are client keys that are empty, huge, not UTF-8, or hold
// bytes memcached cannot carry in a key, in groups that a careless encoding
// would map to one bucket.
func hostileKeys() map[string]string {
	mb := strings.Repeat("k", 1<<20)
	return map[string]string{
		"empty":          "",
		"1MB":            mb,
		"1MB-last-byte":  mb[:len(mb)-1] + "j",
		"1MB+1":          mb + "k",
		"invalid-utf8":   "\xff\xfe\xfd",
		"invalid-utf8-2": "\xff\xfe\xfc",
		"replacement":    "\ufffd\ufffd\ufffd",
		"space":          "a b",
		"tab":            "a\tb",
		"newline":        "a\r\nb",
		"nul":            "a\x00b",
		"underscore":     "a_b",
		"del":            "a\x7fb",
		"251 bytes":      strings.Repeat("x", 251),
		"250 bytes":      strings.Repeat("x", 250),
		"separator":      "a/1:b",
		"separator-2":    "a/1:b/",
		"length-prefix":  "3:abc",
	}
}

// TestHostileKeys gives every backend keys that are empty, 1 MB long, not
// UTF-8 or illegal in memcached keys: nothing panics, each key has a bucket
// of its own that holds its limit exactly, and an empty key is logged as a
// warning once per log interval.
func TestHostileKeys(t *testing.T) {
	keys := hostileKeys()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			lim, rec := newLimiter(t,
				chilimit.WithStorageURI(b.uri),
				chilimit.WithKeyFunc(func(r *http.Request) string { return keys[r.Header.Get("K")] }),
				chilimit.WithKeyPrefix("hostile"),
				chilimit.WithDefaultLimits("2 per minute"),
			)
			h := router(lim)
			send := func(name string) int { return get(h, "10.0.0.1:1", "/r", "K", name).Code }
			// Every key takes its two requests and is then rejected; had
			// two keys shared a bucket, the second would start rejected.
			for _, name := range names {
				got := []int{send(name), send(name), send(name)}
				if want := repeat(200, 2, 429, 1); !slices.Equal(got, want) {
					t.Errorf("key %s: %v, want %v", name, got, want)
				}
			}
			if n := rec.count(slog.LevelWarn, msgEmptyKey); n != 1 {
				t.Errorf("empty-key warnings after 3 requests with an empty key = %d, want 1", n)
			}
			if n := rec.count(slog.LevelError, msgStorageFailed); n != 0 {
				t.Errorf("storage errors logged: %d, want 0", n)
			}
		})
	}
}

// TestEmptyRouteKeyWarned checks the empty key of a route limit's own key
// function is warned about too, and is not the bucket of the limiter's key.
func TestEmptyRouteKeyWarned(t *testing.T) {
	lim, rec := newLimiter(t)
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.Limit("1 per minute", chilimit.KeyFunc(func(r *http.Request) string { return r.Header.Get("User") }))).
		Get("/r", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	if got, want := []int{get(r, "10.0.0.1:1", "/r").Code, get(r, "10.0.0.2:1", "/r").Code}, []int{200, 429}; !slices.Equal(got, want) {
		t.Errorf("two clients without a User header: %v, want %v (one shared, warned bucket)", got, want)
	}
	if code := get(r, "10.0.0.1:1", "/r", "User", "alice").Code; code != http.StatusOK {
		t.Errorf("alice after the empty-key bucket was used: %d, want 200", code)
	}
	if n := rec.count(slog.LevelWarn, msgEmptyKey); n != 1 {
		t.Errorf("empty-key warnings = %d, want 1", n)
	}
}

// TestForwardedHeaderSpoofing checks that X-Forwarded-For and X-Real-IP
// never move a client to another bucket unless WithTrustedProxies says how
// many proxies to trust, and that with it a client can neither leave its
// bucket nor spend someone else's by forging the part of the header it
// controls.
func TestForwardedHeaderSpoofing(t *testing.T) {
	const victim, attacker = "198.51.100.7", "203.0.113.66"
	spoofs := [][]string{
		{"X-Forwarded-For", victim},
		{"X-Real-IP", victim},
		{"X-Forwarded-For", "10.0.0.1"},
		{"X-Forwarded-For", victim + ", 10.0.0.2"},
		{"X-Forwarded-For", "  ,  "},
		{"X-Forwarded-For", strings.Repeat("1.2.3.4, ", 10000)},
		{"Forwarded", "for=" + victim},
		{"X-Client-IP", victim},
	}
	t.Run("untrusted", func(t *testing.T) {
		lim, _ := newLimiter(t, chilimit.WithDefaultLimits("3 per minute"))
		h := router(lim)
		var got []int
		for _, s := range spoofs {
			got = append(got, get(h, attacker+":4000", "/r", s...).Code)
		}
		if want := repeat(200, 3, 429, len(spoofs)-3); !slices.Equal(got, want) {
			t.Errorf("attacker with forged headers: %v, want %v (one bucket, its peer address)", got, want)
		}
		if got, want := statuses(h, victim+":5000", "/r", 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
			t.Errorf("victim after the attack: %v, want %v (untouched)", got, want)
		}
	})
	// One trusted proxy at 192.0.2.1 appends the peer it saw, so the
	// attacker's forged values are always left of its real address.
	for _, hops := range []int{1, 2} {
		t.Run("trusted/"+itoa(hops), func(t *testing.T) {
			lim, _ := newLimiter(t, chilimit.WithDefaultLimits("3 per minute"), chilimit.WithTrustedProxies(hops))
			h := router(lim)
			// via sends a request from client through the trusted
			// proxies, which append to what the client sent.
			via := func(client string, sent []string) int {
				chain := []string{client}
				for i := 1; i < hops; i++ {
					chain = append(chain, "192.0.2."+itoa(10+i))
				}
				hdr := []string{}
				if len(sent) == 2 && sent[0] == "X-Forwarded-For" {
					hdr = append(hdr, "X-Forwarded-For", sent[1])
				} else if len(sent) == 2 {
					hdr = append(hdr, sent...)
				}
				// Each proxy adds its own header line, as some do.
				for _, a := range chain {
					hdr = append(hdr, "X-Forwarded-For", a)
				}
				return get(h, "192.0.2.1:443", "/r", hdr...).Code
			}
			var got []int
			for _, s := range spoofs {
				got = append(got, via(attacker, s))
			}
			if want := repeat(200, 3, 429, len(spoofs)-3); !slices.Equal(got, want) {
				t.Errorf("attacker behind %d trusted proxies with forged headers: %v, want %v (its own bucket)", hops, got, want)
			}
			var victimCodes []int
			for range 4 {
				victimCodes = append(victimCodes, via(victim, nil))
			}
			if want := repeat(200, 3, 429, 1); !slices.Equal(victimCodes, want) {
				t.Errorf("victim after the attack: %v, want %v (untouched)", victimCodes, want)
			}
			// A request that bypassed the proxies carries fewer addresses
			// than trusted hops: it is keyed by its peer.
			if hops == 2 {
				if got, want := statuses(h, "203.0.113.99:1", "/r", 1), []int{200}; !slices.Equal(got, want) {
					t.Errorf("direct request: %v, want %v", got, want)
				}
				direct := []int{
					get(h, "192.0.2.99:1", "/r", "X-Forwarded-For", victim).Code,
					get(h, "192.0.2.99:1", "/r", "X-Forwarded-For", victim).Code,
					get(h, "192.0.2.99:1", "/r", "X-Forwarded-For", victim).Code,
					get(h, "192.0.2.99:1", "/r", "X-Forwarded-For", victim).Code,
				}
				if want := repeat(200, 3, 429, 1); !slices.Equal(direct, want) {
					t.Errorf("one forged address with 2 trusted hops: %v, want %v (the peer's bucket)", direct, want)
				}
			}
		})
	}
}

// TestHostileCostAndLimitFuncs feeds nonsense from cost and limit
// functions: a negative cost only tests the limit, a cost above the amount
// (up to math.MaxInt64) is rejected without spending the bucket on any
// backend or strategy, and malformed dynamic limits are logged and fall
// back to the defaults.
func TestHostileCostAndLimitFuncs(t *testing.T) {
	for _, b := range backends(t) {
		for _, strategy := range limiter.Strategies() {
			t.Run(b.name+"/"+strategy, func(t *testing.T) {
				lim, _ := newLimiter(t,
					chilimit.WithStorageURI(b.uri),
					chilimit.WithStrategy(strategy),
					chilimit.WithKeyPrefix("cost-"+strategy),
				)
				r := chi.NewRouter()
				r.Use(lim.Handler)
				cost := func(r *http.Request) int64 {
					switch r.Header.Get("Cost") {
					case "max":
						return math.MaxInt64
					case "min":
						return math.MinInt64
					case "neg":
						return -5
					case "over":
						return 4
					}
					return 1
				}
				r.With(lim.Limit("3 per minute", chilimit.CostFunc(cost))).Get("/r", func(w http.ResponseWriter, _ *http.Request) {})
				send := func(c string) int { return get(r, "10.0.0.1:1", "/r", "Cost", c).Code }
				if strategy == limiter.StrategySlidingWindowCounter {
					// The Redis storage decides on the server's clock.
					clearOfWindowEdge(time.Minute, 5*time.Second)
				}
				got := []int{send("max"), send("over"), send("min"), send("neg"), send("1"), send("1"), send("max"), send("1"), send("neg")}
				want := []int{429, 429, 200, 200, 200, 200, 429, 200, 429}
				if !slices.Equal(got, want) {
					t.Errorf("costs max, 4, min, -5, 1, 1, max, 1, -5 against 3 per minute: %v, want %v", got, want)
				}
			})
		}
	}
	t.Run("limit funcs", func(t *testing.T) {
		lim, rec := newLimiter(t, chilimit.WithDefaultLimits("2 per minute"))
		r := chi.NewRouter()
		r.Use(lim.Handler)
		r.With(lim.LimitFunc(func(r *http.Request) string { return r.Header.Get("Limit") })).
			Get("/r", func(w http.ResponseWriter, _ *http.Request) {})
		for i, spec := range []string{"", "10/weak", "-1/second", "1/0 seconds", "99999999999999999999/second", "1.5/second", "1/second;;", "\xff/second", strings.Repeat("1/second;", 10000) + "x"} {
			// Each malformed spec: an ERROR log, and the defaults apply.
			client := "10.5.0." + itoa(i+1) + ":1"
			got := []int{get(r, client, "/r", "Limit", spec).Code, get(r, client, "/r", "Limit", spec).Code, get(r, client, "/r", "Limit", spec).Code}
			if want := repeat(200, 2, 429, 1); !slices.Equal(got, want) {
				t.Errorf("malformed limit %.40q: %v, want %v (the default 2 per minute)", spec, got, want)
			}
		}
		if n := rec.count(slog.LevelError, "chilimit: malformed"); n == 0 {
			t.Errorf("malformed dynamic limits were not logged")
		}
	})
}

// TestPanickingFuncs makes key, cost, limit and exempt functions panic: the
// server answers the request with 500 through a recovering middleware, or
// net/http drops just that connection, and keeps serving everyone else
// with their limits intact.
func TestPanickingFuncs(t *testing.T) {
	verifyNoLeak(t)
	boom := func(r *http.Request) bool { return r.Header.Get("Boom") != "" }
	lim, _ := newLimiter(t,
		chilimit.WithDefaultLimits("3 per minute"),
		chilimit.WithKeyFunc(func(r *http.Request) string {
			if boom(r) && r.URL.Path == "/key" {
				panic("key func")
			}
			return chilimit.RemoteAddr(r)
		}),
	)
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
	build := func(recoverer bool) http.Handler {
		r := chi.NewRouter()
		if recoverer {
			r.Use(recoverer500)
		}
		r.Use(lim.Handler)
		r.Get("/key", ok)
		r.With(lim.Limit("3 per minute", chilimit.CostFunc(func(r *http.Request) int64 {
			if boom(r) {
				panic("cost func")
			}
			return 1
		}))).Get("/cost", ok)
		r.With(lim.LimitFunc(func(r *http.Request) string {
			if boom(r) {
				panic("limit func")
			}
			return "3 per minute"
		})).Get("/limit", ok)
		r.With(lim.Limit("3 per minute", chilimit.ExemptWhen(func(r *http.Request) bool {
			if boom(r) {
				panic(errors.New("exempt func"))
			}
			return false
		}))).Get("/exempt", ok)
		return r
	}
	paths := []string{"/key", "/cost", "/limit", "/exempt"}
	t.Run("recoverer", func(t *testing.T) {
		h := build(true)
		for _, p := range paths {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.RemoteAddr = "10.6.0.1:1"
			req.Header.Set("Boom", "1")
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("%s with a panicking function: %d, want 500 from the recovering middleware", p, rec.Code)
			}
			if got, want := statuses(h, "10.6.0.2:1", p, 4), repeat(200, 3, 429, 1); !slices.Equal(got, want) {
				t.Errorf("%s after a panic, another client: %v, want %v", p, got, want)
			}
		}
	})
	t.Run("net/http", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(build(false))
		srv.Config.ErrorLog = newDiscardLog()
		srv.Start()
		defer srv.Close()
		c := srv.Client()
		defer c.CloseIdleConnections()
		for _, p := range paths {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
			req.Header.Set("Boom", "1")
			if resp, err := c.Do(req); err == nil {
				_ = resp.Body.Close()
				t.Errorf("%s with a panicking function: %d, want the connection dropped", p, resp.StatusCode)
			}
			var got []int
			for range 4 {
				resp, err := c.Get(srv.URL + p)
				if err != nil {
					t.Fatalf("%s after a panic: %v", p, err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				got = append(got, resp.StatusCode)
			}
			// The panicking requests were not counted; the same client
			// (same loopback address) still has its limit.
			if want := repeat(200, 3, 429, 1); !slices.Equal(got, want) {
				t.Errorf("%s after a panic: %v, want %v", p, got, want)
			}
			_ = lim.Reset(req.Context())
		}
	})
}

// recoverer500 answers 500 when the handler panics, as
// middleware.Recoverer does, without printing the stack.
func recoverer500(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
