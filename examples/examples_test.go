package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/limits-go/limits/limiter"
	_ "github.com/limits-go/limits/storage/memcached"
	_ "github.com/limits-go/limits/storage/memory"
	_ "github.com/limits-go/limits/storage/redis"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// examples returns the example directories: every directory here but
// internal.
func examples(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) < 15 {
		t.Fatalf("found %d example directories (%v), want at least 15", len(dirs), dirs)
	}
	return dirs
}

// Every example has tests named examples_test.go, a main program (but
// ownstorage, a library), and a row in README's table.
func TestEveryExampleIsTestedAndListed(t *testing.T) {
	doc := readme(t)
	for _, dir := range examples(t) {
		if _, err := os.Stat(filepath.Join(dir, "examples_test.go")); err != nil {
			t.Errorf("%s has no examples_test.go", dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil && dir != "ownstorage" {
			t.Errorf("%s has no main.go", dir)
		}
		if !strings.Contains(doc, "| ["+dir+"](examples/"+dir+") |") {
			t.Errorf("README.md's example table has no row for %s", dir)
		}
	}
}

// The harness README shows is the one that runs.
func TestReadmeHarnessSnippet(t *testing.T) {
	const marker = "<!-- snippet: examples/ownstorage/examples_test.go -->\n```go\n"
	doc := readme(t)
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("README.md has no %q", marker)
	}
	snippet := doc[i+len(marker):]
	snippet = snippet[:strings.Index(snippet, "```\n")]
	file, err := os.ReadFile("ownstorage/examples_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if snippet != string(file) {
		t.Errorf("README.md's harness differs from examples/ownstorage/examples_test.go:\n%s", snippet)
	}
}

// Every URI in README's storage section opens (no server is contacted
// until the first call) and every scheme is shown.
func TestReadmeStorageURIs(t *testing.T) {
	doc := readme(t)
	section := doc[strings.Index(doc, "## Storage URIs"):]
	block := regexp.MustCompile("(?s)```text\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal("no text block in README.md's Storage URIs section")
	}
	seen := map[string]bool{}
	for _, uri := range strings.Fields(block[1]) {
		s, err := limiter.Open(context.Background(), uri)
		if err != nil {
			t.Errorf("limiter.Open(%q): %v", uri, err)
			continue
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close of %q: %v", uri, err)
		}
		seen[uri[:strings.Index(uri, "://")]] = true
	}
	for _, scheme := range limiter.Schemes() {
		if !seen[scheme] {
			t.Errorf("README.md's Storage URIs show no %s:// URI", scheme)
		}
	}
}

// Every RATELIMIT_* key chilimit reads is in README's configuration table.
func TestReadmeConfigurationKeys(t *testing.T) {
	src, err := os.ReadFile("../chilimit/env.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := readme(t)
	keys := regexp.MustCompile(`"(RATELIMIT_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(keys) < 10 {
		t.Fatalf("found %d RATELIMIT_ keys in chilimit/env.go, want the full set", len(keys))
	}
	for _, k := range keys {
		// The table writes some keys in short: `RATELIMIT_HEADER_LIMIT`,
		// `_REMAINING`, ... and `RATELIMIT_STORAGE_URI` (or `_URL`).
		key, short := k[1], ""
		switch {
		case strings.HasPrefix(key, "RATELIMIT_HEADER_") && key != "RATELIMIT_HEADER_RETRY_AFTER_VALUE":
			short = "`_" + strings.TrimPrefix(key, "RATELIMIT_HEADER_") + "`"
		case key == "RATELIMIT_STORAGE_URL":
			short = "`RATELIMIT_STORAGE_URI` (or `_URL`)"
		}
		if !strings.Contains(doc, "`"+key+"`") && (short == "" || !strings.Contains(doc, short)) {
			t.Errorf("README.md does not document %s", key)
		}
	}
}

// Every relative link and image in README.md points at a file or directory
// of the repository.
func TestReadmeLinks(t *testing.T) {
	doc := readme(t)
	links := regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`).FindAllStringSubmatch(doc, -1)
	if len(links) < 20 {
		t.Fatalf("found %d links in README.md, want more", len(links))
	}
	for _, l := range links {
		target := l[1]
		if strings.Contains(target, "://") {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", target)); err != nil {
			t.Errorf("README.md links to %s: %v", target, err)
		}
	}
}
