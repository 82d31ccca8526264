// Command strategies sends the same requests through every rate-limiting
// strategy, on a manual clock, and draws the answers as an SVG timeline
// (one row per strategy) to docs/strategies.svg, and as text to the
// terminal. The picture in README.md is its output.
//
//	cd examples && go run ./strategies [-o ../docs/strategies.svg]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	out := flag.String("o", "../docs/strategies.svg", "where to write the SVG (relative to the examples directory)")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	rows, err := simulate(context.Background())
	if err != nil {
		return err
	}
	fmt.Print(renderText(rows))
	if err := os.WriteFile(out, renderSVG(rows), 0o644); err != nil {
		return fmt.Errorf("strategies: %w", err)
	}
	fmt.Println("wrote", out)
	return nil
}
