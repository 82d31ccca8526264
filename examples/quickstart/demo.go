package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// routes explains the quick start's limits, in the order the demo visits
// the routes.
const routes = `The routes (default limits: 200 per day and 50 per hour, per client address):
  /slow    1 per day, instead of the defaults
  /medium  1 per second, on top of the defaults
  /fast    the defaults only
  /ping    exempt from every limit
`

// burst is the demo's traffic: each step either sends a request or waits.
var burst = []struct {
	path string
	wait time.Duration
}{
	{path: "/slow"}, {path: "/slow"},
	{path: "/medium"}, {path: "/medium"},
	{wait: time.Second},
	{path: "/medium"},
	{path: "/fast"}, {path: "/fast"}, {path: "/fast"},
	{path: "/ping"}, {path: "/ping"},
}

// demo sends the burst to the server at base and prints each response's
// status, body and rate-limit headers. sleep waits between steps: time.Sleep
// for real, a manual clock's Advance in tests.
func demo(w io.Writer, client *http.Client, base string, sleep func(time.Duration)) error {
	fmt.Fprint(w, routes)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A burst of requests:")
	for _, step := range burst {
		if step.wait > 0 {
			fmt.Fprintf(w, "  ... waiting %v for /medium's 1-second window to pass\n", step.wait)
			sleep(step.wait)
			continue
		}
		resp, err := client.Get(base + step.path)
		if err != nil {
			return fmt.Errorf("quickstart: GET %s: %w", step.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return fmt.Errorf("quickstart: GET %s: read body: %w", step.path, err)
		}
		fmt.Fprintf(w, "  GET %-8s %d %-18s %-17q%s\n", step.path, resp.StatusCode,
			http.StatusText(resp.StatusCode), strings.TrimSpace(string(body)), headers(resp.Header))
	}
	return nil
}

// headers renders the rate-limit headers a response carries.
func headers(h http.Header) string {
	var parts []string
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After"} {
		if v := h.Get(name); v != "" {
			parts = append(parts, name+": "+v)
		}
	}
	if len(parts) == 0 {
		return "(no rate-limit headers: exempt)"
	}
	return strings.Join(parts, "  ")
}
