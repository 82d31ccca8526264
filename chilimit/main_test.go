package chilimit

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaks a goroutine: fallback health checkers
// must stop on Close, and the process-wide limiter is closed first.
func TestMain(m *testing.M) {
	code := m.Run()
	if process.lim != nil {
		_ = process.lim.Close()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
