// Command proxy runs behind one trusted reverse proxy: the key is the
// client address the proxy appended to X-Forwarded-For, not the proxy's own
// address, and addresses a client writes into the header itself are
// ignored.
//
//	go run ./proxy
//	curl -i -H "X-Forwarded-For: 203.0.113.7" http://127.0.0.1:PORT/
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
	return serve.Main(port, h, "/")
}
