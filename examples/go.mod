module github.com/limits-go/limits/examples

go 1.25.0
