package chilimit

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/limits-go/limits/limiter"
)

// A compiledLimit is a parsed limit with the text rendered once, so the hot
// path formats nothing.
type compiledLimit struct {
	limit  limiter.Limit
	text   string // "1 per 1 day": the default 429 body
	amount string // "1": the X-RateLimit-Limit value
	window time.Duration
}

func compileLimit(l limiter.Limit) compiledLimit {
	return compiledLimit{limit: l, text: l.String(), amount: strconv.FormatInt(l.Amount, 10), window: l.Window()}
}

// compileSpecs parses every string (each may hold several limits) and sorts
// the limits by window, smallest first: stacked limits are checked in that
// order.
func compileSpecs(specs []string) ([]compiledLimit, error) {
	var out []compiledLimit
	for _, s := range specs {
		ls, err := limiter.ParseMany(s)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			out = append(out, compileLimit(l))
		}
	}
	sortLimits(out)
	return out, nil
}

func sortLimits(ls []compiledLimit) {
	slices.SortStableFunc(ls, func(a, b compiledLimit) int {
		switch {
		case a.window < b.window:
			return -1
		case a.window > b.window:
			return 1
		}
		return 0
	})
}

// A dynamicSource is a limit string read per request, with the parse of the
// last string it returned cached (configuration rarely changes).
type dynamicSource struct {
	fn    func(*http.Request) string
	cache atomic.Pointer[dynamicParse]
}

// addDynamic adds a dynamic source to g for each of fns.
func (g *group) addDynamic(fns []func(*http.Request) string) {
	for _, fn := range fns {
		g.dynamic = append(g.dynamic, &dynamicSource{fn: fn})
	}
}

type dynamicParse struct {
	spec   string
	limits []compiledLimit
	err    error
}

// limits returns the limits fn gives for r, parsed and, when check is not
// nil, checked by it once per spec (a storage that cannot hold them).
func (d *dynamicSource) limits(r *http.Request, check func([]compiledLimit) error) (string, []compiledLimit, error) {
	spec := d.fn(r)
	if p := d.cache.Load(); p != nil && p.spec == spec {
		return spec, p.limits, p.err
	}
	ls, err := compileSpecs([]string{spec})
	if err == nil && check != nil {
		if err = check(ls); err != nil {
			ls = nil
		}
	}
	// A copy: fn may return a slice of the request (a header's value).
	d.cache.Store(&dynamicParse{spec: strings.Clone(spec), limits: ls, err: err})
	return spec, ls, err
}

type groupKind uint8

const (
	kindDefault groupKind = iota
	kindApplication
	kindRoute
	kindShared
	kindFallback
	kindMeta
)

var kindNames = [...]string{"default", "application", "route", "shared", "fallback", "meta"}

func (k groupKind) String() string { return kindNames[k] }

// A group is a set of limits declared together, with the settings that go
// with them: the default limits, the application limits, or one Limit
// marker.
type group struct {
	kind        groupKind
	spec        string // as declared, for log messages
	limits      []compiledLimit
	dynamic     []*dynamicSource
	keyFunc     func(*http.Request) string // nil: the limiter's
	keyFuncID   keyFuncID                  // keyFunc's identity
	perMethod   bool
	methods     []string // upper case; empty: every method
	message     string
	messageFunc func(*http.Request) string
	exemptWhen  func(*http.Request) bool
	override    bool
	deductWhen  DeductFunc
	cost        int64
	costFunc    func(*http.Request) int64
	onBreach    BreachFunc
	scope       string
	scopeFunc   func(r *http.Request, pattern string) string
	bound       *Limiter // set by (*Limiter).Limit
	err         error    // the route limit string did not parse
}

// appliesTo reports whether the group's methods filter lets method through.
func (g *group) appliesTo(method string) bool {
	if len(g.methods) == 0 {
		return true
	}
	for _, m := range g.methods {
		if m == method {
			return true
		}
	}
	return false
}

func (g *group) messageFor(r *http.Request, l *compiledLimit) string {
	switch {
	case g.messageFunc != nil:
		return g.messageFunc(r)
	case g.message != "":
		return g.message
	}
	return l.text
}

func upperAll(ms []string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = strings.ToUpper(strings.TrimSpace(m))
	}
	return out
}
