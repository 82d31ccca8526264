// Command deductwhen counts only the requests that fail: a login route
// allows 3 failed attempts a minute, and successful logins count only
// against a cap of 10 attempts a minute, which also bounds attempts sent
// at once.
//
//	go run ./deductwhen
//	curl -i -X POST -d "password=wrong" http://127.0.0.1:PORT/login
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
var try = []string{"POST /login"}
