// Command headers shows the rate-limit response headers: X-RateLimit-Limit,
// -Remaining, -Reset, Retry-After on rejections, and the IETF RateLimit and
// RateLimit-Policy fields.
//
//	go run ./headers
//	curl -i http://127.0.0.1:PORT/
package main

import (
	"flag"
	"log"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	flag.Parse()
	if err := run(*port); err != nil {
		log.Fatal(err)
	}
}

func run(port int) error {
	h, lim, err := newRouter()
	if err != nil {
		return err
	}
	defer lim.Close()
	return serve.Main(port, h, "/", "/renamed")
}
