// Package bench compares limits-go side by side with other Go rate limiters
// (go-chi/httprate, ulule/limiter, sethvargo/go-limiter, throttled,
// golang.org/x/time/rate and go-redis/redis_rate) in one benchmark run. It
// is a separate module, never released, so the peers' dependencies stay out
// of what users import.
//
// The benchmarks drive the same scenarios through every library: one
// in-process decision (BenchmarkCore), a whole request through a chi router
// (BenchmarkHTTP), a hit on a local Redis (BenchmarkRedis) and heap per live
// key (BenchmarkMemory). Every benchmark reports, beside testing's truncated
// allocs/op, the exact allocations of its timed loop as mallocs/op. The tests
// assert what must hold on any machine, by counting rather than timing:
// allocations per decision and per request (exactly, from runtime.MemStats),
// and Redis round trips per hit and per request.
//
// In this directory, make results runs everything and writes results.txt,
// RESULTS.md and results.svg through cmd/benchreport; README.md explains
// the scenarios and judges the results.
package bench
