package conformance

import (
	"os"
	"strings"
	"testing"
)

// The package documentation lists every rule by its stable name.
func TestDocListsEveryRule(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range suite() {
		for _, r := range g.rules {
			name := g.name + "/" + r.name
			if r.perStrategy {
				name += "/*"
			}
			if !strings.Contains(string(doc), "//\t"+name+" ") && !strings.Contains(string(doc), "//\t"+name+"\n") {
				t.Errorf("doc.go does not list rule %s", name)
			}
		}
	}
}
