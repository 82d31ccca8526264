package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A Run is the parsed raw output of one or more `go test -bench` runs: the
// configuration lines ("key: value") and the medians and ranges of every
// benchmark.
type Run struct {
	// Config holds the last value of every "key: value" line except module
	// lines (goos, cpu, date, nproc, go, …).
	Config map[string]string
	// Modules lists the "module: <path> <version>" lines in order.
	Modules []string
	// Results holds one entry per benchmark name, in order of first
	// appearance.
	Results []Result
	// Failed lists the benchmarks that reported "--- FAIL", in order, without
	// "Benchmark" and -GOMAXPROCS, leaving out a parent whose sub-benchmark is
	// listed. A failed run prints no result line, so its medians come from
	// fewer runs, or it has none.
	Failed []string
}

// A Result is one benchmark's medians and ranges over its runs. Names have
// the shape <Group>/<scenario>/<mode>/<library>, where the library may itself
// contain slashes; the trailing -GOMAXPROCS is removed.
type Result struct {
	Name                           string
	Group, Scenario, Mode, Library string
	// Runs is how many lines (-count runs) the medians come from.
	Runs int
	// Metrics maps a unit ("ns/op", "B/op", "allocs/op", "mallocs/op",
	// "rtt/op", …) to the median of its values.
	Metrics map[string]float64
	// Min and Max map each unit to its smallest and largest value over the
	// runs: how far the medians can be trusted.
	Min, Max map[string]float64
}

// Metric returns the median of unit and whether the benchmark reported it.
func (r Result) Metric(unit string) (float64, bool) {
	v, ok := r.Metrics[unit]
	return v, ok
}

// Parse reads raw `go test -bench` output. Lines that are neither benchmark
// results nor "key: value" configuration (PASS, ok, test logs) are skipped;
// a benchmark line that cannot be read is an error naming its line number.
func Parse(r io.Reader) (*Run, error) {
	run := &Run{Config: map[string]string{}}
	samples := map[string]map[string][]float64{}
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if _, failed, ok := strings.Cut(text, "--- FAIL: Benchmark"); ok {
			if f := strings.Fields(failed); len(f) > 0 {
				if name := trimProcs(f[0]); !slices.Contains(run.Failed, name) {
					run.Failed = append(run.Failed, name)
				}
			}
			continue
		}
		if strings.HasPrefix(text, "Benchmark") {
			name, metrics, err := parseBenchLine(text)
			if err != nil {
				return nil, fmt.Errorf("benchreport: line %d: %w", line, err)
			}
			if metrics == nil {
				continue // a benchmark that printed only its name (it failed or was skipped)
			}
			i, seen := index[name]
			if !seen {
				res, err := splitName(name)
				if err != nil {
					return nil, fmt.Errorf("benchreport: line %d: %w", line, err)
				}
				i = len(run.Results)
				index[name] = i
				run.Results = append(run.Results, res)
				samples[name] = map[string][]float64{}
			}
			run.Results[i].Runs++
			for unit, v := range metrics {
				samples[name][unit] = append(samples[name][unit], v)
			}
			continue
		}
		key, value, ok := strings.Cut(text, ": ")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		if key == "module" {
			if !slices.Contains(run.Modules, value) {
				run.Modules = append(run.Modules, value)
			}
			continue
		}
		run.Config[key] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchreport: read: %w", err)
	}
	// A sub-benchmark's failure fails its parents too: keep the most
	// specific names.
	run.Failed = slices.DeleteFunc(run.Failed, func(parent string) bool {
		return slices.ContainsFunc(run.Failed, func(f string) bool { return strings.HasPrefix(f, parent+"/") })
	})
	for i := range run.Results {
		res := &run.Results[i]
		res.Metrics = map[string]float64{}
		res.Min = map[string]float64{}
		res.Max = map[string]float64{}
		for unit, vs := range samples[res.Name] {
			res.Metrics[unit] = Median(vs)
			res.Min[unit] = slices.Min(vs)
			res.Max[unit] = slices.Max(vs)
		}
	}
	return run, nil
}

// parseBenchLine reads "BenchmarkX/y-2  100  12.5 ns/op  0 B/op ...": the
// name without "Benchmark" and its -GOMAXPROCS suffix, and each unit's
// value, with mallocs/op recomputed from the total "mallocs" and the
// iterations when the line has both. A line with a name and nothing else
// gives nil metrics.
func parseBenchLine(text string) (string, map[string]float64, error) {
	fields := strings.Fields(text)
	name := trimProcs(strings.TrimPrefix(fields[0], "Benchmark"))
	if len(fields) == 1 {
		return name, nil, nil
	}
	iterations, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		// Not a result line, e.g. a log line starting with the name.
		return name, nil, nil
	}
	rest := fields[2:]
	if len(rest)%2 != 0 {
		return "", nil, fmt.Errorf("benchmark %s: odd number of value/unit fields in %q", name, text)
	}
	metrics := make(map[string]float64, len(rest)/2)
	for i := 0; i < len(rest); i += 2 {
		v, err := strconv.ParseFloat(rest[i], 64)
		if err != nil {
			return "", nil, fmt.Errorf("benchmark %s: value %q of %s: %w", name, rest[i], rest[i+1], err)
		}
		metrics[rest[i+1]] = v
	}
	// testing prints a metric with four significant digits; the total
	// count, where a benchmark reports it, gives mallocs/op exactly.
	if total, ok := metrics[unitMallocsTotal]; ok && iterations > 0 {
		metrics[unitMallocs] = total / float64(iterations)
	}
	return name, metrics, nil
}

// trimProcs removes the "-N" suffix go test appends for GOMAXPROCS N > 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// splitName splits Group/scenario/mode/library.
func splitName(name string) (Result, error) {
	parts := strings.SplitN(name, "/", 4)
	if len(parts) != 4 || slices.Contains(parts, "") {
		return Result{}, fmt.Errorf("benchmark %q: want Group/scenario/mode/library", name)
	}
	return Result{Name: name, Group: parts[0], Scenario: parts[1], Mode: parts[2], Library: parts[3]}, nil
}

// Median returns the middle value of vs (the mean of the two middle ones
// for an even count), or 0 for none. vs is not modified.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Find returns the result of group/scenario/mode/library.
func (run *Run) Find(group, scenario, mode, library string) (Result, bool) {
	for _, r := range run.Results {
		if r.Group == group && r.Scenario == scenario && r.Mode == mode && r.Library == library {
			return r, true
		}
	}
	return Result{}, false
}

// Select returns the results of group, in order.
func (run *Run) Select(group string) []Result {
	var out []Result
	for _, r := range run.Results {
		if r.Group == group {
			out = append(out, r)
		}
	}
	return out
}

// distinct returns the distinct values of field over rs, in order of first
// appearance.
func distinct(rs []Result, field func(Result) string) []string {
	var out []string
	for _, r := range rs {
		if v := field(r); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
