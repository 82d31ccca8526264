// Package memory is the in-process storage for limits-go: every strategy and
// capability, sharded for concurrency, with a background sweeper that
// reclaims expired keys. It is the embedded default of chilimit and
// registers the memory:// scheme.
package memory
