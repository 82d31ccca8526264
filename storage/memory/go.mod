module github.com/limits-go/limits/storage/memory

go 1.25.0

require (
	github.com/limits-go/limits/conformance v0.0.0
	github.com/limits-go/limits/limiter v0.0.0
	go.uber.org/goleak v1.3.0
)

replace (
	github.com/limits-go/limits/conformance => ../../conformance
	github.com/limits-go/limits/limiter => ../../limiter
)
