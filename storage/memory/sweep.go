package memory

import "time"

// sweepEvery runs the sweeper until Close: every interval it removes the
// state that has expired by the storage's clock, one shard at a time so hits
// on other shards proceed meanwhile.
func (s *Storage) sweepEvery(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep removes the state that has expired at the clock's current instant.
func (s *Storage) sweep() {
	now := s.clock.Now().UnixNano()
	for i := range s.shards {
		select {
		case <-s.stop:
			return
		default:
		}
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.sweep(now)
		sh.mu.Unlock()
	}
}
