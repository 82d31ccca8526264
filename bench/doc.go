// Package bench compares limits-go side by side with other Go rate limiters
// in one benchmark run. It is never released.
package bench
