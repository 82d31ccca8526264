// Command envconfig takes its configuration from RATELIMIT_* environment
// variables, the keys of Flask-Limiter, and prints the ones it found.
//
//	RATELIMIT_DEFAULT="3/minute" RATELIMIT_HEADERS_ENABLED=true go run ./envconfig
//	RATELIMIT_STRATEGY=moving-window RATELIMIT_DEFAULT="5 per 10 seconds" go run ./envconfig
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"

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
	var set []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RATELIMIT_") {
			set = append(set, kv)
		}
	}
	sort.Strings(set)
	if len(set) == 0 {
		fmt.Println("no RATELIMIT_* variables set: using the example's defaults (10/minute, headers on)")
	}
	for _, kv := range set {
		fmt.Println("from the environment:", kv)
	}
	h, lim, err := newRouter()
	if err != nil {
		return err
	}
	defer lim.Close()
	return serve.Main(port, h, "/")
}
