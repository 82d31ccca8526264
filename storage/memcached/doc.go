// Package memcached is the memcached storage for limits-go, built on
// gomemcache, for one server or a pool. It registers the memcached://
// scheme.
package memcached
