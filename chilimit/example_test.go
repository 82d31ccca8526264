package chilimit_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/limiter"
	"github.com/limits-go/limits/storage/memory"
)

// The quick start of Flask-Limiter on chi: default limits of 200 per day
// and 50 per hour; /slow replaces them with 1 per day, /medium adds 1 per
// second to them, /fast has just the defaults and /ping is exempt.
func Example() {
	clock := limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) // for a deterministic output
	lim, err := chilimit.New(
		chilimit.WithKeyFunc(chilimit.RemoteAddr),
		chilimit.WithDefaultLimits("200 per day", "50 per hour"),
		chilimit.WithClock(clock),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1 per day")).Get("/slow", reply(":("))
	r.With(chilimit.Limit("1/second", chilimit.OverrideDefaults(false))).Get("/medium", reply(":|"))
	r.Get("/fast", reply(":)"))
	r.With(chilimit.Exempt).Get("/ping", reply("PONG"))

	for _, path := range []string{"/slow", "/slow", "/medium", "/medium", "/fast", "/ping", "/ping"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, w.Code, w.Body.String())
	}
	// Output:
	// /slow 200 :(
	// /slow 429 1 per 1 day
	// /medium 200 :|
	// /medium 429 1 per 1 second
	// /fast 200 :)
	// /ping 200 PONG
	// /ping 200 PONG
}

func reply(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(s)) }
}

// Limits shared by several routes, a whole sub-router limited, and a
// sub-router exempt.
func ExampleSharedLimit() {
	lim, err := chilimit.New(chilimit.WithDefaultLimits("100/minute"))
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()

	mysql := chilimit.SharedLimit("2/hour", "mysql")
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(mysql).Get("/report", reply("report"))
	r.With(mysql).Get("/export", reply("export"))
	r.Route("/login", func(r chi.Router) {
		r.Use(chilimit.Limit("5/minute"))
		r.Post("/", reply("welcome"))
	})
	r.With(chilimit.Exempt).Mount("/doc", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("doc")) }))

	for _, path := range []string{"/report", "/export", "/report"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, w.Code, w.Body.String())
	}
	// Output:
	// /report 200 report
	// /export 200 export
	// /report 429 2 per 1 hour
}

// A JSON 429 response from an error handler that reads the breached limit.
func ExampleWithErrorHandler() {
	lim, err := chilimit.New(
		chilimit.WithDefaultLimits("1/day"),
		chilimit.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			var rle *chilimit.RateLimitError
			if !errors.As(err, &rle) {
				http.Error(w, "rate limiter unavailable", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "ratelimit exceeded " + rle.Message})
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", reply("ok"))
	for range 2 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		fmt.Print(w.Code, " ", w.Body.String(), "\n")
	}
	// Output:
	// 200 ok
	// 429 {"error":"ratelimit exceeded 1 per 1 day"}
}

// Configuration with the Flask-Limiter keys, here from a map; FromEnv reads
// the process environment. Explicit options win.
func ExampleWithConfigLookup() {
	config := map[string]string{
		"RATELIMIT_DEFAULT":         "1/minute",
		"RATELIMIT_HEADERS_ENABLED": "true",
		"RATELIMIT_STORAGE_URI":     "memory://",
	}
	lim, err := chilimit.New(chilimit.WithConfigLookup(func(k string) (string, bool) {
		v, ok := config[k]
		return v, ok
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", reply("ok"))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, w.Header().Get("X-RateLimit-Limit"), w.Header().Get("X-RateLimit-Remaining"))
	// Output:
	// 200 1 0
}

// Per-user limits from a key function that reads a URL parameter, with a
// custom message, only for POST.
func ExampleLimit() {
	lim, err := chilimit.New()
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	byUser := chilimit.KeyFunc(func(r *http.Request) string { return chi.URLParam(r, "user") })
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(chilimit.Limit("1/hour", byUser, chilimit.Methods("POST"), chilimit.ErrorMessage("one post an hour"))).
		Post("/users/{user}/posts", reply("posted"))
	for _, user := range []string{"ann", "ann", "bob"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("POST", "/users/"+user+"/posts", nil))
		fmt.Println(user, w.Code, w.Body.String())
	}
	// Output:
	// ann 200 posted
	// ann 429 one post an hour
	// bob 200 posted
}

// Behind one reverse proxy of your own, every request arrives from the
// proxy's address, and the client is the address the proxy appended to
// X-Forwarded-For. Entries further left are whatever the client sent, so
// forging one gets it no new bucket.
func ExampleWithTrustedProxies() {
	clock := limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) // for a deterministic output
	lim, err := chilimit.New(
		chilimit.WithTrustedProxies(1),
		chilimit.WithDefaultLimits("1/minute"),
		chilimit.WithClock(clock),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", reply("ok"))

	for _, xff := range []string{"203.0.113.7", "203.0.113.7", "198.51.100.4, 203.0.113.7", "203.0.113.8"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "10.0.0.1:41000" // the proxy
		req.Header.Set("X-Forwarded-For", xff)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Printf("%-26q key %s: %d\n", xff, chilimit.ForwardedFor(1)(req), w.Code)
	}
	// Output:
	// "203.0.113.7"              key 203.0.113.7: 200
	// "203.0.113.7"              key 203.0.113.7: 429
	// "198.51.100.4, 203.0.113.7" key 203.0.113.7: 429
	// "203.0.113.8"              key 203.0.113.8: 200
}

// Behind one proxy that writes the standard Forwarded header, the key is
// the for= address of its element, the last; what the client wrote before
// it is ignored.
func ExampleForwarded() {
	key := chilimit.Forwarded(1)
	for _, fwd := range []string{
		"for=203.0.113.7;proto=https",
		`for=198.51.100.4, for="[2001:DB8::7]:4711";proto=https`,
		"", // not through the proxy: the peer address
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "10.0.0.1:41000" // the proxy
		if fwd != "" {
			req.Header.Set("Forwarded", fwd)
		}
		fmt.Printf("%q: %s\n", fwd, key(req))
	}
	// Output:
	// "for=203.0.113.7;proto=https": 203.0.113.7
	// "for=198.51.100.4, for=\"[2001:DB8::7]:4711\";proto=https": 2001:db8::7
	// "": 10.0.0.1
}

// Behind a proxy that sets X-Real-IP to the client's address (nginx's
// proxy_set_header X-Real-IP $remote_addr), the key is that address.
func ExampleClientIPHeader() {
	lim, err := chilimit.New(
		chilimit.WithKeyFunc(chilimit.ClientIPHeader("X-Real-IP")),
		chilimit.WithDefaultLimits("1/minute"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", reply("ok"))

	for _, ip := range []string{"203.0.113.7", "203.0.113.7", "203.0.113.8"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "10.0.0.1:41000" // the proxy
		req.Header.Set("X-Real-IP", ip)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(ip, w.Code)
	}
	// Output:
	// 203.0.113.7 200
	// 203.0.113.7 429
	// 203.0.113.8 200
}

// While the storage fails, the limiter answers from an in-memory storage
// instead of failing requests, and checks the storage in the background
// until it answers again. The request that meets the failure is counted
// there under the limits it had; the fallback limits apply from the next
// one. Here the storage fails because it is closed, so it never comes back.
func ExampleWithInMemoryFallback() {
	clock := limiter.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) // for a deterministic output
	// In production, a storage shared by every instance, such as Redis.
	store, err := memory.New(memory.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	lim, err := chilimit.New(
		chilimit.WithStorage(store),
		chilimit.WithDefaultLimits("3/minute"),
		chilimit.WithInMemoryFallback("1/minute"),
		chilimit.WithClock(clock),
		chilimit.WithHeaders(true),
		chilimit.WithLogger(slog.New(slog.DiscardHandler)), // it would warn of the switch
	)
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close() // stops the health checks
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.Get("/", reply("ok"))

	get := func() {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		fmt.Println(w.Code, "limit", w.Header().Get("X-RateLimit-Limit"), "remaining", w.Header().Get("X-RateLimit-Remaining"))
	}
	get()
	_ = store.Close() // the storage fails
	get()
	get()
	get()
	// Output:
	// 200 limit 3 remaining 2
	// 200 limit 3 remaining 2
	// 200 limit 1 remaining 0
	// 429 limit 1 remaining 0
}

// Validate catches a malformed route limit before the server starts: on
// its own it is only logged, and its routes fall back to the defaults.
func ExampleLimiter_Validate() {
	lim, err := chilimit.New(chilimit.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer lim.Close()
	r := chi.NewRouter()
	r.Use(lim.Handler)
	r.With(lim.Limit("5/min")).Get("/search", reply("results"))

	if err := lim.Validate(r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// chilimit: invalid configuration: GET /search: route limit "5/min": limiter: parse "5/min": unknown unit "min" at offset 2 (want second, minute, hour, day, month or year)
}
