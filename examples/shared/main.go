// Command shared counts several routes in one limit: the reports and the
// export both hit an expensive database, so together they may run 2 times a
// minute per client; and every route of a host shares one limit per host.
//
//	go run ./shared
//	curl -i http://127.0.0.1:PORT/report; curl -i http://127.0.0.1:PORT/export
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
	return serve.Main(port, h, "/report", "/export")
}
