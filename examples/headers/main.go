// Command headers shows the rate-limit response headers: X-RateLimit-Limit,
// -Remaining, -Reset, Retry-After on rejections, and the IETF RateLimit and
// RateLimit-Policy fields. -http-date sends Retry-After as an HTTP date
// instead of seconds, and -rename sends RateLimit-Limit, -Remaining and
// -Reset instead of the X-RateLimit-* names.
//
//	go run ./headers
//	go run ./headers -http-date -rename
//	curl -i http://127.0.0.1:PORT/
package main

import (
	"flag"
	"log"

	"github.com/limits-go/limits/chilimit"
	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	httpDate := flag.Bool("http-date", false, "send Retry-After as an HTTP date instead of seconds")
	rename := flag.Bool("rename", false, "send RateLimit-Limit, -Remaining and -Reset instead of X-RateLimit-*")
	flag.Parse()
	if err := run(*port, options(*httpDate, *rename)...); err != nil {
		log.Fatal(err)
	}
}

func run(port int, opts ...chilimit.Option) error {
	h, lim, err := newRouter(opts...)
	if err != nil {
		return err
	}
	defer lim.Close()
	return serve.Main(port, h, try...)
}

// options returns the options of the -http-date and -rename flags.
func options(httpDate, rename bool) []chilimit.Option {
	var opts []chilimit.Option
	if httpDate {
		opts = append(opts, chilimit.WithRetryAfterHTTPDate(true))
	}
	if rename {
		opts = append(opts, chilimit.WithHeaderNames(chilimit.HeaderNames{
			Limit: "RateLimit-Limit", Remaining: "RateLimit-Remaining", Reset: "RateLimit-Reset"}))
	}
	return opts
}

// try are the requests the program prints a curl line for: a path for GET,
// or "METHOD /path".
var try = []string{"/"}
