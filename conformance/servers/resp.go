package servers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// respConn speaks just enough RESP (the Redis protocol) to check readiness,
// join a cluster and query a sentinel, so the package needs no Redis client.
type respConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// respError is an error reply ("-ERR ...") from the server.
type respError string

func (e respError) Error() string { return string(e) }

// dialRESP connects to addr; every command after it must finish within
// timeout.
func dialRESP(addr string, timeout time.Duration) (*respConn, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return nil, err
	}
	return &respConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

func (c *respConn) Close() error { return c.conn.Close() }

// do sends one command and returns its reply: string for simple and bulk
// strings, int64 for integers, nil for a null, []any for arrays, and a
// respError for an error reply.
func (c *respConn) do(args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.conn.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *respConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, respError(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("bad array length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := c.read()
			var re respError
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			if err != nil {
				v = re
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected RESP line %q", line)
}

// infoField returns field from the text of an INFO or CLUSTER INFO reply.
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), field+":"); ok {
			return v
		}
	}
	return ""
}

// redisCommand connects to addr, sends one command and returns its reply.
func redisCommand(addr string, timeout time.Duration, args ...string) (any, error) {
	c, err := dialRESP(addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.do(args...)
}

// pingRedis reports whether the server at addr answers PING with PONG.
func pingRedis(addr string, timeout time.Duration) error {
	v, err := redisCommand(addr, timeout, "PING")
	if err != nil {
		return err
	}
	if v != "PONG" {
		return fmt.Errorf("PING replied %q, want PONG", v)
	}
	return nil
}

// pingMemcached reports whether the server at addr answers "version".
func pingMemcached(addr string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("version\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION ") {
		return fmt.Errorf("version replied %q, want a VERSION line", strings.TrimSpace(line))
	}
	return nil
}

// redisPID returns the process id the Redis (or sentinel) at addr reports.
func redisPID(addr string, timeout time.Duration) (int, error) {
	v, err := redisCommand(addr, timeout, "INFO", "server")
	if err != nil {
		return 0, err
	}
	s, _ := v.(string)
	return strconv.Atoi(infoField(s, "process_id"))
}

// memcachedPID returns the process id the memcached at addr reports.
func memcachedPID(addr string, timeout time.Duration) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	if _, err := conn.Write([]byte("stats\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "STAT pid "); ok {
			return strconv.Atoi(v)
		}
		if line == "END" || strings.HasPrefix(line, "ERROR") {
			return 0, fmt.Errorf("stats: no pid before %q", line)
		}
	}
}
