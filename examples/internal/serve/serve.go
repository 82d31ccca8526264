// Package serve runs the examples' HTTP servers: on the loopback interface
// only, on a port the user picks or the operating system chooses, printing
// the address and a curl line to try.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Port registers the -port flag every example takes: the TCP port to listen
// on at 127.0.0.1. The default, 0, lets the operating system choose a free
// one, which the example prints.
func Port() *int {
	return flag.Int("port", 0, "TCP port to listen on at 127.0.0.1 (0: a free port chosen by the system)")
}

// Env returns the environment variable key if it is set and not empty,
// else def: the default of a flag that the environment may preset.
func Env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Listen opens a listener on 127.0.0.1:port; port 0 picks a free port.
// It never listens on every interface: the examples are for trying out on
// one machine.
func Listen(port int) (net.Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("serve: port %d out of range 0-65535", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("serve: listen on 127.0.0.1:%d: %w", port, err)
	}
	return ln, nil
}

// Announce prints to w the URL ln listens on and a curl command for each
// request in try: a path, for GET, or "METHOD /path".
func Announce(w io.Writer, ln net.Listener, try ...string) {
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(w, "listening on %s\n", base)
	for _, req := range try {
		method, path, ok := strings.Cut(req, " ")
		if !ok {
			method, path = http.MethodGet, req
		}
		if method == http.MethodGet {
			fmt.Fprintf(w, "try: curl -i %s%s\n", base, path)
		} else {
			fmt.Fprintf(w, "try: curl -i -X %s %s%s\n", method, base, path)
		}
	}
}

// Serve serves h on ln until ctx ends, then shuts the server down, giving
// requests in flight a second to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("serve: shut down: %w", err)
	}
	return nil
}

// Main is what an example's main function does with its handler: listen on
// 127.0.0.1:port, print where and what to try, and serve until Ctrl-C or
// SIGTERM.
func Main(port int, h http.Handler, try ...string) error {
	ln, err := Listen(port)
	if err != nil {
		return err
	}
	Announce(os.Stdout, ln, try...)
	fmt.Println("serving until Ctrl-C")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, ln, h)
}
