// Command redis keeps its counters in Redis, so every instance of the
// application shares them. The storage URI comes from -storage or
// $RATELIMIT_STORAGE_URI.
//
//	redis-server --port 6379 &
//	go run ./redis -storage redis://127.0.0.1:6379/0
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	uri := flag.String("storage", serve.Env("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0"), "storage URI (default from $RATELIMIT_STORAGE_URI)")
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
