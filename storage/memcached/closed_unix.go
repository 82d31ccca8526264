//go:build unix

package memcached

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns the socket under c, TLS included, or nil.
func rawConn(c net.Conn) syscall.RawConn {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// readClosed reads the socket fd without blocking (Go keeps sockets
// non-blocking) and sets c.closed unless nothing is there to read. It
// never asks to wait for the socket to become readable.
func (c *checkedConn) readClosed(fd uintptr) bool {
	var b [1]byte
	_, err := syscall.Read(int(fd), b[:])
	// No error is end of file (0 bytes) or a byte no command asked for;
	// EAGAIN is nothing to read: open. An interrupted read tells nothing
	// either way.
	c.closed = err == nil || !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
	return true
}
