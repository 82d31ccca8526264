// Package examples holds runnable programs, one per documented feature of
// limits-go. It is never released.
package examples
