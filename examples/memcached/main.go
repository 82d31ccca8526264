// Command memcached keeps its counters in memcached, one server or a pool.
// The storage URI comes from -storage or $RATELIMIT_STORAGE_URI.
//
//	memcached -l 127.0.0.1 -p 11211 &
//	go run ./memcached -storage memcached://127.0.0.1:11211
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	uri := flag.String("storage", serve.Env("RATELIMIT_STORAGE_URI", "memcached://127.0.0.1:11211"), "storage URI (default from $RATELIMIT_STORAGE_URI)")
	flag.Parse()
	if err := run(*port, *uri); err != nil {
		log.Fatal(err)
	}
}

func run(port int, uri string) error {
	h, lim, err := newRouter(uri)
	if err != nil {
		return fmt.Errorf("storage %s: %w", uri, err)
	}
	defer lim.Close()
	return serve.Main(port, h, "/")
}
