module github.com/limits-go/limits/storage/memory

go 1.25.0
