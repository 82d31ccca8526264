module github.com/limits-go/limits/storage/redis

go 1.25.0
