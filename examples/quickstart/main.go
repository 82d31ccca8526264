// Command quickstart is Flask-Limiter's quick start on chi, over the
// in-memory storage. By default it starts the server on a free port on
// 127.0.0.1, sends a short burst of requests to show which are allowed and
// which get 429 Too Many Requests, and exits; with -serve it keeps serving
// until Ctrl-C so you can try it with curl.
//
//	go run ./quickstart          # the demo
//	go run ./quickstart -serve   # keep serving
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/limits-go/limits/examples/internal/serve"
)

func main() {
	port := serve.Port()
	keep := flag.Bool("serve", false, "keep serving after the demo until Ctrl-C")
	flag.Parse()
	if err := run(*port, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(port int, keep bool) error {
	h, lim, err := newRouter()
	if err != nil {
		return err
	}
	defer lim.Close()
	ln, err := serve.Listen(port)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serve.Announce(os.Stdout, ln, "/medium")
	if keep {
		fmt.Println("serving until Ctrl-C")
		return serve.Serve(ctx, ln, h)
	}
	// Serve in the background while the demo sends its burst, then stop.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve.Serve(ctx, ln, h) }()
	fmt.Println()
	err = demo(os.Stdout, &http.Client{Timeout: 5 * time.Second}, "http://"+ln.Addr().String(), time.Sleep)
	cancel()
	if serveErr := <-served; err == nil {
		err = serveErr
	}
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("That was the in-memory storage with the fixed-window strategy. To keep the")
	fmt.Println("server up and try it with curl: cd examples && go run ./quickstart -serve")
	return nil
}
