package chilimit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Validate reports the route limits on routes whose limit strings do not
// parse, or that the limiter's storage cannot hold (limiter.CheckLimit;
// [New] checks the default, application and meta limits so): one error
// per such limit, naming the first route it is on, each wrapping
// [ErrInvalidConfig] and the cause (a parse error wrapping
// limiter.ErrInvalidLimit, or limiter.ErrUnsupported). It returns nil when
// every route limit can be enforced.
//
// A malformed route limit does not stop the router: as in Flask-Limiter,
// it is logged when made and its routes fall back to the default limits,
// which may be none. Call Validate once the routes are registered, before
// serving or in a test, to fail fast on a typo instead:
//
//	if err := lim.Validate(r); err != nil {
//		log.Fatal(err)
//	}
//
// It sees the limits Handler sees (in r.With chains, Use stacks, mounted
// routers, and wrapped directly around handlers), whichever Limiter they
// belong to; limits read per request ([LimitFunc]) are checked when read.
func (l *Limiter) Validate(routes chi.Routes) error {
	if routes == nil {
		return fmt.Errorf("%w: Validate(nil): want the router", ErrInvalidConfig)
	}
	idx := buildIndex(routes, l)
	keys := make([]routeKey, 0, len(idx.entries))
	for k := range idx.entries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b routeKey) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.method, b.method)
	})
	var errs []error
	seen := make(map[*group]bool)
	for _, k := range keys {
		for _, g := range idx.entries[k].all {
			if seen[g] {
				continue
			}
			seen[g] = true
			err := g.err
			if err == nil && (g.bound == nil || g.bound == l) {
				err = l.checkLimits(g)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s %s: route limit %q: %w", ErrInvalidConfig, k.method, k.path, g.spec, err))
			}
		}
	}
	return errors.Join(errs...)
}
