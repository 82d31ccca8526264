package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The benchmark groups of the bench module, the names of the reference rows
// and the prefix of our libraries.
const (
	groupCore   = "Core"
	groupHTTP   = "HTTP"
	groupRedis  = "Redis"
	groupMemory = "Memory"

	bareRouter = "bare-chi"
	getFloor   = "get-floor"
	ours       = "limits-go:"

	// ourHTTP is the HTTP setup the targets judge: lim.Handler with a route
	// limit and headers on.
	ourHTTP = "limits-go:headers-on"
	// ourTwoLimits is the Redis scenario with two limits on one route.
	ourTwoLimits = "limits-go:http-two-limits"
)

// The targets of issue 8.
const (
	coreRatio  = 0.8 // ours ≤ 0.8× the fastest peer
	redisRatio = 1.3 // ours ≤ 1.3× the GET floor
)

// peerAlgorithms maps each in-process peer to our strategy with the
// equivalent algorithm, for the memory comparison.
var peerAlgorithms = map[string]string{
	"x-time-rate": "token-bucket",
	"throttled":   "token-bucket",
	"sethvargo":   "fixed-window",
	"ulule":       "fixed-window",
	"httprate":    "sliding-window-counter",
}

// equivalentAlgorithm returns the algorithm a memory row stands for: a
// strategy of ours (elastic expiry counts as fixed window) or a peer's.
func equivalentAlgorithm(library string) string {
	if s, ok := strings.CutPrefix(library, ours); ok {
		if s == "fixed-window-elastic-expiry" {
			return "fixed-window"
		}
		return s
	}
	return peerAlgorithms[library]
}

func isOurs(library string) bool { return strings.HasPrefix(library, ours) }

// A Verdict is the outcome of one target.
type Verdict struct {
	Target string
	Met    bool
	// Known is false when the run lacks the rows to judge the target.
	Known  bool
	Detail string
}

// Verdicts judges every target of issue 8 on run.
func Verdicts(run *Run) []Verdict {
	return []Verdict{coreVerdict(run), httpVerdict(run), redisVerdict(run), memoryVerdict(run)}
}

func coreVerdict(run *Run) Verdict {
	v := Verdict{Target: fmt.Sprintf("In-memory decision ≤ %.1f× the fastest peer, 0 allocs/op (one key and 10,000 keys, serial and parallel)", coreRatio)}
	rs := run.Select(groupCore)
	var misses []string
	cells := 0
	for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
		if strings.HasSuffix(sc, "rejected") {
			continue // reported, not part of the target
		}
		for _, mode := range distinct(rs, func(r Result) string { return r.Mode }) {
			peer, peerNS := fastestPeer(rs, sc, mode)
			if peer == "" {
				continue
			}
			for _, r := range rs {
				if r.Scenario != sc || r.Mode != mode || !isOurs(r.Library) {
					continue
				}
				cells++
				ns := r.Metrics["ns/op"]
				allocs := r.Metrics["allocs/op"]
				if ns > coreRatio*peerNS || allocs > 0 {
					misses = append(misses, fmt.Sprintf("%s %s %s: %.2f× %s, %s allocs/op",
						strings.TrimPrefix(r.Library, ours), sc, mode, ns/peerNS, peer, fmtNum(allocs)))
				}
			}
		}
	}
	v.Known = cells > 0
	v.Met = v.Known && len(misses) == 0
	if v.Met {
		v.Detail = fmt.Sprintf("all %d strategy × scenario × mode cells", cells)
	} else if v.Known {
		v.Detail = fmt.Sprintf("missed in %d of %d cells: %s", len(misses), cells, strings.Join(misses, "; "))
	}
	return v
}

// fastestPeer returns the peer with the lowest ns/op in scenario and mode.
func fastestPeer(rs []Result, scenario, mode string) (string, float64) {
	name, best := "", math.Inf(1)
	for _, r := range rs {
		if r.Scenario != scenario || r.Mode != mode || isOurs(r.Library) || r.Library == bareRouter || r.Library == getFloor {
			continue
		}
		if ns, ok := r.Metrics["ns/op"]; ok && ns < best {
			name, best = r.Library, ns
		}
	}
	return name, best
}

func httpVerdict(run *Run) Verdict {
	v := Verdict{Target: "HTTP overhead of lim.Handler + a route limit, headers on: ≤ the lowest peer overhead, fewer added allocs than any peer"}
	rs := run.Select(groupHTTP)
	var details, misses []string
	for _, mode := range distinct(rs, func(r Result) string { return r.Mode }) {
		bare, okBare := run.Find(groupHTTP, rs[0].Scenario, mode, bareRouter)
		us, okUs := run.Find(groupHTTP, rs[0].Scenario, mode, ourHTTP)
		if !okBare || !okUs {
			continue
		}
		v.Known = true
		ourOver := us.Metrics["ns/op"] - bare.Metrics["ns/op"]
		ourAllocs := us.Metrics["allocs/op"] - bare.Metrics["allocs/op"]
		bestOver, bestOverPeer := math.Inf(1), ""
		bestAllocs, bestAllocsPeer := math.Inf(1), ""
		for _, r := range rs {
			if r.Mode != mode || isOurs(r.Library) || r.Library == bareRouter {
				continue
			}
			if o := r.Metrics["ns/op"] - bare.Metrics["ns/op"]; o < bestOver {
				bestOver, bestOverPeer = o, r.Library
			}
			if a := r.Metrics["allocs/op"] - bare.Metrics["allocs/op"]; a < bestAllocs {
				bestAllocs, bestAllocsPeer = a, r.Library
			}
		}
		details = append(details, fmt.Sprintf("%s: ours +%s ns, +%s allocs; lowest peer +%s ns (%s), fewest +%s allocs (%s)",
			mode, fmtNum(ourOver), fmtNum(ourAllocs), fmtNum(bestOver), bestOverPeer, fmtNum(bestAllocs), bestAllocsPeer))
		if ourOver > bestOver {
			misses = append(misses, mode+" overhead")
		}
		switch {
		case ourAllocs == 0 && bestAllocs == 0:
			// No middleware can add fewer than none: say so rather than
			// leave the miss unexplained.
			misses = append(misses, mode+" allocs (tied at +0)")
		case ourAllocs >= bestAllocs:
			misses = append(misses, mode+" allocs")
		}
	}
	v.Met = v.Known && len(misses) == 0
	v.Detail = strings.Join(details, "; ")
	if len(misses) > 0 {
		v.Detail = "missed (" + strings.Join(misses, ", ") + "): " + v.Detail
	}
	return v
}

func redisVerdict(run *Run) Verdict {
	v := Verdict{Target: fmt.Sprintf("Redis: 1 round trip per request whatever the number of limits, ≤ %.1f× the GET floor, faster than every Redis peer", redisRatio)}
	rs := run.Select(groupRedis)
	var misses []string
	for _, mode := range distinct(rs, func(r Result) string { return r.Mode }) {
		floor, ok := run.Find(groupRedis, rs[0].Scenario, mode, getFloor)
		if !ok {
			continue
		}
		v.Known = true
		peer, peerNS := fastestPeer(rs, rs[0].Scenario, mode)
		for _, r := range rs {
			if r.Mode != mode || !isOurs(r.Library) {
				continue
			}
			name := strings.TrimPrefix(r.Library, ours) + " " + mode
			// Dialling new connections adds a few hundredths.
			if rtt := r.Metrics["rtt/op"]; math.Round(rtt*100)/100 > 1 {
				misses = append(misses, fmt.Sprintf("%s: %s round trips", name, fmtNum(rtt)))
			}
			if r.Library == ourTwoLimits {
				continue // a whole HTTP request: only its round trips are judged
			}
			ns := r.Metrics["ns/op"]
			if ratio := ns / floor.Metrics["ns/op"]; ratio > redisRatio {
				misses = append(misses, fmt.Sprintf("%s: %.2f× GET", name, ratio))
			}
			if peer != "" && ns >= peerNS {
				misses = append(misses, fmt.Sprintf("%s: %.2f× %s", name, ns/peerNS, peer))
			}
		}
	}
	v.Met = v.Known && len(misses) == 0
	if v.Met {
		v.Detail = "every strategy, serial and parallel"
	} else if v.Known {
		v.Detail = "missed: " + strings.Join(misses, "; ")
	}
	return v
}

func memoryVerdict(run *Run) Verdict {
	v := Verdict{Target: "Memory per live key ≤ any peer with the equivalent algorithm"}
	rs := run.Select(groupMemory)
	var details, misses []string
	for _, r := range rs {
		if !isOurs(r.Library) {
			continue
		}
		alg := equivalentAlgorithm(r.Library)
		b := r.Metrics["B/key"]
		var peers []string
		for _, p := range rs {
			if isOurs(p.Library) || equivalentAlgorithm(p.Library) != alg {
				continue
			}
			v.Known = true
			pb := p.Metrics["B/key"]
			peers = append(peers, fmt.Sprintf("%s %s", p.Library, fmtNum(pb)))
			if b > pb {
				misses = append(misses, fmt.Sprintf("%s %s B > %s %s B", strings.TrimPrefix(r.Library, ours), fmtNum(b), p.Library, fmtNum(pb)))
			}
		}
		if len(peers) > 0 {
			details = append(details, fmt.Sprintf("%s %s B vs %s", strings.TrimPrefix(r.Library, ours), fmtNum(b), strings.Join(peers, ", ")))
		}
	}
	v.Met = v.Known && len(misses) == 0
	v.Detail = strings.Join(details, "; ")
	if len(misses) > 0 {
		v.Detail = "missed: " + strings.Join(misses, "; ") + " (" + v.Detail + ")"
	}
	return v
}

// WriteMarkdown writes the report: the run's provenance, the verdicts and
// one table per group.
func WriteMarkdown(w io.Writer, run *Run) error {
	var b strings.Builder
	b.WriteString("# limits-go benchmark results\n\n")
	b.WriteString("Generated by `bench/cmd/benchreport` from `bench/results.txt` (see bench/README.md); every number is the median of the runs shown.\n\n")
	b.WriteString("| | |\n|---|---|\n")
	for _, k := range []string{"date", "cpu", "cpu-model", "nproc", "go", "goos", "goarch", "load", "benchtime"} {
		if val, ok := run.Config[k]; ok {
			fmt.Fprintf(&b, "| %s | %s |\n", k, mdEscape(val))
		}
	}
	if len(run.Modules) > 0 {
		b.WriteString("\n| module | version |\n|---|---|\n")
		for _, m := range run.Modules {
			path, version, _ := strings.Cut(m, " ")
			fmt.Fprintf(&b, "| %s | %s |\n", path, version)
		}
	}
	b.WriteString("\n## Targets\n\n| target | verdict | detail |\n|---|---|---|\n")
	for _, v := range Verdicts(run) {
		verdict := "**missed**"
		switch {
		case !v.Known:
			verdict = "not measured"
		case v.Met:
			verdict = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(v.Target), verdict, mdEscape(v.Detail))
	}
	writeCore(&b, run)
	writeHTTP(&b, run)
	writeRedis(&b, run)
	writeMemory(&b, run)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCore(b *strings.Builder, run *Run) {
	rs := run.Select(groupCore)
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n## In-process decision (no HTTP)\n\nOne decision per op; ratio = ns/op ÷ the fastest peer's in the same scenario and mode.\n")
	for _, r := range rs {
		if w, ok := r.Metric("wrong/op"); ok && w > 0 {
			fmt.Fprintf(b, "\n%s (%s, %s) answered some hits wrongly (an error, or a rejection under a limit no run reaches): a median rate of %s in the runs where it did.\n",
				r.Library, r.Scenario, r.Mode, strconv.FormatFloat(w, 'g', 3, 64))
		}
	}
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
		fmt.Fprintf(b, "\n### %s\n\n| library |", sc)
		for _, m := range modes {
			fmt.Fprintf(b, " %s ns/op | ratio | allocs/op |", m)
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|---:|---:|", len(modes)) + "\n")
		for _, lib := range distinct(rs, func(r Result) string { return r.Library }) {
			fmt.Fprintf(b, "| %s |", libCell(lib))
			for _, m := range modes {
				r, ok := run.Find(groupCore, sc, m, lib)
				if !ok {
					b.WriteString(" – | – | – |")
					continue
				}
				_, peerNS := fastestPeer(rs, sc, m)
				fmt.Fprintf(b, " %s | %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtRatio(r.Metrics["ns/op"]/peerNS), fmtNum(r.Metrics["allocs/op"]))
			}
			b.WriteString("\n")
		}
	}
}

func writeHTTP(b *strings.Builder, run *Run) {
	rs := run.Select(groupHTTP)
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n## HTTP on chi\n\nGET /users/42 through a chi router whose handler writes \"ok\"; overhead = ns/op − bare chi's, added allocs = allocs/op − bare chi's.\n\n| library |")
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, m := range modes {
		fmt.Fprintf(b, " %s ns/op | overhead |", m)
	}
	b.WriteString(" B/op | allocs/op | added allocs |\n|---|" + strings.Repeat("---:|---:|", len(modes)) + "---:|---:|---:|\n")
	for _, lib := range distinct(rs, func(r Result) string { return r.Library }) {
		fmt.Fprintf(b, "| %s |", libCell(lib))
		var first Result
		for i, m := range modes {
			r, ok := run.Find(groupHTTP, rs[0].Scenario, m, lib)
			bare, okBare := run.Find(groupHTTP, rs[0].Scenario, m, bareRouter)
			if !ok || !okBare {
				b.WriteString(" – | – |")
				continue
			}
			if i == 0 {
				first = r
			}
			fmt.Fprintf(b, " %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtSigned(r.Metrics["ns/op"]-bare.Metrics["ns/op"]))
		}
		bare, _ := run.Find(groupHTTP, rs[0].Scenario, modes[0], bareRouter)
		fmt.Fprintf(b, " %s | %s | %s |\n", fmtNum(first.Metrics["B/op"]), fmtNum(first.Metrics["allocs/op"]), fmtSigned(first.Metrics["allocs/op"]-bare.Metrics["allocs/op"]))
	}
	writeBaselineSpread(b, run, rs[0].Scenario, modes)
}

// writeBaselineSpread says how far bare chi's ns/op moved between runs in
// each mode: every overhead is measured against its median, so overheads
// that differ by less than that range are noise.
func writeBaselineSpread(b *strings.Builder, run *Run, scenario string, modes []string) {
	var parts []string
	for _, m := range modes {
		bare, ok := run.Find(groupHTTP, scenario, m, bareRouter)
		if !ok || bare.Runs < 2 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s from %s to %s ns/op over %d runs", m, fmtNum(bare.Min["ns/op"]), fmtNum(bare.Max["ns/op"]), bare.Runs))
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintf(b, "\nBare chi itself ran %s: overheads that differ by less than that spread are within noise.\n", strings.Join(parts, "; "))
}

func writeRedis(b *strings.Builder, run *Run) {
	rs := run.Select(groupRedis)
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n## Redis (one local server)\n\nOne decision per op on one key; × GET = ns/op ÷ the GET floor's. rtt/op counts the commands and pipelines the client sent (a go-redis hook); cmds/op the commands the server ran (INFO commandstats deltas, commands run inside a script included). `http-two-limits` is a whole chi request with two limits on its route.\n\n| library |")
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, m := range modes {
		fmt.Fprintf(b, " %s ns/op | × GET |", m)
	}
	b.WriteString(" rtt/op | cmds/op | allocs/op |\n|---|" + strings.Repeat("---:|---:|", len(modes)) + "---:|---:|---:|\n")
	for _, lib := range distinct(rs, func(r Result) string { return r.Library }) {
		fmt.Fprintf(b, "| %s |", libCell(lib))
		var first Result
		for i, m := range modes {
			r, ok := run.Find(groupRedis, rs[0].Scenario, m, lib)
			floor, okFloor := run.Find(groupRedis, rs[0].Scenario, m, getFloor)
			if !ok || !okFloor {
				b.WriteString(" – | – |")
				continue
			}
			if i == 0 {
				first = r
			}
			fmt.Fprintf(b, " %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtRatio(r.Metrics["ns/op"]/floor.Metrics["ns/op"]))
		}
		fmt.Fprintf(b, " %s | %s | %s |\n", fmtNum(first.Metrics["rtt/op"]), fmtNum(first.Metrics["cmds/op"]), fmtNum(first.Metrics["allocs/op"]))
	}
}

func writeMemory(b *strings.Builder, run *Run) {
	rs := run.Select(groupMemory)
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n## Memory per live key\n\nHeap growth per key after hitting 1,000,000 keys of about 50 bytes once each, key strings included.\n\n| library | algorithm | B/key |\n|---|---|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(b, "| %s | %s | %s |\n", libCell(r.Library), equivalentAlgorithm(r.Library), fmtNum(r.Metrics["B/key"]))
	}
}

// libCell renders a library name, ours in bold.
func libCell(lib string) string {
	if isOurs(lib) {
		return "**" + lib + "**"
	}
	return lib
}

// fmtNum renders v with precision that suits its size: 3 significant
// digits below 100, whole numbers with thousands separators above.
func fmtNum(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "–"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return groupThousands(strconv.FormatInt(int64(v), 10))
	case math.Abs(v) < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Abs(v) < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return groupThousands(strconv.FormatInt(int64(math.Round(v)), 10))
}

// fmtSigned is fmtNum with a sign.
func fmtSigned(v float64) string {
	if v >= 0 {
		return "+" + fmtNum(v)
	}
	return fmtNum(v)
}

// fmtRatio renders a ratio such as 0.62×.
func fmtRatio(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

// groupThousands puts commas between groups of three digits.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// mdEscape keeps a value inside its Markdown table cell.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
