package servers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// waitStopped returns once every thread of process pid is stopped. A
// SIGSTOP takes effect only when one thread of the process handles it and
// then stops the others: on a loaded machine another thread may answer a
// request in between, so Pause waits for the stop to be complete.
func waitStopped(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		stopped, err := allStopped(pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d not stopped after %v", pid, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// allStopped reports whether every thread of pid is in the stopped state
// ('T' in /proc/<pid>/task/<tid>/stat).
func allStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false, fmt.Errorf("threads of process %d: %v", pid, err)
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		// "tid (comm) S ...": the state follows the last ')', as comm
		// may hold any character.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("%s: unreadable %q", f, b)
		}
		if b[i+2] != 'T' {
			return false, nil
		}
	}
	return true, nil
}
