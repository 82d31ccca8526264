// Command dynamic reads its limits per request from configuration that can
// change while the server runs: each plan's limit lives in a table that an
// admin endpoint updates, with no restart.
//
//	go run ./dynamic
//	curl -i -H "X-Plan: free" http://127.0.0.1:PORT/api
//	curl -i -X PUT -d "10/minute" http://127.0.0.1:PORT/admin/plans/free
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
	return serve.Main(port, h, "/api", "/admin/plans")
}
