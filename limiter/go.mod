module github.com/limits-go/limits/limiter

go 1.25.0
