package main

import (
	"cmp"
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

// The units of the allocation counts. testing's allocs/op and B/op
// truncate to whole numbers; the bench module's runOps also reports the
// runtime.MemStats deltas around the timed loop, fractional: mallocs/op and
// mallocB/op, and the total mallocs, which Parse turns into an exact
// mallocs/op.
const (
	unitAllocs       = "allocs/op"
	unitBytes        = "B/op"
	unitMallocs      = "mallocs/op"
	unitMallocBytes  = "mallocB/op"
	unitMallocsTotal = "mallocs"
)

// allocUnit returns the allocation count a group's tables and verdicts use:
// mallocs/op when every result of rs has it, else allocs/op.
func allocUnit(rs []Result) string {
	return preferred(rs, unitMallocs, unitAllocs)
}

// bytesUnit is allocUnit for bytes: mallocB/op, else B/op.
func bytesUnit(rs []Result) string {
	return preferred(rs, unitMallocBytes, unitBytes)
}

func preferred(rs []Result, unit, fallback string) string {
	if len(rs) == 0 {
		return fallback
	}
	for _, r := range rs {
		if _, ok := r.Metrics[unit]; !ok {
			return fallback
		}
	}
	return unit
}

// countNoun names a count unit in prose: "mallocs" for mallocs/op.
func countNoun(unit string) string { return strings.TrimSuffix(unit, "/op") }

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

// isReference reports the rows that are baselines, not limiters: the bare
// router and the Redis GET floor.
func isReference(library string) bool { return library == bareRouter || library == getFloor }

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
	return []Verdict{
		incomplete(run, groupCore, coreVerdict(run)),
		incomplete(run, groupHTTP, httpVerdict(run)),
		incomplete(run, groupRedis, redisVerdict(run)),
		incomplete(run, groupMemory, memoryVerdict(run)),
	}
}

// failedIn returns the failed benchmarks of group.
func failedIn(run *Run, group string) []string {
	var out []string
	for _, f := range run.Failed {
		if g, _, _ := strings.Cut(f, "/"); g == group {
			out = append(out, f)
		}
	}
	return out
}

// incomplete turns v into a miss when a benchmark of group failed: the
// verdict was judged on the cells that ran, and the one that failed may be
// the one that misses.
func incomplete(run *Run, group string, v Verdict) Verdict {
	failed := failedIn(run, group)
	if len(failed) == 0 {
		return v
	}
	detail := strings.Join(failed, ", ") + " failed, so this run cannot show the target met"
	if v.Detail != "" {
		detail += "; over the rest: " + v.Detail
	}
	return Verdict{Target: v.Target, Known: true, Met: false, Detail: detail}
}

func coreVerdict(run *Run) Verdict {
	rs := run.Select(groupCore)
	unit := allocUnit(rs)
	v := Verdict{Target: fmt.Sprintf("In-memory decision ≤ %.1f× the fastest peer, 0 %s (one key and 10,000 keys, serial and parallel)", coreRatio, unit)}
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
				ratio := r.Metrics["ns/op"] / peerNS
				allocs := r.Metrics[unit]
				if ratio > coreRatio || allocs > 0 {
					misses = append(misses, fmt.Sprintf("%s %s %s: %s %s, %s %s",
						strings.TrimPrefix(r.Library, ours), sc, mode, fmtRatioTo(ratio, coreRatio), peer, fmtCount(allocs), unit))
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
		if r.Scenario != scenario || r.Mode != mode || isOurs(r.Library) || isReference(r.Library) {
			continue
		}
		if ns, ok := r.Metrics["ns/op"]; ok && ns < best {
			name, best = r.Library, ns
		}
	}
	return name, best
}

// httpVerdict judges every HTTP scenario and mode on its own: our overhead
// over bare chi against the lowest peer's, our added allocations against the
// fewest a peer adds. Where the two overheads differ by less than bare chi's
// own ns/op moved between runs, the detail says the difference is noise.
func httpVerdict(run *Run) Verdict {
	v := Verdict{Target: "HTTP overhead of lim.Handler + a route limit, headers on: ≤ the lowest peer overhead, fewer added allocs than any peer (in each scenario and mode)"}
	rs := run.Select(groupHTTP)
	unit := allocUnit(rs)
	noun := countNoun(unit)
	var details, misses []string
	for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
		for _, mode := range distinct(rs, func(r Result) string { return r.Mode }) {
			bare, okBare := run.Find(groupHTTP, sc, mode, bareRouter)
			us, okUs := run.Find(groupHTTP, sc, mode, ourHTTP)
			if !okBare || !okUs {
				continue
			}
			ourOver := us.Metrics["ns/op"] - bare.Metrics["ns/op"]
			ourAllocs := us.Metrics[unit] - bare.Metrics[unit]
			bestOver, bestOverPeer := math.Inf(1), ""
			bestAllocs, bestAllocsPeer := math.Inf(1), ""
			for _, r := range rs {
				if r.Scenario != sc || r.Mode != mode || isOurs(r.Library) || isReference(r.Library) {
					continue
				}
				if o := r.Metrics["ns/op"] - bare.Metrics["ns/op"]; o < bestOver {
					bestOver, bestOverPeer = o, r.Library
				}
				if a := r.Metrics[unit] - bare.Metrics[unit]; a < bestAllocs {
					bestAllocs, bestAllocsPeer = a, r.Library
				}
			}
			if bestOverPeer == "" {
				continue // no peer to judge against
			}
			v.Known = true
			cell := sc + " " + mode
			ourOverText, bestOverText := apart(ourOver, bestOver, true, fmtSignedNum)
			ourAllocsText, bestAllocsText := apart(ourAllocs, bestAllocs, true, fmtSignedCount)
			detail := fmt.Sprintf("%s: ours %s ns, %s %s; lowest peer %s ns (%s), fewest %s %s (%s)",
				cell, ourOverText, ourAllocsText, noun, bestOverText, bestOverPeer, bestAllocsText, noun, bestAllocsPeer)
			if spread := bare.Max["ns/op"] - bare.Min["ns/op"]; bare.Runs > 1 && math.Abs(ourOver-bestOver) < spread {
				detail += fmt.Sprintf(" — the overheads differ by less than bare chi's spread of %s ns: noise", fmtNum(spread))
			}
			details = append(details, detail)
			if ourOver > bestOver {
				misses = append(misses, fmt.Sprintf("%s overhead %s > %s ns", cell, ourOverText, bestOverText))
			}
			switch {
			case ourAllocs == bestAllocs:
				// No middleware can add fewer than the fewest: say so rather
				// than leave the miss unexplained.
				misses = append(misses, fmt.Sprintf("%s %s tied at %s", cell, noun, ourAllocsText))
			case ourAllocs > bestAllocs:
				misses = append(misses, fmt.Sprintf("%s %s %s > %s", cell, noun, ourAllocsText, bestAllocsText))
			}
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
			// Dialling new connections adds a few hundredths; fewer than
			// one is a request that did not reach Redis, no hit either.
			if rtt := r.Metrics["rtt/op"]; math.Round(rtt*100)/100 != 1 {
				misses = append(misses, fmt.Sprintf("%s: %s round trips", name, fmtNum(rtt)))
			}
			if r.Library == ourTwoLimits {
				continue // a whole HTTP request: only its round trips are judged
			}
			ns := r.Metrics["ns/op"]
			if ratio := ns / floor.Metrics["ns/op"]; ratio > redisRatio {
				misses = append(misses, fmt.Sprintf("%s: %s GET > %.1f×", name, fmtRatioTo(ratio, redisRatio), redisRatio))
			}
			if peer != "" && ns >= peerNS {
				misses = append(misses, fmt.Sprintf("%s: %s %s, not under 1×", name, fmtRatioTo(ns/peerNS, 1), peer))
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
			bText, pbText := apart(b, pb, false, fmtNum)
			peers = append(peers, fmt.Sprintf("%s %s", p.Library, pbText))
			if b > pb {
				misses = append(misses, fmt.Sprintf("%s %s B > %s %s B", strings.TrimPrefix(r.Library, ours), bText, p.Library, pbText))
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
// one table per group and scenario.
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
	if len(run.Failed) > 0 {
		b.WriteString("\n**Failed benchmarks** (no result, or fewer runs than the others; every verdict over their group is a miss):\n\n")
		for _, f := range run.Failed {
			fmt.Fprintf(&b, "- %s\n", mdEscape(f))
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

// allocNote says how a group's allocations were counted.
func allocNote(unit string) string {
	if unit == unitMallocs {
		return "mallocs/op is exact and fractional: the heap objects allocated during the timed loop (runtime.MemStats) over the ops, so an allocation every 25 ops shows as 0.04, where testing's allocs/op would truncate it to 0."
	}
	return "allocs/op is testing's: a mean truncated to a whole number, so an allocation every 25 ops shows as 0."
}

func writeCore(b *strings.Builder, run *Run) {
	rs := run.Select(groupCore)
	if len(rs) == 0 {
		return
	}
	unit := allocUnit(rs)
	fmt.Fprintf(b, "\n## In-process decision (no HTTP)\n\nOne decision per op; ratio = ns/op ÷ the fastest peer's in the same scenario and mode. %s "+
		"`TestOurHitsDoNotAllocate` asserts, by exact count, that a hit of ours allocates nothing in every scenario here except moving-window's allowed hits "+
		"(one-key-allowed, 10000-keys-allowed): its log holds one entry per allowed hit, so a growing log is reallocated now and then.\n", allocNote(unit))
	for _, r := range rs {
		if w, ok := r.Metric("wrong/op"); ok && w > 0 {
			fmt.Fprintf(b, "\n%s (%s, %s) answered some hits wrongly (a rejection under a limit no run reaches, or an allowed hit over a spent one): a median rate of %s in the runs where it did.\n",
				r.Library, r.Scenario, r.Mode, strconv.FormatFloat(w, 'g', 3, 64))
		}
	}
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
		fmt.Fprintf(b, "\n### %s\n\n| library |", sc)
		for _, m := range modes {
			fmt.Fprintf(b, " %s ns/op | ratio | %s |", m, unit)
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
				fmt.Fprintf(b, " %s | %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtRatioTo(r.Metrics["ns/op"]/peerNS, coreRatio), fmtCount(r.Metrics[unit]))
			}
			b.WriteString("\n")
		}
	}
}

// httpScenarioNotes describes the HTTP scenarios of the bench module.
var httpScenarioNotes = map[string]string{
	"one-client":    "every request from one client, whose storage key chilimit's cache of recent keys always holds",
	"10000-clients": "requests from 10,000 clients in turn, far more than chilimit's cache of recent keys holds",
}

func writeHTTP(b *strings.Builder, run *Run) {
	rs := run.Select(groupHTTP)
	if len(rs) == 0 {
		return
	}
	unit, bytes := allocUnit(rs), bytesUnit(rs)
	noun := countNoun(unit)
	fmt.Fprintf(b, "\n## HTTP on chi\n\nGET /users/42 through a chi router whose handler writes \"ok\"; overhead = ns/op − bare chi's, added = %s − bare chi's, in the same scenario and mode. %s\n", unit, allocNote(unit))
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
		fmt.Fprintf(b, "\n### %s\n\n", sc)
		if note, ok := httpScenarioNotes[sc]; ok {
			b.WriteString(strings.ToUpper(note[:1]) + note[1:] + ".\n\n")
		}
		b.WriteString("| library |")
		for _, m := range modes {
			fmt.Fprintf(b, " %s ns/op | overhead | added %s |", m, noun)
		}
		// The last columns come from the first mode's runs alone.
		fmt.Fprintf(b, " %s %s | %s %s |\n|---|%s---:|---:|\n", modes[0], bytes, modes[0], unit, strings.Repeat("---:|---:|---:|", len(modes)))
		for _, lib := range distinct(rs, func(r Result) string { return r.Library }) {
			first, ok := run.Find(groupHTTP, sc, modes[0], lib)
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %s |", libCell(lib))
			for _, m := range modes {
				r, ok := run.Find(groupHTTP, sc, m, lib)
				bare, okBare := run.Find(groupHTTP, sc, m, bareRouter)
				if !ok || !okBare {
					b.WriteString(" – | – | – |")
					continue
				}
				fmt.Fprintf(b, " %s | %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtSignedNum(r.Metrics["ns/op"]-bare.Metrics["ns/op"]), fmtSignedCount(r.Metrics[unit]-bare.Metrics[unit]))
			}
			fmt.Fprintf(b, " %s | %s |\n", fmtNum(first.Metrics[bytes]), fmtCount(first.Metrics[unit]))
		}
		writeBaselineSpread(b, run, sc, modes)
	}
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
	unit := allocUnit(rs)
	b.WriteString("\n## Redis (one local server)\n\nOne decision per op on one key; × GET = ns/op ÷ the GET floor's. rtt/op counts the commands and pipelines the client sent (a go-redis hook); cmds/op the commands the server ran (INFO commandstats deltas, commands run inside a script included). " +
		"`http-two-limits` is a whole chi request with two limits on its route; `bare-chi` is the same request through the same harness on a chi router without limits, which never reaches Redis. " + allocNote(unit) + "\n\n| library |")
	modes := distinct(rs, func(r Result) string { return r.Mode })
	for _, m := range modes {
		fmt.Fprintf(b, " %s ns/op | × GET |", m)
	}
	// The last columns come from the first mode's runs alone.
	fmt.Fprintf(b, " %[1]s rtt/op | %[1]s cmds/op | %[1]s %[2]s |\n|---|%[3]s---:|---:|---:|\n", modes[0], unit, strings.Repeat("---:|---:|", len(modes)))
	for _, lib := range distinct(rs, func(r Result) string { return r.Library }) {
		first, ok := run.Find(groupRedis, rs[0].Scenario, modes[0], lib)
		if !ok {
			continue
		}
		fmt.Fprintf(b, "| %s |", libCell(lib))
		for _, m := range modes {
			r, ok := run.Find(groupRedis, rs[0].Scenario, m, lib)
			floor, okFloor := run.Find(groupRedis, rs[0].Scenario, m, getFloor)
			if !ok || !okFloor {
				b.WriteString(" – | – |")
				continue
			}
			fmt.Fprintf(b, " %s | %s |", fmtNum(r.Metrics["ns/op"]), fmtRatioTo(r.Metrics["ns/op"]/floor.Metrics["ns/op"], redisRatio))
		}
		fmt.Fprintf(b, " %s | %s | %s |\n", fmtNum(first.Metrics["rtt/op"]), fmtNum(first.Metrics["cmds/op"]), fmtCount(first.Metrics[unit]))
	}
	two, okTwo := run.Find(groupRedis, rs[0].Scenario, modes[0], ourTwoLimits)
	bare, okBare := run.Find(groupRedis, rs[0].Scenario, modes[0], bareRouter)
	switch {
	case okTwo && okBare:
		fmt.Fprintf(b, "\n%s, a request through chilimit with two limits on Redis allocates %s %s, %s more than the same request through bare chi (%s): what chilimit, storage/redis and the client add.\n",
			strings.ToUpper(modes[0][:1])+modes[0][1:], fmtCount(two.Metrics[unit]), countNoun(unit), fmtCount(two.Metrics[unit]-bare.Metrics[unit]), fmtCount(bare.Metrics[unit]))
	case okTwo:
		fmt.Fprintf(b, "\nThe %s of `http-two-limits` include those of the request harness and of chi itself: this run has no `bare-chi` row to subtract.\n", countNoun(unit))
	}
}

func writeMemory(b *strings.Builder, run *Run) {
	rs := run.Select(groupMemory)
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n## Memory per live key\n\nHeap growth per key after hitting 1,000,000 keys of about 50 bytes once each, key strings included; each limiter then proves it still held the keys (key 0 is rejected once its limit is spent).\n\n| library | algorithm | B/key |\n|---|---|---:|\n")
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

// minus is the sign of negative numbers in the report.
const minus = "−"

// fmtNum renders v with precision that suits its size: 3 significant
// digits below 100, whole numbers with thousands separators above.
func fmtNum(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "–"
	case v < 0:
		return minus + fmtNum(-v)
	case v == math.Trunc(v) && v < 1e15:
		return groupThousands(strconv.FormatInt(int64(v), 10))
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return groupThousands(strconv.FormatInt(int64(math.Round(v)), 10))
}

// fmtCount renders an allocation count: a whole number as such, a fraction
// with two decimals or down to the first significant digit of its
// fractional part, whichever is more, and more if it would still read as a
// whole number: 0.04 never shows as 0, nor 5.0007 as 5.
func fmtCount(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "–"
	case v < 0:
		return minus + fmtCount(-v)
	case v == math.Trunc(v) && v < 1e15:
		return groupThousands(strconv.FormatInt(int64(v), 10))
	}
	// The tolerance keeps 10.01, stored as 10.00999…, at two decimals.
	first := int(math.Ceil(-math.Log10(v-math.Trunc(v)) - 1e-9))
	for d := max(2, first); d <= 12; d++ {
		s := strconv.FormatFloat(v, 'f', d, 64)
		if p, _ := strconv.ParseFloat(s, 64); p != math.Trunc(p) {
			return s
		}
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// signed prefixes a number rendered by f with its sign: + or −.
func signed(v float64, f func(float64) string) string {
	if v < 0 {
		return minus + f(-v)
	}
	return "+" + f(v)
}

// fmtSignedNum is fmtNum with a sign, as overheads are written.
func fmtSignedNum(v float64) string { return signed(v, fmtNum) }

// fmtSignedCount is fmtCount with a sign, as added allocations are written.
func fmtSignedCount(v float64) string { return signed(v, fmtCount) }

// apart renders a and b with f, or, where they differ but would read the
// same, both with as many decimals as tell them apart: a comparison that
// fails never reads as equal numbers.
func apart(a, b float64, withSign bool, f func(float64) string) (string, string) {
	sa, sb := f(a), f(b)
	// Compare what the texts say, not the texts: "100.0" and "100" differ
	// as strings but read as the same number.
	for d := 1; readNumber(sa) == readNumber(sb) && a != b && d <= 12; d++ {
		sa, sb = fmtFixed(a, d, withSign), fmtFixed(b, d, withSign)
	}
	return sa, sb
}

// readNumber returns the number a text of fmtNum, fmtCount or fmtFixed
// reads as: thousands separators and a plus sign dropped, the minus sign
// read as such.
func readNumber(s string) float64 {
	s = strings.NewReplacer(",", "", "+", "", minus, "-").Replace(s)
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// fmtFixed renders v with d decimals, and a + before a positive number when
// withSign is set.
func fmtFixed(v float64, d int, withSign bool) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', d, 64)
	switch {
	case v < 0:
		return minus + s
	case withSign:
		return "+" + s
	}
	return s
}

// fmtRatioTo renders a ratio such as 0.62× with as many decimals (two at
// least) as it takes to fall on the same side of target as the ratio does:
// 1.3047 against 1.3 reads 1.305×, never 1.30×.
func fmtRatioTo(v, target float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "–"
	}
	for d := 2; d <= 12; d++ {
		s := strconv.FormatFloat(v, 'f', d, 64)
		if p, _ := strconv.ParseFloat(s, 64); cmp.Compare(p, target) == cmp.Compare(v, target) {
			return s + "×"
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64) + "×"
}

// groupThousands puts commas between groups of three digits of a
// non-negative integer.
func groupThousands(s string) string {
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// mdEscape keeps a value inside its Markdown table cell.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
