package chilimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeHeaders sets the rate-limit headers for the limit the request is
// reported under: the breached one, else the one with the smallest window.
// Retry-After is set on rejections only: the time until the breached limit
// has room again.
func (l *Limiter) writeHeaders(w http.ResponseWriter, st *reqState, rejected bool) {
	if !l.headers || !st.haveBest {
		return
	}
	best := &st.best
	res := best.res
	// A breach reports what is left too, as Flask-Limiter does: a hit
	// costing more than that was rejected, and a cheaper one may fit.
	remaining := max(res.Remaining, 0)
	reset := res.ResetAt.Unix()
	if res.ResetAt.Nanosecond() > 0 {
		reset++
	}
	retry := rejected && best.breached
	n := 3
	if retry {
		n = 4
	}
	// The values come from the writer's arena: no allocation per request.
	a := &st.arena
	vals := a.values(n)
	vals[0], vals[1], vals[2] = best.cl.amount, a.number(remaining), a.resetNumber(reset)
	h := w.Header()
	h[l.names.Limit] = vals[0:1:1]
	h[l.names.Remaining] = vals[1:2:2]
	h[l.names.Reset] = vals[2:3:3]
	if retry {
		if l.retryAfterDate {
			vals[3] = httpDateAfter(st.now, res.RetryAfter)
		} else {
			vals[3] = a.number(ceilSeconds(res.RetryAfter))
		}
		h[l.names.RetryAfter] = vals[3:4:4]
	}
	if l.ietf {
		l.writeIETFHeaders(h, st)
	}
}

// clearHeaders removes the rate-limit headers an earlier step of the
// request wrote (Handler, an earlier route marker).
func (l *Limiter) clearHeaders(w http.ResponseWriter) {
	if !l.headers {
		return
	}
	h := w.Header()
	delete(h, l.names.Limit)
	delete(h, l.names.Remaining)
	delete(h, l.names.Reset)
	delete(h, l.names.RetryAfter)
	if l.ietf {
		h.Del("RateLimit")
		h.Del("RateLimit-Policy")
	}
}

// httpDateAfter renders the instant d after now as an HTTP date, rounded
// up to the second it falls in: a client retrying at that second is never
// early.
func httpDateAfter(now time.Time, d time.Duration) string {
	at := now.Add(max(d, 0))
	if up := at.Truncate(time.Second); up.Before(at) {
		at = up.Add(time.Second)
	}
	return at.UTC().Format(http.TimeFormat)
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// writeIETFHeaders sets RateLimit-Policy (every limit the request was
// checked against, or that a breach left unchecked) and RateLimit (the reported one) in the structured-field
// syntax of draft-ietf-httpapi-ratelimit-headers-10:
//
//	RateLimit-Policy: "1 per 1 second";q=1;w=1, "50 per 1 hour";q=50;w=3600
//	RateLimit: "1 per 1 second";r=0;t=1
func (l *Limiter) writeIETFHeaders(h http.Header, st *reqState) {
	var policy strings.Builder
	seen := make(map[string]bool, len(st.policies))
	for _, p := range st.policies {
		if seen[p.cl.text] {
			continue
		}
		seen[p.cl.text] = true
		if policy.Len() > 0 {
			policy.WriteString(", ")
		}
		policy.WriteString(strconv.Quote(p.cl.text))
		policy.WriteString(";q=")
		policy.WriteString(sfInteger(p.cl.limit.Amount))
		policy.WriteString(";w=")
		policy.WriteString(strconv.FormatInt(ceilSeconds(p.cl.window), 10))
	}
	h.Set("RateLimit-Policy", policy.String())
	best := &st.best
	remaining := max(best.res.Remaining, 0)
	t := best.res.ResetAt.Sub(st.now)
	if best.breached {
		t = best.res.RetryAfter
	}
	h.Set("RateLimit", strconv.Quote(best.cl.text)+";r="+sfInteger(remaining)+";t="+sfInteger(ceilSeconds(t)))
}

// sfInteger renders n ≥ 0 as a structured-field integer (RFC 9651), which
// has at most 15 digits: counts are at most limiter.MaxAmount (13 digits)
// and seconds at most limiter.MaxWindow's (10 digits).
func sfInteger(n int64) string {
	return strconv.FormatInt(n, 10)
}
