//go:build !unix

package memcached

import (
	"net"
	"syscall"
)

// rawConn returns nil: the socket is not looked at here, and every
// connection counts as open.
func rawConn(net.Conn) syscall.RawConn { return nil }

// readClosed is never called without a socket.
func (c *checkedConn) readClosed(uintptr) bool { return true }
