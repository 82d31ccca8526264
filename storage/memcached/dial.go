package memcached

import (
	"context"
	"net"
	"syscall"
	"time"
)

// DialFunc is the type of memcache.Client's DialContext field.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Dialer returns a DialFunc for memcache.Client.DialContext whose
// connections, when gomemcache takes one from its idle list to send a
// command, first check that the server has not closed it, and connect
// again before sending anything if it has. Without it, every connection
// left idle when memcached restarts (up to MaxIdleConns per server) fails
// the next call made on it, once; a hit cannot be retried blindly, since
// it may have counted. With it, the first calls after a restart succeed.
//
// dial makes the connections; nil means a net.Dialer. The check reads the
// socket without blocking (one system call per command sent on a reused
// connection) and only sees a close the server's host reported, not a
// host that vanished; it is made on Unix systems, for TCP and Unix
// sockets, also under TLS, and elsewhere connections are used unchecked.
// Clients that [limiter.Open] creates use it already.
func Dialer(dial DialFunc) DialFunc {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		cc := &checkedConn{dial: dial, network: network, address: address}
		cc.check = cc.readClosed
		cc.use(c)
		return cc, nil
	}
}

// checkedConn is a connection of Dialer's. gomemcache sends a command, then
// reads its whole reply, on one connection at a time, so a write after a
// read starts a new command: the moment to check the connection, and to
// replace it, since nothing of that command has gone out and nothing of a
// reply is left to read.
type checkedConn struct {
	net.Conn
	// raw is Conn's socket, nil if it cannot be checked; check is
	// c.readClosed, bound once so that a check allocates nothing, and
	// closed its answer.
	raw              syscall.RawConn
	check            func(fd uintptr) bool
	closed           bool
	dial             DialFunc
	network, address string
	// replied is set by a read: the next write starts a command.
	replied bool
	// The deadlines set on Conn, to give its replacement.
	readDeadline, writeDeadline time.Time
}

func (c *checkedConn) Read(p []byte) (int, error) {
	c.replied = true
	return c.Conn.Read(p)
}

func (c *checkedConn) Write(p []byte) (int, error) {
	if c.replied {
		c.replied = false
		if c.closedByPeer() {
			if err := c.redial(); err != nil {
				return 0, err
			}
		}
	}
	return c.Conn.Write(p)
}

// redial replaces Conn with a new connection to the same address, within
// the write deadline gomemcache set for the command.
func (c *checkedConn) redial() error {
	ctx := context.Background()
	if !c.writeDeadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, c.writeDeadline)
		defer cancel()
	}
	nc, err := c.dial(ctx, c.network, c.address)
	if err != nil {
		return err
	}
	if err := nc.SetReadDeadline(c.readDeadline); err != nil {
		nc.Close()
		return err
	}
	if err := nc.SetWriteDeadline(c.writeDeadline); err != nil {
		nc.Close()
		return err
	}
	c.Conn.Close()
	c.use(nc)
	return nil
}

// use makes nc the connection.
func (c *checkedConn) use(nc net.Conn) {
	c.Conn, c.raw = nc, rawConn(nc)
}

// closedByPeer reports whether the server has closed the connection, or
// sent something while no command was pending, which leaves it unusable
// all the same. A connection that cannot be checked counts as open.
func (c *checkedConn) closedByPeer() bool {
	if c.raw == nil {
		return false
	}
	c.closed = false
	if err := c.raw.Read(c.check); err != nil {
		return true
	}
	return c.closed
}

func (c *checkedConn) SetDeadline(t time.Time) error {
	c.readDeadline, c.writeDeadline = t, t
	return c.Conn.SetDeadline(t)
}

func (c *checkedConn) SetReadDeadline(t time.Time) error {
	c.readDeadline = t
	return c.Conn.SetReadDeadline(t)
}

func (c *checkedConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline = t
	return c.Conn.SetWriteDeadline(t)
}
