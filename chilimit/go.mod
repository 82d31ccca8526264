module github.com/limits-go/limits/chilimit

go 1.25.0
