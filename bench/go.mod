module github.com/limits-go/limits/bench

go 1.25.0
