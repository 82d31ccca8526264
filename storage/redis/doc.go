// Package redis is the Redis storage for limits-go, built on go-redis v9:
// standalone, TLS, unix socket, Cluster and Sentinel. Every hit is one Lua
// script, one round trip. It registers the redis://, rediss://,
// redis+unix://, redis+cluster:// and redis+sentinel:// schemes.
package redis
