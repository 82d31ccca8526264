// Command exemptions shows the ways around the limits: an exempt route, a
// limit skipped for some requests, and a request filter (an allow list).
//
//	go run ./exemptions
//	curl -i http://127.0.0.1:PORT/reports
//	curl -i -H "X-Internal-Token: let-me-in" http://127.0.0.1:PORT/reports
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
	return serve.Main(port, h, "/reports", "/health")
}
