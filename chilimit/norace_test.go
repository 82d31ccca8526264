//go:build !race

package chilimit_test

// raceEnabled reports a -race build: allocation counts do not hold in one.
const raceEnabled = false
