package examples_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var releasedModules = []string{"limiter", "storage/memory", "storage/redis", "storage/memcached", "conformance", "chilimit"}

// dryRun runs scripts/release-dry-run.sh with root as the repository and
// returns its output and exit code.
func dryRun(t *testing.T, root string, args ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script, err := filepath.Abs("../scripts/release-dry-run.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "RELEASE_ROOT="+root)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", script, err)
	}
	return string(out), 0
}

func TestReleaseDryRun(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tagsBefore := gitTags(t, root)
	out, code := dryRun(t, root, "v1.2.3")
	if code != 0 {
		t.Fatalf("release-dry-run.sh v1.2.3 exited %d:\n%s", code, out)
	}
	for _, dir := range releasedModules {
		if !strings.Contains(out, "\n  "+dir+"/v1.2.3\n") {
			t.Errorf("output does not list the tag %s/v1.2.3:\n%s", dir, out)
		}
	}
	for _, never := range []string{"examples/", "bench/", "reliability/"} {
		if strings.Contains(out, "  "+never+"v1.2.3") {
			t.Errorf("output tags %s, which is never released:\n%s", never, out)
		}
	}
	if after := gitTags(t, root); after != tagsBefore {
		t.Errorf("the dry run changed the tags: %q, then %q", tagsBefore, after)
	}
	for _, bad := range []string{"1.2.3", "v1.2", "v01.2.3", "latest"} {
		if out, code := dryRun(t, root, bad); code != 2 {
			t.Errorf("release-dry-run.sh %s exited %d, want 2 (usage):\n%s", bad, code, out)
		}
	}
}

func gitTags(t *testing.T, root string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	out, err := exec.Command("git", "-C", root, "tag", "-l").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	return string(out)
}

// The dry run fails on a sibling require without its replace, a replace
// pointing elsewhere, and a released module requiring one that is never
// released.
func TestReleaseDryRunFindsBrokenModules(t *testing.T) {
	tests := []struct {
		name, dir, gomod, want string
	}{
		{"missing replace", "chilimit",
			"module github.com/limits-go/limits/chilimit\n\ngo 1.25.0\n\nrequire github.com/limits-go/limits/limiter v0.0.0\n",
			"chilimit/go.mod: requires github.com/limits-go/limits/limiter without a replace"},
		{"replace elsewhere", "chilimit",
			"module github.com/limits-go/limits/chilimit\n\ngo 1.25.0\n\nrequire github.com/limits-go/limits/limiter v0.0.0\n\nreplace github.com/limits-go/limits/limiter => ../conformance\n",
			"does not point at limiter/"},
		{"unreleased sibling", "conformance",
			"module github.com/limits-go/limits/conformance\n\ngo 1.25.0\n\nrequire github.com/limits-go/limits/examples v0.0.0\n\nreplace github.com/limits-go/limits/examples => ../examples\n",
			"requires github.com/limits-go/limits/examples, which is never released"},
		{"wrong module path", "limiter",
			"module github.com/limits-go/limits/core\n\ngo 1.25.0\n",
			"limiter/go.mod: module github.com/limits-go/limits/core"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, dir := range append(releasedModules, "examples") {
				if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
					t.Fatal(err)
				}
				gomod := "module github.com/limits-go/limits/" + dir + "\n\ngo 1.25.0\n"
				if dir == tt.dir {
					gomod = tt.gomod
				}
				if err := os.WriteFile(filepath.Join(root, dir, "go.mod"), []byte(gomod), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, code := dryRun(t, root, "v0.1.0")
			if code != 1 || !strings.Contains(out, tt.want) || strings.Contains(out, "nothing was created") {
				t.Errorf("exit %d, output:\n%s\nwant exit 1 with %q and no tag list", code, out, tt.want)
			}
		})
	}
}

func TestReleaseScriptShellcheck(t *testing.T) {
	path, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed")
	}
	if out, err := exec.Command(path, "../scripts/release-dry-run.sh").CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
