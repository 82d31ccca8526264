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
		// One client: +300 ns and +3.04 mallocs against httprate's +500 ns
		// and +10. 10,000 clients: +400 ns against httprate's +300.
		{met: false, known: true, detail: "missed (10000-clients serial overhead +400 > +300 ns): " +
			"one-client serial: ours +300 ns, +3.04 mallocs; lowest peer +500 ns (httprate), fewest +10 mallocs (httprate); " +
			"10000-clients serial: ours +400 ns, +1 mallocs; lowest peer +300 ns (httprate), fewest +10 mallocs (httprate)"},
		// token-bucket 1.25× GET and faster than redis_rate; two limits: 2
		// round trips; throttled failed.
		{met: false, known: true, detail: "Redis/one-key-allowed/serial/throttled failed, so this run cannot show the target met; over the rest: missed: http-two-limits serial: 2 round trips"},
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
	if want := "In-memory decision ≤ 0.8× the fastest peer, 0 mallocs/op (one key and 10,000 keys, serial and parallel)"; got[0].Target != want {
		t.Errorf("core target = %q, want %q", got[0].Target, want)
	}
}

func TestVerdictsCoreMiss(t *testing.T) {
	raw := "BenchmarkCore/one-key-allowed/serial/limits-go:token-bucket-2 10 85 ns/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-allowed/serial/x-time-rate-2 10 100 ns/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2 100 80.04 ns/op 4 mallocs 0.04 mallocs/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-rejected/serial/limits-go:token-bucket-2 10 500 ns/op 1 allocs/op\n" +
		"BenchmarkCore/one-key-rejected/serial/x-time-rate-2 10 100 ns/op 0 allocs/op\n"
	v := Verdicts(mustParse(t, raw))[0]
	// Not every row has mallocs/op: the verdict falls back to allocs/op.
	want := "missed in 2 of 2 cells: token-bucket one-key-allowed serial: 0.85× x-time-rate, 0 allocs/op; " +
		"fixed-window one-key-allowed serial: 0.8004× x-time-rate, 0 allocs/op"
	if v.Met || !v.Known || v.Detail != want {
		t.Errorf("core verdict = met %v known %v %q, want missed %q (the rejected scenario is not judged)", v.Met, v.Known, v.Detail, want)
	}
	if v := Verdicts(mustParse(t, raw))[3]; v.Known {
		t.Errorf("memory verdict without memory rows: known, want not measured")
	}
	// With mallocs/op everywhere, 0.04 allocations per hit is a miss.
	raw = "BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2 100 50 ns/op 4 mallocs 0.04 mallocs/op 0 allocs/op\n" +
		"BenchmarkCore/one-key-allowed/serial/x-time-rate-2 100 100 ns/op 0 mallocs 0 mallocs/op 0 allocs/op\n"
	v = Verdicts(mustParse(t, raw))[0]
	want = "missed in 1 of 1 cells: fixed-window one-key-allowed serial: 0.50× x-time-rate, 0.04 mallocs/op"
	if v.Met || v.Detail != want {
		t.Errorf("core verdict = met %v %q, want missed %q", v.Met, v.Detail, want)
	}
}

func TestVerdictsHTTPAllocsTie(t *testing.T) {
	raw := "BenchmarkHTTP/one-client/serial/bare-chi-2 10 600 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/one-client/serial/limits-go:headers-on-2 10 900 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/one-client/serial/x-time-rate-2 10 1000 ns/op 5 allocs/op\n" +
		"BenchmarkHTTP/one-client/serial/httprate-2 10 1500 ns/op 15 allocs/op\n"
	v := Verdicts(mustParse(t, raw))[1]
	want := "missed (one-client serial allocs tied at +0): one-client serial: ours +300 ns, +0 allocs; lowest peer +400 ns (x-time-rate), fewest +0 allocs (x-time-rate)"
	if v.Met || !v.Known || v.Detail != want {
		t.Errorf("HTTP verdict = met %v known %v %q, want missed %q", v.Met, v.Known, v.Detail, want)
	}
}

// A peer below bare chi reads as a negative overhead; overheads closer than
// bare chi's own spread are called noise; fractions of an allocation count.
func TestVerdictsHTTPSignsNoiseAndFractions(t *testing.T) {
	raw := "BenchmarkHTTP/one-client/parallel/bare-chi-2 1000 600 ns/op 5000 mallocs 5.000 mallocs/op\n" +
		"BenchmarkHTTP/one-client/parallel/bare-chi-2 1000 700 ns/op 5000 mallocs 5.000 mallocs/op\n" +
		"BenchmarkHTTP/one-client/parallel/limits-go:headers-on-2 1000 700 ns/op 5040 mallocs 5.040 mallocs/op\n" +
		"BenchmarkHTTP/one-client/parallel/x-time-rate-2 1000 619.5 ns/op 5000 mallocs 5.000 mallocs/op\n" +
		"BenchmarkHTTP/one-client/parallel/httprate-2 1000 1500 ns/op 15000 mallocs 15.00 mallocs/op\n" +
		"BenchmarkHTTP/one-client/serial/bare-chi-2 1000 650 ns/op 5000 mallocs 5.000 mallocs/op\n" +
		"BenchmarkHTTP/one-client/serial/limits-go:headers-on-2 1000 700 ns/op 5040 mallocs 5.040 mallocs/op\n" +
		"BenchmarkHTTP/one-client/serial/x-time-rate-2 1000 619.5 ns/op 5000 mallocs 5.000 mallocs/op\n"
	v := Verdicts(mustParse(t, raw))[1]
	want := "missed (one-client parallel overhead +50 > −30.5 ns, one-client parallel mallocs +0.04 > +0, one-client serial overhead +50 > −30.5 ns, one-client serial mallocs +0.04 > +0): " +
		"one-client parallel: ours +50 ns, +0.04 mallocs; lowest peer −30.5 ns (x-time-rate), fewest +0 mallocs (x-time-rate)" +
		" — the overheads differ by less than bare chi's spread of 100 ns: noise; " +
		"one-client serial: ours +50 ns, +0.04 mallocs; lowest peer −30.5 ns (x-time-rate), fewest +0 mallocs (x-time-rate)"
	if v.Met || !v.Known || v.Detail != want {
		t.Errorf("HTTP verdict = met %v known %v\n%q, want missed\n%q", v.Met, v.Known, v.Detail, want)
	}
}

// A ratio that misses its target never prints as meeting it.
func TestVerdictsRedisRatios(t *testing.T) {
	raw := "BenchmarkRedis/one-key-allowed/serial/get-floor-2 100 10000 ns/op 1.000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/limits-go:fixed-window-2 100 13047 ns/op 1.000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/ulule-2 100 13040 ns/op 1.000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/bare-chi-2 100 500 ns/op 0 rtt/op\n"
	v := Verdicts(mustParse(t, raw))[2]
	want := "missed: fixed-window serial: 1.305× GET > 1.3×; fixed-window serial: 1.001× ulule, not under 1×"
	if v.Met || v.Detail != want {
		t.Errorf("Redis verdict = met %v %q, want missed %q (bare-chi is no peer)", v.Met, v.Detail, want)
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{fmtSignedNum(-30.5), "−30.5"},
		{fmtSignedNum(390), "+390"},
		{fmtSignedNum(1234.4), "+1,234"},
		{fmtNum(-1234), "−1,234"},
		{fmtCount(0), "0"},
		{fmtCount(19), "19"},
		{fmtCount(0.04), "0.04"},
		{fmtCount(0.25), "0.25"},
		{fmtCount(0.00009), "0.00009"},
		{fmtCount(5.0007), "5.0007"},
		{fmtCount(10.01), "10.01"},
		{fmtCount(0.99999), "0.99999"},
		{fmtCount(1.0401), "1.04"},
		{fmtSignedCount(-0.0001), "−0.0001"},
		{fmtRatioTo(1.3047, 1.3), "1.305×"},
		{fmtRatioTo(1.30001, 1.3), "1.30001×"},
		{fmtRatioTo(1.0004, 1), "1.0004×"},
		{fmtRatioTo(1, 1), "1.00×"},
		{fmtRatioTo(0.7996, 0.8), "0.7996×"},
		{fmtRatioTo(0.56, 0.8), "0.56×"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if a, b := apart(136.4, 135.6, false, fmtNum); a != "136.4" || b != "135.6" {
		t.Errorf("apart(136.4, 135.6) = %q, %q, want 136.4, 135.6", a, b)
	}
	if a, b := apart(140, 135.6, false, fmtNum); a != "140" || b != "136" {
		t.Errorf("apart(140, 135.6) = %q, %q, want 140, 136", a, b)
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
		"| library | serial ns/op | ratio | mallocs/op |",
		"| **limits-go:fixed-window** | 50 | 0.56× | 0 |",
		"| sethvargo | 90 | 1.00× | 0 |",
		"### one-client",
		"### 10000-clients",
		"| library | serial ns/op | overhead | added mallocs | serial mallocB/op | serial mallocs/op |",
		"| **limits-go:headers-on** | 1,300 | +300 | +3.04 | 800 | 8.04 |",
		"| **limits-go:headers-on** | 1,400 | +400 | +1 | 850 | 6 |",
		"| library | serial ns/op | × GET | serial rtt/op | serial cmds/op | serial allocs/op |",
		"| **limits-go:token-bucket** | 25,000 | 1.25× | 1 | 4 | 27 |",
		"Serial, a request through chilimit with two limits on Redis allocates 71 allocs, 66 more than the same request through bare chi (5)",
		"| httprate | sliding-window-counter | 37.8 |",
		"Bare chi itself ran serial from 950 to 1,050 ns/op over 3 runs: overheads that differ by less than that spread are within noise.",
		"except moving-window's allowed hits",
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
	want := "throttled (one-key-allowed, parallel) answered some hits wrongly (a rejection under a limit no run reaches, or an allowed hit over a spent one): a median rate of 2e-06 in the runs where it did."
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
	// 1 background + 3 legend swatches + 18 bars.
	if rects != 22 {
		t.Errorf("SVG has %d rects, want 22", rects)
	}
	// Ours: fixed-window, headers-on twice, token-bucket, http-two-limits,
	// and two memory rows; references: bare chi three times and GET.
	if fills[colourOurs] != 8 || fills[colourReference] != 5 {
		t.Errorf("SVG fills = %v, want 8 %s (7 bars + legend) and 5 %s (4 bars + legend)", fills, colourOurs, colourReference)
	}
	for _, want := range []string{"Core · one-key-allowed · serial", "HTTP · 10000-clients · serial", "Memory · 1,000,000 live keys", ">limits-go:fixed-window<", ">37.8<"} {
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

// A benchmark that failed prints no result line, so it is missing from the
// medians; a verdict over the cells that did run must not read as met, and
// the report must name what failed.
func TestFailedBenchmarksBlockVerdict(t *testing.T) {
	raw := "BenchmarkCore/one-key-allowed/serial/limits-go:fixed-window-2 100 50 ns/op 0 mallocs 0 mallocs/op\n" +
		"BenchmarkCore/one-key-allowed/serial/sethvargo-2 100 100 ns/op 0 mallocs 0 mallocs/op\n" +
		"BenchmarkCore/one-key-allowed/parallel/limits-go:fixed-window-2 \t--- FAIL: BenchmarkCore/one-key-allowed/parallel/limits-go:fixed-window-2\n" +
		"    core_test.go:118: limits-go:fixed-window: 3 of the hits were not allowed\n" +
		"BenchmarkCore/one-key-allowed/parallel/sethvargo-2 100 100 ns/op 0 mallocs 0 mallocs/op\n" +
		"--- FAIL: BenchmarkMemory/1000000-keys/heap/httprate\n" +
		"--- FAIL: BenchmarkCore\n" +
		"FAIL\n"
	run := mustParse(t, raw)
	if want := []string{"Core/one-key-allowed/parallel/limits-go:fixed-window", "Memory/1000000-keys/heap/httprate"}; strings.Join(run.Failed, ",") != strings.Join(want, ",") {
		t.Errorf("Failed = %q, want %q", run.Failed, want)
	}
	v := Verdicts(run)[0]
	if v.Met || !v.Known || !strings.Contains(v.Detail, "Core/one-key-allowed/parallel/limits-go:fixed-window failed") {
		t.Errorf("core verdict with a failed cell = met %v known %v %q, want missed, naming the failed benchmark", v.Met, v.Known, v.Detail)
	}
	if v := Verdicts(run)[3]; v.Met || !v.Known {
		t.Errorf("memory verdict with a failed benchmark and no rows = met %v known %v, want missed", v.Met, v.Known)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Core/one-key-allowed/parallel/limits-go:fixed-window") {
		t.Errorf("the report does not name the failed benchmark:\n%s", b.String())
	}
}

// The target is one round trip per request: fewer (a request that never
// reached Redis) is no more a hit than two.
func TestVerdictsRedisTooFewRoundTrips(t *testing.T) {
	raw := "BenchmarkRedis/one-key-allowed/serial/get-floor-2 100 10000 ns/op 1.000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/limits-go:fixed-window-2 100 11000 ns/op 1.000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/limits-go:http-two-limits-2 100 15000 ns/op 0.5000 rtt/op\n" +
		"BenchmarkRedis/one-key-allowed/serial/ulule-2 100 12000 ns/op 1.000 rtt/op\n"
	v := Verdicts(mustParse(t, raw))[2]
	want := "missed: http-two-limits serial: 0.50 round trips"
	if v.Met || v.Detail != want {
		t.Errorf("Redis verdict = met %v %q, want missed %q", v.Met, v.Detail, want)
	}
}

// Two numbers compared in a verdict never read as the same number, even
// where their texts differ (fmtNum writes 99.96 as "100.0", 100.04 as "100").
func TestApartReadsDifferent(t *testing.T) {
	for _, tt := range []struct {
		a, b     float64
		withSign bool
		f        func(float64) string
	}{
		{100.04, 99.96, false, fmtNum},
		{100.04, 99.96, true, fmtSignedNum},
		{-99.96, -100.04, true, fmtSignedNum},
		{1000.4, 999.96, true, fmtSignedNum},
	} {
		sa, sb := apart(tt.a, tt.b, tt.withSign, tt.f)
		if readNumber(sa) == readNumber(sb) {
			t.Errorf("apart(%v, %v) = %q, %q: the same number", tt.a, tt.b, sa, sb)
		}
	}
	raw := "BenchmarkMemory/1000000-keys/heap/limits-go:sliding-window-counter-2 1 1 ns/op 100.04 B/key\n" +
		"BenchmarkMemory/1000000-keys/heap/httprate-2 1 1 ns/op 99.96 B/key\n"
	if v := Verdicts(mustParse(t, raw))[3]; v.Met || !strings.Contains(v.Detail, "100.04 B > httprate 99.96 B") {
		t.Errorf("memory verdict = met %v %q, want a miss reading 100.04 B > httprate 99.96 B", v.Met, v.Detail)
	}
}
