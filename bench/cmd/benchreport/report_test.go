package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerdicts(t *testing.T) {
	got := Verdicts(mustParse(t, sampleRaw))
	want := []struct {
		met, known bool
		detail     string
	}{
		// 50 ns vs sethvargo's 90: 0.56×, within 0.8×.
		{met: true, known: true, detail: "all 1 strategy × scenario × mode cells"},
		// +300 ns and +3 allocs against httprate's +500 ns and +10.
		{met: true, known: true, detail: "serial: ours +300 ns, +3 allocs; lowest peer +500 ns (httprate), fewest +10 allocs (httprate)"},
		// token-bucket 1.25× GET and faster than redis_rate; two limits: 2 round trips.
		{met: false, known: true, detail: "missed: http-two-limits serial: 2 round trips"},
		// token-bucket 119.8 ≤ throttled 134.6; sliding-window-counter 181.3 > httprate 37.82.
		{met: false, known: true, detail: "missed: sliding-window-counter 181 B > httprate 37.8 B (token-bucket 120 B vs throttled 135; sliding-window-counter 181 B vs httprate 37.8)"},
	}
	if len(got) != len(want) {
		t.Fatalf("Verdicts returned %d verdicts, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Met != w.met || got[i].Known != w.known || got[i].Detail != w.detail {
			t.Errorf("verdict %d (%s) = met %v known %v %q, want met %v known %v %q",
				i, got[i].Target, got[i].Met, got[i].Known, got[i].Detail, w.met, w.known, w.detail)
		}
	}
}

func TestVerdictsCoreMiss(t *testing.T) {
	raw := "BenchmarkCore/one-key-allowed/serial/limits-go:token-bucket-2 10 85 ns/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-allowed/serial/x-time-rate-2 10 100 ns/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-rejected/serial/limits-go:token-bucket-2 10 500 ns/op 1 allocs/op\n" +
		"BenchmarkCore/one-key-rejected/serial/x-time-rate-2 10 100 ns/op 0 allocs/op\n"
	v := Verdicts(mustParse(t, raw))[0]
	want := "missed in 1 of 1 cells: token-bucket one-key-allowed serial: 0.85× x-time-rate, 0 allocs/op"
	if v.Met || !v.Known || v.Detail != want {
		t.Errorf("core verdict = met %v known %v %q, want missed %q (the rejected scenario is not judged)", v.Met, v.Known, v.Detail, want)
	}
	if v := Verdicts(mustParse(t, raw))[3]; v.Known {
		t.Errorf("memory verdict without memory rows: known, want not measured")
	}
}

func TestVerdictsHTTPAllocsTie(t *testing.T) {
	raw := "BenchmarkHTTP/route-limit/serial/bare-chi-2 10 600 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/route-limit/serial/limits-go:headers-on-2 10 900 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/route-limit/serial/x-time-rate-2 10 1000 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/route-limit/serial/httprate-2 10 1500 ns/op 15 allocs/op\n"
	v := Verdicts(mustParse(t, raw))[1]
	want := "missed (serial allocs (tied at +0)): serial: ours +300 ns, +0 allocs; lowest peer +400 ns (x-time-rate), fewest +0 allocs (x-time-rate)"
	if v.Met || !v.Known || v.Detail != want {
		t.Errorf("HTTP verdict = met %v known %v %q, want missed %q", v.Met, v.Known, v.Detail, want)
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, mustParse(t, sampleRaw)); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| date | 2026-11-27 22:50 UTC |",
		"| github.com/go-chi/httprate | v0.16.1 |",
		"| **limits-go:fixed-window** | 50 | 0.56× | 0 |",
		"| sethvargo | 90 | 1.00× | 0 |",
		"| **limits-go:headers-on** | 1,300 | +300 | 800 | 8 | +3 |",
		"| **limits-go:token-bucket** | 25,000 | 1.25× | 1 | 4 | 27 |",
		"| httprate | sliding-window-counter | 37.8 |",
		"Bare chi itself ran serial from 950 to 1,050 ns/op over 3 runs: overheads that differ by less than that spread are within noise.",
		"| **missed** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestWriteMarkdownWrongAnswers(t *testing.T) {
	raw := "BenchmarkCore/one-key-allowed/parallel/throttled-2 10 200 ns/op 2e-06 wrong/op\n" +
		"BenchmarkCore/one-key-allowed/parallel/throttled-2 10 210 ns/op\n"
	var b bytes.Buffer
	if err := WriteMarkdown(&b, mustParse(t, raw)); err != nil {
		t.Fatal(err)
	}
	want := "throttled (one-key-allowed, parallel) answered some hits wrongly (an error, or a rejection under a limit no run reaches): a median rate of 2e-06 in the runs where it did."
	if !strings.Contains(b.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, b.String())
	}
}

func TestWriteSVG(t *testing.T) {
	run := mustParse(t, sampleRaw)
	var a, b bytes.Buffer
	if err := WriteSVG(&a, run); err != nil {
		t.Fatal(err)
	}
	if err := WriteSVG(&b, mustParse(t, sampleRaw)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two renderings of the same input differ")
	}
	// Well-formed XML with one bar per result that has a value to draw.
	dec := xml.NewDecoder(bytes.NewReader(a.Bytes()))
	rects, fills := 0, map[string]int{}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
			for _, attr := range se.Attr {
				if attr.Name.Local == "fill" {
					fills[attr.Value]++
				}
			}
		}
	}
	// 1 background + 3 legend swatches + 14 bars.
	if rects != 18 {
		t.Errorf("SVG has %d rects, want 18", rects)
	}
	// Ours: fixed-window, headers-on, token-bucket, http-two-limits, and
	// two memory rows; references: bare chi and GET.
	if fills[colourOurs] != 7 || fills[colourReference] != 3 {
		t.Errorf("SVG fills = %v, want 7 %s (6 bars + legend) and 3 %s (2 bars + legend)", fills, colourOurs, colourReference)
	}
	for _, want := range []string{"Core · one-key-allowed · serial", "Memory · 1,000,000 live keys", ">limits-go:fixed-window<", ">37.8<"} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

// The longest bar of a panel spans the whole bar area; others scale
// linearly.
func TestWriteSVGScale(t *testing.T) {
	raw := "BenchmarkCore/s/serial/a-2 10 100 ns/op\nBenchmarkCore/s/serial/b-2 10 25 ns/op\n"
	var b bytes.Buffer
	if err := WriteSVG(&b, mustParse(t, raw)); err != nil {
		t.Fatal(err)
	}
	barMax := chartWidth - (marginX + labelWidth + 8) - valueWidth - marginX
	for _, want := range []string{`width="` + itoa(barMax) + `.0"`, `width="` + itoa(barMax/4) + `.0"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks a bar with %s:\n%s", want, b.String())
		}
	}
}

func itoa(n int) string { return fmtNum(float64(n)) }

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "raw.txt")
	if err := os.WriteFile(in, []byte(sampleRaw), 0o644); err != nil {
		t.Fatal(err)
	}
	md, svg := filepath.Join(dir, "R.md"), filepath.Join(dir, "r.svg")
	var stderr bytes.Buffer
	if err := run([]string{"-in", in, "-md", md, "-svg", svg}, nil, &stderr); err != nil {
		t.Fatalf("run: %v (%s)", err, stderr.String())
	}
	for _, p := range []string{md, svg} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	if err := run([]string{"-in", "-", "-md", md, "-svg", svg}, strings.NewReader("PASS\n"), &stderr); err == nil || !strings.Contains(err.Error(), "no benchmark results") {
		t.Errorf("run on input without results = %v, want a no-results error", err)
	}
	if err := run([]string{"-in", filepath.Join(dir, "missing.txt")}, nil, &stderr); err == nil {
		t.Errorf("run on a missing file succeeded")
	}
}
