// Command keyfuncs limits by something other than the client address: by
// the signed-in user (a key function reading what an authentication
// middleware put in the context) and by an API key header.
//
//	go run ./keyfuncs
//	curl -i -H "Authorization: Bearer ann" http://127.0.0.1:PORT/me
//	curl -i -H "X-API-Key: k1" http://127.0.0.1:PORT/search
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
	return serve.Main(port, h, "/me", "/search")
}
