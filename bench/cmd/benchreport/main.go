// Command benchreport turns the raw output of the bench module's
// `go test -bench` runs into a Markdown report (medians of the -count runs,
// with the verdict on every target of issue 8) and an SVG bar chart of
// ns/op per library.
//
// Usage:
//
//	benchreport [-in results.txt] [-md RESULTS.md] [-svg results.svg]
//
// The input may hold extra "key: value" lines (date, nproc, cpu-model, go,
// and "module: <path> <version>" lines), which the report prints as the
// run's provenance. The output depends only on the input.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run parses the flags in args, reads the raw output (from stdin when -in
// is "-") and writes the report and the chart.
func run(args []string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "results.txt", "raw go test -bench output, or - for stdin")
	md := fs.String("md", "RESULTS.md", "Markdown report to write")
	svg := fs.String("svg", "results.svg", "SVG chart to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("benchreport: unexpected arguments %q", fs.Args())
	}
	r := stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("benchreport: %w", err)
		}
		defer f.Close()
		r = f
	}
	parsed, err := Parse(r)
	if err != nil {
		return err
	}
	if len(parsed.Results) == 0 {
		return fmt.Errorf("benchreport: no benchmark results in %s", *in)
	}
	var report, chart bytes.Buffer
	if err := WriteMarkdown(&report, parsed); err != nil {
		return err
	}
	if err := WriteSVG(&chart, parsed); err != nil {
		return err
	}
	if err := os.WriteFile(*md, report.Bytes(), 0o644); err != nil {
		return fmt.Errorf("benchreport: %w", err)
	}
	if err := os.WriteFile(*svg, chart.Bytes(), 0o644); err != nil {
		return fmt.Errorf("benchreport: %w", err)
	}
	return nil
}
