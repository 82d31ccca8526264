module github.com/limits-go/limits/reliability

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/limits-go/limits/chilimit v0.0.0
	github.com/limits-go/limits/limiter v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/limits-go/limits/storage/memory v0.0.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)

replace (
	github.com/limits-go/limits/chilimit => ../chilimit
	github.com/limits-go/limits/conformance => ../conformance
	github.com/limits-go/limits/limiter => ../limiter
	github.com/limits-go/limits/storage/memcached => ../storage/memcached
	github.com/limits-go/limits/storage/memory => ../storage/memory
	github.com/limits-go/limits/storage/redis => ../storage/redis
)
