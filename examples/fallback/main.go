// Command fallback keeps limiting when Redis dies: while the storage fails,
// an in-memory storage with limits of its own takes over, and health checks
// switch back once Redis answers again. Stop and restart the redis-server
// while sending requests to see it.
//
//	redis-server --port 6379 &
//	go run ./fallback -redis 127.0.0.1:6379
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	addr := flag.String("redis", serve.Env("REDIS_ADDR", "127.0.0.1:6379"), "Redis address host:port (default from $REDIS_ADDR)")
	flag.Parse()
	if err := run(*port, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(port int, addr string) error {
	h, lim, store, err := newRouter(addr)
	if err != nil {
		return fmt.Errorf("redis at %s: %w", addr, err)
	}
	defer store.Close()
	defer lim.Close()
	return serve.Main(port, h, "/")
}
