module github.com/limits-go/limits/conformance

go 1.25.0
