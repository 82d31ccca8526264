package memcached

import "github.com/limits-go/limits/limiter"

// InFlight returns how many calls are running on s, a *Storage, so that
// external tests can wait for a call to be under way instead of sleeping.
func InFlight(s limiter.Storage) int64 { return s.(*Storage).inflight.Load() }
