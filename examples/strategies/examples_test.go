package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/limits-go/limits/limiter"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// committed is the picture README.md shows.
const committed = "../../docs/strategies.svg"

// The committed SVG is exactly what the example draws: regenerate it with
// `cd examples && go run ./strategies` after changing the traffic, the
// drawing or a strategy.
func TestSVGMatchesCommittedCopy(t *testing.T) {
	rows, err := simulate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if got := renderSVG(rows); !bytes.Equal(got, want) {
		t.Errorf("renderSVG differs from %s (%d bytes, want %d): run `cd examples && go run ./strategies` and commit docs/strategies.svg",
			committed, len(got), len(want))
	}
}

func TestRunWritesTheSVG(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.svg")
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("run(%q) wrote %d bytes differing from %s", out, len(got), committed)
	}
}

// maxIn returns the largest number of allowed requests within any interval
// of length window.
func maxIn(allowed []bool, window time.Duration) int {
	best := 0
	for i := range traffic {
		n := 0
		for j := i; j < len(traffic) && traffic[j]-traffic[i] < window; j++ {
			if allowed[j] {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// What the picture is meant to show holds for the simulated answers.
func TestPictureShowsTheDifferences(t *testing.T) {
	rows, err := simulate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]bool{}
	var names []string
	for _, r := range rows {
		got[r.strategy] = r.allowed
		names = append(names, r.strategy)
	}
	if !slices.Equal(names, limiter.Strategies()) {
		t.Fatalf("rows %v, want one per strategy %v", names, limiter.Strategies())
	}
	window := limit.Window()
	if n := maxIn(got[limiter.StrategyMovingWindow], window); n != 5 {
		t.Errorf("moving-window allows at most %d in 10s, want exactly 5", n)
	}
	if n := maxIn(got[limiter.StrategyFixedWindow], window); n < 9 {
		t.Errorf("fixed-window allows at most %d in 10s, want the burst across a window's end (9)", n)
	}
	// The steady trickle from 36s keeps the elastic window closed.
	for i, at := range traffic {
		if at >= 36*time.Second && got[limiter.StrategyFixedWindowElasticExpiry][i] {
			t.Errorf("fixed-window-elastic-expiry allowed the request at %v, want it locked out", at)
		}
	}
	// Every strategy allows the first 5 and lets the lone request at 17s
	// through.
	for name, allowed := range got {
		if !slices.Equal(allowed[:5], []bool{true, true, true, true, true}) {
			t.Errorf("%s: first five %v, want all allowed", name, allowed[:5])
		}
		if i := slices.Index(traffic, 17*time.Second); !allowed[i] {
			t.Errorf("%s rejected the request at 17s", name)
		}
	}
}
