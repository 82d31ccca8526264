module github.com/limits-go/limits/reliability

go 1.25.0
