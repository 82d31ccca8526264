// Package examples holds runnable programs, one per section of the
// Flask-Limiter documentation as limits-go implements it. The module is
// never released; its tests (examples_test.go in each directory) start each
// example's handler on httptest and check its 429 responses, and the tests
// in this directory keep README.md in step with the code.
//
// Run one from this directory with go run ./<name>; each listens on
// 127.0.0.1 on the port given by -port (by default a free one, printed
// with a curl line to try):
//
//	quickstart    the quick start; without -serve it shows a burst of requests and exits (make example)
//	keyfuncs      keys per signed-in user and per API key
//	proxy         behind a trusted reverse proxy
//	dynamic       limits read per request from configuration that changes at run time
//	exemptions    exempt routes, ExemptWhen, request filters
//	shared        shared limits, fixed and computed scopes
//	subrouter     limits and exemptions on Route, Group and Mount
//	deductwhen    count only failed logins
//	jsonerrors    a JSON 429 body
//	headers       X-RateLimit-*, Retry-After, IETF RateLimit headers
//	envconfig     RATELIMIT_* environment variables
//	redis         counters in Redis (-storage redis://host:port/db)
//	rediscluster  counters in a Redis Cluster (-storage redis+cluster://h1:p1,h2:p2)
//	memcached     counters in memcached (-storage memcached://host:port)
//	fallback      the in-memory fallback while Redis is down (-redis host:port)
//	strategies    every strategy on the same traffic, drawn to docs/strategies.svg
//	ownstorage    a third-party storage running the conformance suite
package examples
