// Command jsonerrors answers rejected requests with JSON instead of the
// default text: an error handler renders the breached limit, and one route
// has its own message.
//
//	go run ./jsonerrors
//	curl -i http://127.0.0.1:PORT/api/items
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
	return serve.Main(port, h, try...)
}

// try are the requests the program prints a curl line for: a path for GET,
// or "METHOD /path".
var try = []string{"/api/items", "POST /api/upload"}
