//go:build !race

package bench_test

// raceEnabled reports a -race build, whose sync.Pool drops items at
// random, so pooled objects are allocated again and allocation counts of
// code that pools do not hold.
const raceEnabled = false
