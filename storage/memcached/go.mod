module github.com/limits-go/limits/storage/memcached

go 1.25.0

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/limits-go/limits/limiter v0.0.0
	go.uber.org/goleak v1.3.0
)

replace github.com/limits-go/limits/limiter => ../../limiter
