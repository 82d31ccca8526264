package main

import (
	"strings"
	"testing"
)

const sampleRaw = `date: 2026-11-27 22:50 UTC
nproc: 2
module: github.com/go-chi/httprate v0.16.1
goos: linux
goarch: amd64
pkg: github.com/limits-go/limits/bench
cpu: AMD EPYC
BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2    1000  40.0 ns/op  0 mallocB/op  0 mallocs  0 mallocs/op  0 B/op  0 allocs/op
BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2    1000  60.0 ns/op  0 mallocB/op  0 mallocs  0 mallocs/op  0 B/op  0 allocs/op
BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2    1000  50.0 ns/op  0 mallocB/op  0 mallocs  0 mallocs/op  0 B/op  0 allocs/op
BenchmarkCore/one-key-allowed/serial/sethvargo-2                 1000  100 ns/op   0 mallocB/op  0 mallocs  0 mallocs/op  0 B/op  0 allocs/op
BenchmarkCore/one-key-allowed/serial/sethvargo-2                 1000  80 ns/op    0 mallocB/op  0 mallocs  0 mallocs/op  0 B/op  0 allocs/op
BenchmarkCore/one-key-allowed/serial/ulule-2                     1000  300 ns/op   88.00 mallocB/op  2000 mallocs  2.000 mallocs/op  88 B/op 2 allocs/op
BenchmarkHTTP/one-client/serial/bare-chi-2               500  1000 ns/op  706.0 mallocB/op  2500 mallocs  5.000 mallocs/op  706 B/op  5 allocs/op
BenchmarkHTTP/one-client/serial/bare-chi-2               500  1050 ns/op  706.0 mallocB/op  2500 mallocs  5.000 mallocs/op  706 B/op  5 allocs/op
BenchmarkHTTP/one-client/serial/bare-chi-2               500  950 ns/op   706.0 mallocB/op  2500 mallocs  5.000 mallocs/op  706 B/op  5 allocs/op
BenchmarkHTTP/one-client/serial/limits-go:headers-on-2   500  1300 ns/op  800.0 mallocB/op  4020 mallocs  8.040 mallocs/op  800 B/op  8 allocs/op
BenchmarkHTTP/one-client/serial/httprate-2               500  1500 ns/op  900.0 mallocB/op  7500 mallocs  15.00 mallocs/op  900 B/op  15 allocs/op
BenchmarkHTTP/10000-clients/serial/bare-chi-2            500  1000 ns/op  706.0 mallocB/op  2500 mallocs  5.000 mallocs/op  706 B/op  5 allocs/op
BenchmarkHTTP/10000-clients/serial/limits-go:headers-on-2  500  1400 ns/op  850.0 mallocB/op  3000 mallocs  6.000 mallocs/op  850 B/op  6 allocs/op
BenchmarkHTTP/10000-clients/serial/httprate-2            500  1300 ns/op  900.0 mallocB/op  7500 mallocs  15.00 mallocs/op  900 B/op  15 allocs/op
BenchmarkRedis/one-key-allowed/serial/get-floor-2       100  20000 ns/op  1.000 cmds/op  1.000 rtt/op  472 B/op  27 allocs/op
BenchmarkRedis/one-key-allowed/serial/limits-go:token-bucket-2  100  25000 ns/op  4.000 cmds/op  1.000 rtt/op  1360 B/op  27 allocs/op
BenchmarkRedis/one-key-allowed/serial/limits-go:http-two-limits-2  100  90000 ns/op  8.000 cmds/op  2.000 rtt/op  9000 B/op  71 allocs/op
BenchmarkRedis/one-key-allowed/serial/bare-chi-2        100  500 ns/op  0 cmds/op  0 rtt/op  706 B/op  5 allocs/op
BenchmarkRedis/one-key-allowed/serial/redis_rate-2      100  30000 ns/op  4.000 cmds/op  1.000 rtt/op  752 B/op  22 allocs/op
BenchmarkRedis/one-key-allowed/serial/throttled-2       	--- FAIL: BenchmarkRedis/one-key-allowed/serial/throttled-2
    redis_test.go:242: throttled: 1 hits rejected or failed
BenchmarkMemory/1000000-keys/heap/limits-go:token-bucket-2  1  7100949221 ns/op  119.8 B/key
BenchmarkMemory/1000000-keys/heap/throttled-2               1  7100949221 ns/op  134.6 B/key
BenchmarkMemory/1000000-keys/heap/limits-go:sliding-window-counter-2  1  7100949221 ns/op  181.3 B/key
BenchmarkMemory/1000000-keys/heap/httprate-2                1  7100949221 ns/op  37.82 B/key
PASS
ok  	github.com/limits-go/limits/bench	12.3s
`

func mustParse(t *testing.T, raw string) *Run {
	t.Helper()
	run, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return run
}

func TestParse(t *testing.T) {
	run := mustParse(t, sampleRaw)
	if got, want := len(run.Results), 18; got != want {
		t.Fatalf("Parse found %d results, want %d: %+v", got, want, run.Results)
	}
	for k, want := range map[string]string{"date": "2026-11-27 22:50 UTC", "nproc": "2", "cpu": "AMD EPYC", "goos": "linux"} {
		if got := run.Config[k]; got != want {
			t.Errorf("Config[%q] = %q, want %q", k, got, want)
		}
	}
	if len(run.Modules) != 1 || run.Modules[0] != "github.com/go-chi/httprate v0.16.1" {
		t.Errorf("Modules = %q, want the httprate line", run.Modules)
	}
	tests := []struct {
		group, scenario, mode, library string
		unit                           string
		want                           float64
		runs                           int
	}{
		{"Core", "one-key-allowed", "serial", "limits-go:fixed-window", "ns/op", 50, 3}, // median of 40, 60, 50
		{"Core", "one-key-allowed", "serial", "sethvargo", "ns/op", 90, 2},              // mean of the two middle values
		{"Core", "one-key-allowed", "serial", "ulule", "allocs/op", 2, 1},
		{"Core", "one-key-allowed", "serial", "ulule", "mallocs/op", 2, 1},
		{"HTTP", "one-client", "serial", "limits-go:headers-on", "mallocs/op", 8.04, 1},
		{"Redis", "one-key-allowed", "serial", "limits-go:http-two-limits", "rtt/op", 2, 1},
		{"Redis", "one-key-allowed", "serial", "get-floor", "cmds/op", 1, 1},
		{"Memory", "1000000-keys", "heap", "httprate", "B/key", 37.82, 1},
	}
	for _, tt := range tests {
		r, ok := run.Find(tt.group, tt.scenario, tt.mode, tt.library)
		if !ok {
			t.Errorf("Find(%s/%s/%s/%s) found nothing", tt.group, tt.scenario, tt.mode, tt.library)
			continue
		}
		if got, _ := r.Metric(tt.unit); got != tt.want {
			t.Errorf("%s %s = %v, want %v", r.Name, tt.unit, got, tt.want)
		}
		if r.Runs != tt.runs {
			t.Errorf("%s Runs = %d, want %d", r.Name, r.Runs, tt.runs)
		}
	}
	if r, _ := run.Find("Core", "one-key-allowed", "serial", "limits-go:fixed-window"); r.Min["ns/op"] != 40 || r.Max["ns/op"] != 60 {
		t.Errorf("fixed-window ns/op range = %v to %v, want 40 to 60", r.Min["ns/op"], r.Max["ns/op"])
	}
	if _, ok := run.Find("Redis", "one-key-allowed", "serial", "throttled"); ok {
		t.Errorf("a failed benchmark's line gave a result")
	}
}

// mallocs/op comes from the total and the iterations where a line has
// both: testing prints a metric with four significant digits.
func TestParseExactMallocs(t *testing.T) {
	raw := "BenchmarkCore/s/serial/a-2  3000000  10 ns/op  0.0000003 mallocs/op  1.000 mallocs\n" +
		"BenchmarkCore/s/serial/b-2  3  10 ns/op  0.3333 mallocs/op\n"
	run := mustParse(t, raw)
	for lib, want := range map[string]float64{"a": 1.0 / 3000000, "b": 0.3333} {
		r, _ := run.Find("Core", "s", "serial", lib)
		if got := r.Metrics["mallocs/op"]; got != want {
			t.Errorf("%s mallocs/op = %v, want %v", lib, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, raw := range []string{
		"BenchmarkCore/a/b/c-2  10  12 ns/op  0\n",         // a value without a unit
		"BenchmarkCore/a/b/c-2  10  x ns/op\n",             // a value that is not a number
		"BenchmarkCore/a/b-2  10  12 ns/op\n",              // too few name elements
		"ok\nBenchmarkCore//b/c-2  10  12 ns/op\n",         // an empty element
		"PASS\n\nBenchmarkCore/a/b/c-2  10  12 ns/op  3\n", // odd fields again, on line 3
	} {
		if _, err := Parse(strings.NewReader(raw)); err == nil || !strings.Contains(err.Error(), "benchreport: line ") {
			t.Errorf("Parse(%q) = %v, want an error naming the line", raw, err)
		}
	}
}

func TestTrimProcs(t *testing.T) {
	for in, want := range map[string]string{
		"Core/a/serial/x-2":                    "Core/a/serial/x",
		"Core/a/serial/x-16":                   "Core/a/serial/x",
		"Core/a/serial/limits-go:fixed-window": "Core/a/serial/limits-go:fixed-window",
		"Core/10000-keys/serial/x":             "Core/10000-keys/serial/x",
		"Core/a/serial/x-":                     "Core/a/serial/x-",
	} {
		if got := trimProcs(in); got != want {
			t.Errorf("trimProcs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := append([]float64(nil), tt.in...)
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Errorf("Median(%v) reordered its argument to %v", in, tt.in)
				break
			}
		}
	}
}
