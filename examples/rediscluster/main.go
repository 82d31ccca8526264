// Command rediscluster keeps its counters in a Redis Cluster: list some of
// its nodes in a redis+cluster:// URI (-storage or $RATELIMIT_STORAGE_URI);
// the client finds the rest.
//
//	go run ./rediscluster -storage redis+cluster://127.0.0.1:7000,127.0.0.1:7001
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	uri := flag.String("storage", serve.Env("RATELIMIT_STORAGE_URI", "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"), "storage URI (default from $RATELIMIT_STORAGE_URI)")
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
