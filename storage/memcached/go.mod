module github.com/limits-go/limits/storage/memcached

go 1.25.0
