package main

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	chartWidth  = 960
	marginX     = 16
	labelWidth  = 250 // library names, right-aligned before the bars
	valueWidth  = 90  // the value printed after the longest bar
	barHeight   = 14
	rowHeight   = 19
	titleHeight = 26
	panelGap    = 18
	headerTop   = 66 // title, subtitle and legend
)

// Bar colours: ours, the peers, and the reference rows (bare router, GET).
const (
	colourOurs      = "#2563c9"
	colourPeer      = "#8c96a3"
	colourReference = "#c9ced6"
)

// A panel is one bar group of the chart: one scenario and mode, or the
// memory comparison.
type panel struct {
	title string
	unit  string
	bars  []bar
}

type bar struct {
	library string
	value   float64
}

// panels returns the chart's panels in report order: every scenario and
// mode of the ns/op groups, then memory per live key.
func panels(run *Run) []panel {
	var ps []panel
	for _, g := range []string{groupCore, groupHTTP, groupRedis} {
		rs := run.Select(g)
		for _, sc := range distinct(rs, func(r Result) string { return r.Scenario }) {
			for _, mode := range distinct(rs, func(r Result) string { return r.Mode }) {
				p := panel{title: fmt.Sprintf("%s · %s · %s", g, sc, mode), unit: "ns/op"}
				for _, r := range rs {
					if r.Scenario != sc || r.Mode != mode {
						continue
					}
					if v, ok := r.Metric("ns/op"); ok {
						p.bars = append(p.bars, bar{r.Library, v})
					}
				}
				if len(p.bars) > 0 {
					ps = append(ps, p)
				}
			}
		}
	}
	mem := panel{title: "Memory · 1,000,000 live keys", unit: "B/key"}
	for _, r := range run.Select(groupMemory) {
		if v, ok := r.Metric("B/key"); ok {
			mem.bars = append(mem.bars, bar{r.Library, v})
		}
	}
	if len(mem.bars) > 0 {
		ps = append(ps, mem)
	}
	return ps
}

// WriteSVG draws a horizontal bar chart of run: one panel per scenario and
// mode with its own linear scale, ours in blue. The output depends only on
// run, so the same input gives the same bytes.
func WriteSVG(w io.Writer, run *Run) error {
	ps := panels(run)
	height := headerTop
	for _, p := range ps {
		height += titleHeight + len(p.bars)*rowHeight + panelGap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="17" font-weight="bold" fill="#1f2933">limits-go vs Go rate limiters — lower is better</text>`+"\n", marginX)
	sub := "medians of go test -bench runs"
	if d := run.Config["date"]; d != "" {
		sub += " · " + d
	}
	if c := run.Config["cpu"]; c != "" {
		sub += " · " + c
	}
	if n := run.Config["nproc"]; n != "" {
		sub += " · " + n + " cores"
	}
	if g := run.Config["go"]; g != "" {
		sub += " · " + g
	}
	if l, _, _ := strings.Cut(run.Config["load"], " ("); l != "" {
		sub += " · load " + l
	}
	fmt.Fprintf(&b, `<text x="%d" y="42" fill="#52606d">%s</text>`+"\n", marginX, html.EscapeString(sub))
	legend := []struct{ colour, label string }{
		{colourOurs, "limits-go"}, {colourPeer, "peers"}, {colourReference, "baseline (bare chi, Redis GET)"},
	}
	x := marginX
	for _, l := range legend {
		fmt.Fprintf(&b, `<rect x="%d" y="50" width="12" height="12" fill="%s"/><text x="%d" y="60" fill="#1f2933">%s</text>`+"\n",
			x, l.colour, x+16, html.EscapeString(l.label))
		x += 16 + 8*len(l.label) + 24
	}
	y := headerTop
	barX := marginX + labelWidth + 8
	barMax := float64(chartWidth - barX - valueWidth - marginX)
	for _, p := range ps {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold" fill="#1f2933">%s <tspan font-weight="normal" fill="#52606d">(%s)</tspan></text>`+"\n",
			marginX, y+titleHeight-8, html.EscapeString(p.title), html.EscapeString(p.unit))
		y += titleHeight
		top := 0.0
		for _, br := range p.bars {
			top = max(top, br.value)
		}
		for _, br := range p.bars {
			colour := colourPeer
			switch {
			case isOurs(br.library):
				colour = colourOurs
			case isReference(br.library):
				colour = colourReference
			}
			width := 0.0
			if top > 0 {
				width = max(barMax*br.value/top, 1)
			}
			cy := y + rowHeight/2
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle" fill="#1f2933">%s</text>`,
				barX-8, cy, html.EscapeString(br.library))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, barX, cy-barHeight/2, width, barHeight, colour)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" dominant-baseline="middle" fill="#1f2933">%s</text>`+"\n",
				float64(barX)+width+6, cy, html.EscapeString(fmtNum(br.value)))
			y += rowHeight
		}
		y += panelGap
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
