// Package reliability holds the fault, load and hostile-input tests that
// exercise chilimit over real storages together: servers killed, paused and
// restarted under load, black-holing and latency proxies, a bounded soak, and
// spoofing attempts. It is test-only and never released.
package reliability
