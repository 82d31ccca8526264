module github.com/limits-go/limits/chilimit

go 1.25.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/limits-go/limits/limiter v0.0.0
	github.com/limits-go/limits/storage/memory v0.0.0
	go.uber.org/goleak v1.3.0
)

replace (
	github.com/limits-go/limits/conformance => ../conformance
	github.com/limits-go/limits/limiter => ../limiter
	github.com/limits-go/limits/storage/memory => ../storage/memory
)
