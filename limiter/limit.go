package limiter

import (
	"strconv"
	"time"
)

// A Unit is the granularity of a rate limit's window.
type Unit uint8

// The units a rate-limit string may name. A month is 30 days and a year is
// 360 days, as in the Python limits library, so that windows stay fixed
// lengths of time.
const (
	Second Unit = iota + 1
	Minute
	Hour
	Day
	Month
	Year
)

var unitNames = [...]string{
	Second: "second",
	Minute: "minute",
	Hour:   "hour",
	Day:    "day",
	Month:  "month",
	Year:   "year",
}

var unitDurations = [...]time.Duration{
	Second: time.Second,
	Minute: time.Minute,
	Hour:   time.Hour,
	Day:    24 * time.Hour,
	Month:  30 * 24 * time.Hour,
	Year:   360 * 24 * time.Hour,
}

// MaxWindow is the longest window a [Limit] may have: 50 years of 360 days,
// 18,000 days. [Parse] and [Limit.Validate] reject longer windows.
//
// The algorithms keep instants as Unix nanoseconds, which end in April 2262,
// and reach up to two windows past a request's instant (the reset of a
// sliding window counter, a token bucket's TAT plus a hit). A time.Duration
// alone would allow windows of 292 years, whose sums wrap around: "1 per 250
// years" would allow every hit and reset in 1687. With [Request.Now] before
// 2150, two windows of at most MaxWindow end before August 2248: inside
// int64 nanoseconds, and inside the microseconds the Redis storage's scripts
// keep exact in a double (until 2255).
const MaxWindow = 50 * 360 * 24 * time.Hour

// MaxAmount is the largest Amount a [Limit] may have: 2^43, about 8.8
// trillion (a terabyte per window, counted in bytes, is 10^12). [Parse] and
// [Limit.Validate] reject larger amounts.
//
// The Redis storage's scripts count in Lua numbers, doubles exact up to
// 2^53, and multiply counts by up to 1000 (nanoseconds in a microsecond):
// with larger amounts their answers would go wrong, and past 2^53 a count
// plus one is the same number, so a script could loop for ever, holding
// the server. The bound also keeps a token bucket within int64 nanoseconds
// when a window/Amount interval rounds up to one nanosecond.
const MaxAmount = 1 << 43

// maxMultiples holds, per unit, the largest Multiples whose window is at
// most MaxWindow. Validate runs on every hit; a table spares it a 64-bit
// division. Every unit divides MaxWindow.
var maxMultiples = [...]int64{
	Second: int64(MaxWindow / time.Second),
	Minute: int64(MaxWindow / time.Minute),
	Hour:   int64(MaxWindow / time.Hour),
	Day:    int64(MaxWindow / (24 * time.Hour)),
	Month:  int64(MaxWindow / (30 * 24 * time.Hour)),
	Year:   int64(MaxWindow / (360 * 24 * time.Hour)),
}

// String returns the unit's lower-case singular name, such as "hour", or
// "unit(N)" for a value that is not one of the constants.
func (u Unit) String() string {
	if u.valid() {
		return unitNames[u]
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

// Duration returns the length of one unit, or 0 for an invalid unit.
func (u Unit) Duration() time.Duration {
	if u.valid() {
		return unitDurations[u]
	}
	return 0
}

func (u Unit) valid() bool { return u >= Second && u <= Year }

// A Limit allows Amount hits in every window of Multiples × Unit.
//
// The zero value is not a valid limit; build limits with [Parse],
// [ParseMany] or a composite literal that sets all three fields.
type Limit struct {
	// Amount is how many hits the window allows. Zero is valid and makes a
	// limit that rejects every hit.
	Amount int64
	// Multiples is how many units one window lasts; at least 1.
	Multiples int64
	// Unit is the window's granularity.
	Unit Unit
}

// Window returns the length of the limit's window: Multiples × Unit.
// It returns 0 for a limit that fails [Limit.Validate].
func (l Limit) Window() time.Duration {
	if l.Validate() != nil {
		return 0
	}
	return time.Duration(l.Multiples) * l.Unit.Duration()
}

// String renders the limit as "10 per 1 hour", the form Flask-Limiter uses in
// its 429 responses. For a limit that passes [Limit.Validate] the result
// parses back to the same Limit.
func (l Limit) String() string {
	return string(l.appendText(make([]byte, 0, 32)))
}

// MarshalText implements [encoding.TextMarshaler], so a Limit is written
// as its String in JSON, YAML or flags ("10 per 1 hour"). A limit that
// fails [Limit.Validate] is an error.
func (l Limit) MarshalText() ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return l.appendText(nil), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [Parse], so
// configuration can hold a limit as text ("10/hour"); it leaves l as it
// was on an error.
func (l *Limit) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*l = p
	return nil
}

func (l Limit) appendText(b []byte) []byte {
	b = strconv.AppendInt(b, l.Amount, 10)
	b = append(b, " per "...)
	b = strconv.AppendInt(b, l.Multiples, 10)
	b = append(b, ' ')
	return append(b, l.Unit.String()...)
}

// Validate reports whether the limit can be enforced: 0 ≤ Amount ≤
// [MaxAmount], Multiples ≥ 1, a known Unit, and a window of at most
// [MaxWindow]. The error wraps [ErrInvalidLimit].
func (l Limit) Validate() error {
	switch {
	case l.Amount < 0:
		return &LimitError{Limit: l, Reason: "negative amount"}
	case l.Amount > MaxAmount:
		return &LimitError{Limit: l, Reason: maxAmountReason}
	case l.Multiples < 1:
		return &LimitError{Limit: l, Reason: "multiples must be at least 1"}
	case !l.Unit.valid():
		return &LimitError{Limit: l, Reason: "unknown unit"}
	case l.Multiples > maxMultiples[l.Unit]:
		return &LimitError{Limit: l, Reason: maxWindowReason}
	}
	return nil
}

// maxWindowReason says why a window is too long, in the words of
// [MaxWindow]'s comment.
const maxWindowReason = "window longer than MaxWindow, 50 years of 360 days"

// maxAmountReason says why an amount is too large.
const maxAmountReason = "amount above MaxAmount, 2^43 (8796093022208)"

// A LimitError reports a Limit value that cannot be enforced. It wraps
// [ErrInvalidLimit].
type LimitError struct {
	// Limit is the limit refused, as given.
	Limit Limit
	// Reason says what is wrong with it, e.g. "negative amount".
	Reason string
}

// Error returns "limiter: invalid limit {Amount:… Multiples:… Unit:…}: "
// followed by the reason.
func (e *LimitError) Error() string {
	return "limiter: invalid limit {Amount:" + strconv.FormatInt(e.Limit.Amount, 10) +
		" Multiples:" + strconv.FormatInt(e.Limit.Multiples, 10) +
		" Unit:" + e.Limit.Unit.String() + "}: " + e.Reason
}

// Unwrap returns [ErrInvalidLimit].
func (e *LimitError) Unwrap() error { return ErrInvalidLimit }
