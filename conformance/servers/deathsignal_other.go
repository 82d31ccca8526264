//go:build !linux

package servers

import "os/exec"

// setDeathSignal does nothing where the kernel has no parent-death signal;
// servers are still stopped in t.Cleanup.
func setDeathSignal(*exec.Cmd) {}
