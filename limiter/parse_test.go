package limiter

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// lim is shorthand for a Limit literal in tables.
func lim(amount, multiples int64, u Unit) Limit {
	return Limit{Amount: amount, Multiples: multiples, Unit: u}
}

// parseOK lists strings that hold exactly one valid limit: every single-limit
// example of the Flask-Limiter documentation and DESIGN.md, then plural,
// case, whitespace, multiples, amount 0 and boundary variants.
var parseOK = []struct {
	in   string
	want Limit
}{
	// Flask-Limiter documentation.
	{"10 per hour", lim(10, 1, Hour)},
	{"10/hour", lim(10, 1, Hour)},
	{"200 per day", lim(200, 1, Day)},
	{"50 per hour", lim(50, 1, Hour)},
	{"1 per day", lim(1, 1, Day)},
	{"1/second", lim(1, 1, Second)},
	{"100/day", lim(100, 1, Day)},
	{"100/hour", lim(100, 1, Hour)},
	{"100/minute", lim(100, 1, Minute)},
	{"2/second", lim(2, 1, Second)},
	{"10/second", lim(10, 1, Second)},
	{"500/7days", lim(500, 7, Day)},
	{"2000 per year", lim(2000, 1, Year)},
	// DESIGN.md §2.
	{"5/2 seconds", lim(5, 2, Second)},
	{"1 / Second", lim(1, 1, Second)},
	// Every unit, singular and plural, in several cases.
	{"1/second", lim(1, 1, Second)},
	{"1/seconds", lim(1, 1, Second)},
	{"1/minute", lim(1, 1, Minute)},
	{"1/minutes", lim(1, 1, Minute)},
	{"1/hours", lim(1, 1, Hour)},
	{"1/day", lim(1, 1, Day)},
	{"1/days", lim(1, 1, Day)},
	{"1/month", lim(1, 1, Month)},
	{"1/months", lim(1, 1, Month)},
	{"1/year", lim(1, 1, Year)},
	{"1/years", lim(1, 1, Year)},
	{"10 PER HOUR", lim(10, 1, Hour)},
	{"10 Per Hours", lim(10, 1, Hour)},
	{"10 pEr 3 MiNuTeS", lim(10, 3, Minute)},
	{"3/MONTHS", lim(3, 1, Month)},
	{"1/YeArS", lim(1, 1, Year)},
	{"7/DAYs", lim(7, 1, Day)},
	{"7/dayS", lim(7, 1, Day)},
	// Whitespace: none, several, tabs and newlines, leading and trailing.
	{"10per hour", lim(10, 1, Hour)},
	{"10 perhour", lim(10, 1, Hour)},
	{"10per2hours", lim(10, 2, Hour)},
	{"10/2hours", lim(10, 2, Hour)},
	{"  10   per   2   hours  ", lim(10, 2, Hour)},
	{"\t10\t/\t2\tminutes\t", lim(10, 2, Minute)},
	{"\n10\r\n/\v5\fdays\n", lim(10, 5, Day)},
	{"10 /hour", lim(10, 1, Hour)},
	{"10/ hour", lim(10, 1, Hour)},
	// Multiples.
	{"5 per 30 seconds", lim(5, 30, Second)},
	{"1 per 1 second", lim(1, 1, Second)},
	{"100 per 15 minutes", lim(100, 15, Minute)},
	{"007/003 hours", lim(7, 3, Hour)},
	// Amount 0 is a limit that rejects everything.
	{"0/second", lim(0, 1, Second)},
	{"0 per 1 day", lim(0, 1, Day)},
	{"000 per year", lim(0, 1, Year)},
	// Boundaries: the largest amount and the longest windows, MaxWindow
	// (50 years of 360 days) in every unit.
	{"8796093022208/second", lim(MaxAmount, 1, Second)},
	{"1/1555200000 seconds", lim(1, 1555200000, Second)},
	{"1/25920000 minutes", lim(1, 25920000, Minute)},
	{"1/432000 hours", lim(1, 432000, Hour)},
	{"1/18000 days", lim(1, 18000, Day)},
	{"1/600 months", lim(1, 600, Month)},
	{"1/50 years", lim(1, 50, Year)},
}

const hintUnit = " (want second, minute, hour, day, month or year)"

// parseErrors lists strings Parse rejects, with the exact error text and
// offset. ParseMany rejects them the same way unless parseManyOK says
// otherwise.
var parseErrors = []struct {
	in     string
	offset int
	msg    string // the whole Error() text
}{
	// DESIGN.md's example, verbatim.
	{"10/weak", 3, `limiter: parse "10/weak": unknown unit "weak" at offset 3 (want second, minute, hour, day, month or year)`},
	// Unknown units.
	{"10/sec", 3, `limiter: parse "10/sec": unknown unit "sec" at offset 3` + hintUnit},
	{"1/week", 2, `limiter: parse "1/week": unknown unit "week" at offset 2` + hintUnit},
	{"2 per 2 weeks", 8, `limiter: parse "2 per 2 weeks": unknown unit "weeks" at offset 8` + hintUnit},
	// The documentation's "10/s" (a callable's fallback) is not valid
	// notation in Flask-Limiter either: "s" is not a unit.
	{"10/s", 3, `limiter: parse "10/s": unknown unit "s" at offset 3` + hintUnit},
	{"10/hourss", 3, `limiter: parse "10/hourss": unknown unit "hourss" at offset 3` + hintUnit},
	{"10/hr", 3, `limiter: parse "10/hr": unknown unit "hr" at offset 3` + hintUnit},
	{"10 / per hour", 5, `limiter: parse "10 / per hour": unknown unit "per" at offset 5` + hintUnit},
	// Missing pieces.
	{"", 0, `limiter: parse "": empty limit at offset 0 (want e.g. "10 per hour")`},
	{"   ", 3, `limiter: parse "   ": empty limit at offset 3 (want e.g. "10 per hour")`},
	{"hour", 0, `limiter: parse "hour": missing amount, found "hour" at offset 0 (want a whole number such as 10)`},
	{"ten per hour", 0, `limiter: parse "ten per hour": missing amount, found "ten" at offset 0 (want a whole number such as 10)`},
	{"/hour", 0, `limiter: parse "/hour": missing amount, found "/hour" at offset 0 (want a whole number such as 10)`},
	{"10", 2, `limiter: parse "10": unexpected end of input after amount at offset 2 (want "per" or "/")`},
	{"10 hour", 3, `limiter: parse "10 hour": unexpected "hour" after amount at offset 3 (want "per" or "/")`},
	{"10,5/hour", 2, `limiter: parse "10,5/hour": unexpected "," after amount at offset 2 (want "per" or "/")`},
	{"10 abcdefghijklmnopqrstuvwxyz", 3, `limiter: parse "10 abcdefghijklmnopqrstuvwxyz": unexpected "abcdefghijklmnop" after amount at offset 3 (want "per" or "/")`},
	{"10 pe hour", 3, `limiter: parse "10 pe hour": unexpected "pe" after amount at offset 3 (want "per" or "/")`},
	{"10/", 3, `limiter: parse "10/": missing unit, found end of input at offset 3` + hintUnit},
	{"10 per", 6, `limiter: parse "10 per": missing unit, found end of input at offset 6` + hintUnit},
	{"10/2", 4, `limiter: parse "10/2": missing unit, found end of input at offset 4` + hintUnit},
	{"10 per 2 3 hours", 9, `limiter: parse "10 per 2 3 hours": missing unit, found "3" at offset 9` + hintUnit},
	{"10//hour", 3, `limiter: parse "10//hour": missing unit, found "/hour" at offset 3` + hintUnit},
	// Words with letters beyond ASCII are named whole.
	{"10 per séconde", 7, `limiter: parse "10 per séconde": unknown unit "séconde" at offset 7` + hintUnit},
	{"10 per se\u0301conde", 7, "limiter: parse \"10 per se\u0301conde\": unknown unit \"se\u0301conde\" at offset 7" + hintUnit},
	{"10/Stunde", 3, `limiter: parse "10/Stunde": unknown unit "Stunde" at offset 3` + hintUnit},
	{"10/час", 3, `limiter: parse "10/час": unknown unit "час" at offset 3` + hintUnit},
	{"1/ſecond", 2, `limiter: parse "1/ſecond": unknown unit "ſecond" at offset 2` + hintUnit},
	{"1/\u212aday", 2, "limiter: parse \"1/\u212aday\": unknown unit \"\u212aday\" at offset 2" + hintUnit},
	{"10/hour\u00a0", 7, `limiter: parse "10/hour\u00a0": unexpected "\u00a0" after unit at offset 7 (want a separator (, ; |) or the end)`},
	{"10/€", 3, `limiter: parse "10/€": missing unit, found "€" at offset 3` + hintUnit},
	{"10/\xffhour", 3, `limiter: parse "10/\xffhour": missing unit, found "\xffhour" at offset 3` + hintUnit},
	{"10 ééééééééé hour", 3, `limiter: parse "10 ééééééééé hour": unexpected "éééééééé" after amount at offset 3 (want "per" or "/")`},
	// Trailing text.
	{"10/hour5", 7, `limiter: parse "10/hour5": unexpected "5" after unit at offset 7 (want a separator (, ; |) or the end)`},
	{"10/hour extra", 8, `limiter: parse "10/hour extra": unexpected "extra" after unit at offset 8 (want a separator (, ; |) or the end)`},
	{"10/hour/day", 7, `limiter: parse "10/hour/day": unexpected "/day" after unit at offset 7 (want a separator (, ; |) or the end)`},
	{"10/hour 5/day", 8, `limiter: parse "10/hour 5/day": unexpected "5/day" after unit at offset 8 (want a separator (, ; |) or the end)`},
	// Zero, negative and fractional numbers.
	{"10/0 hours", 3, `limiter: parse "10/0 hours": zero multiples at offset 3 (a window is at least 1 unit long)`},
	{"10 per 000 days", 7, `limiter: parse "10 per 000 days": zero multiples at offset 7 (a window is at least 1 unit long)`},
	{"-10/hour", 0, `limiter: parse "-10/hour": signed amount at offset 0 (amount is an unsigned whole number)`},
	{"+10/hour", 0, `limiter: parse "+10/hour": signed amount at offset 0 (amount is an unsigned whole number)`},
	{"  -1 per day", 2, `limiter: parse "  -1 per day": signed amount at offset 2 (amount is an unsigned whole number)`},
	{"10/-2 hours", 3, `limiter: parse "10/-2 hours": negative multiples at offset 3 (multiples are whole numbers of at least 1)`},
	{"10 per -1 hour", 7, `limiter: parse "10 per -1 hour": negative multiples at offset 7 (multiples are whole numbers of at least 1)`},
	{"10/+2 hours", 3, `limiter: parse "10/+2 hours": signed multiples at offset 3 (multiples are whole numbers of at least 1, without a sign)`},
	{"10/ +2 hours", 4, `limiter: parse "10/ +2 hours": signed multiples at offset 4 (multiples are whole numbers of at least 1, without a sign)`},
	{"10 per +hour", 7, `limiter: parse "10 per +hour": signed multiples at offset 7 (multiples are whole numbers of at least 1, without a sign)`},
	{"1.5/hour", 1, `limiter: parse "1.5/hour": fractional amount at offset 1 (amounts are whole numbers)`},
	{"10 .5 per hour", 3, `limiter: parse "10 .5 per hour": fractional amount at offset 3 (amounts are whole numbers)`},
	{"10/1.5 hours", 4, `limiter: parse "10/1.5 hours": fractional multiples at offset 4 (multiples are whole numbers)`},
	{"10/.5 hours", 3, `limiter: parse "10/.5 hours": fractional multiples at offset 3 (multiples are whole numbers)`},
	// Values that overflow.
	{"9223372036854775808/hour", 0, `limiter: parse "9223372036854775808/hour": amount 9223372036854775808 is too large at offset 0 (the largest, MaxAmount, is 2^43: 8796093022208)`},
	{"99999999999999999999999 per day", 0, `limiter: parse "99999999999999999999999 per day": amount 99999999999999999999999 is too large at offset 0 (the largest, MaxAmount, is 2^43: 8796093022208)`},
	{"1/9223372036854775808 hours", 2, `limiter: parse "1/9223372036854775808 hours": multiples 9223372036854775808 overflows int64 at offset 2`},
	// Windows longer than MaxWindow: the algorithms reach two windows past
	// now, and Unix nanoseconds end in 2262.
	{"1/1555200001 seconds", 2, `limiter: parse "1/1555200001 seconds": window of 1555200001 seconds is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 1555200000 seconds)`},
	{"1/25920001 minutes", 2, `limiter: parse "1/25920001 minutes": window of 25920001 minutes is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 25920000 minutes)`},
	{"1/432001 hours", 2, `limiter: parse "1/432001 hours": window of 432001 hours is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 432000 hours)`},
	{"1/18001 days", 2, `limiter: parse "1/18001 days": window of 18001 days is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 18000 days)`},
	{"1/601 months", 2, `limiter: parse "1/601 months": window of 601 months is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 600 months)`},
	{"1 per  51 years", 7, `limiter: parse "1 per  51 years": window of 51 years is too long at offset 7 (the longest window, MaxWindow, is 50 years of 360 days: 50 years)`},
	{"1 per 250 years", 6, `limiter: parse "1 per 250 years": window of 250 years is too long at offset 6 (the longest window, MaxWindow, is 50 years of 360 days: 50 years)`},
	{"1/297 years", 2, `limiter: parse "1/297 years": window of 297 years is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 50 years)`},
	{"1/9223372037 seconds", 2, `limiter: parse "1/9223372037 seconds": window of 9223372037 seconds is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 1555200000 seconds)`},
	{"8796093022209/second", 0, `limiter: parse "8796093022209/second": amount 8796093022209 is too large at offset 0 (the largest, MaxAmount, is 2^43: 8796093022208)`},
	{"9223372036854775807 per day", 0, `limiter: parse "9223372036854775807 per day": amount 9223372036854775807 is too large at offset 0 (the largest, MaxAmount, is 2^43: 8796093022208)`},
	{"1/9223372036854775807 years", 2, `limiter: parse "1/9223372036854775807 years": window of 9223372036854775807 years is too long at offset 2 (the longest window, MaxWindow, is 50 years of 360 days: 50 years)`},
}

// parseManyOK lists strings with one or more limits, including every
// multi-limit example of the documentation and DESIGN.md and each separator.
var parseManyOK = []struct {
	in   string
	want []Limit
}{
	{"10/hour;100/day;2000 per year", []Limit{lim(10, 1, Hour), lim(100, 1, Day), lim(2000, 1, Year)}},
	{"100/day, 500/7days", []Limit{lim(100, 1, Day), lim(500, 7, Day)}},
	{"200 per day, 50 per hour", []Limit{lim(200, 1, Day), lim(50, 1, Hour)}},
	{"1/second|10/minute", []Limit{lim(1, 1, Second), lim(10, 1, Minute)}},
	{"1/second , 10/minute ; 100/hour | 1000/day", []Limit{lim(1, 1, Second), lim(10, 1, Minute), lim(100, 1, Hour), lim(1000, 1, Day)}},
	{"5/2 seconds;5/2 seconds", []Limit{lim(5, 2, Second), lim(5, 2, Second)}},
	{"0/day,\t1 / Second\n", []Limit{lim(0, 1, Day), lim(1, 1, Second)}},
	{"1 per 2 hours,3 PER 4 DAYS", []Limit{lim(1, 2, Hour), lim(3, 4, Day)}},
}

// parseManyErrors lists strings only ParseMany sees: separator errors and
// errors in a later part, whose offsets count from the start of the whole
// input.
var parseManyErrors = []struct {
	in     string
	offset int
	msg    string
}{
	{"10/hour,,5/day", 8, `limiter: parse "10/hour,,5/day": empty limit after separator at offset 8 (doubled or trailing separator)`},
	{"10/hour;;5/day", 8, `limiter: parse "10/hour;;5/day": empty limit after separator at offset 8 (doubled or trailing separator)`},
	{"10/hour||5/day", 8, `limiter: parse "10/hour||5/day": empty limit after separator at offset 8 (doubled or trailing separator)`},
	{"1/day|;2/day", 6, `limiter: parse "1/day|;2/day": empty limit after separator at offset 6 (doubled or trailing separator)`},
	{"10/hour, ,5/day", 9, `limiter: parse "10/hour, ,5/day": empty limit after separator at offset 9 (doubled or trailing separator)`},
	{"10/hour;", 8, `limiter: parse "10/hour;": empty limit after separator at offset 8 (doubled or trailing separator)`},
	{"10/hour, ", 9, `limiter: parse "10/hour, ": empty limit after separator at offset 9 (doubled or trailing separator)`},
	{"10/hour|", 8, `limiter: parse "10/hour|": empty limit after separator at offset 8 (doubled or trailing separator)`},
	{",10/hour", 0, `limiter: parse ",10/hour": empty limit at offset 0 (want e.g. "10 per hour")`},
	{" ;10/hour", 1, `limiter: parse " ;10/hour": empty limit at offset 1 (want e.g. "10 per hour")`},
	{",", 0, `limiter: parse ",": empty limit at offset 0 (want e.g. "10 per hour")`},
	{"10/hour|5/weak", 10, `limiter: parse "10/hour|5/weak": unknown unit "weak" at offset 10` + hintUnit},
	{"10/hour; 5 per 0 days", 15, `limiter: parse "10/hour; 5 per 0 days": zero multiples at offset 15 (a window is at least 1 unit long)`},
	{"1/day,-1/day", 6, `limiter: parse "1/day,-1/day": signed amount at offset 6 (amount is an unsigned whole number)`},
	{"1/day, 1/51 years", 9, `limiter: parse "1/day, 1/51 years": window of 51 years is too long at offset 9 (the longest window, MaxWindow, is 50 years of 360 days: 50 years)`},
	{"1/day;1.5/day", 7, `limiter: parse "1/day;1.5/day": fractional amount at offset 7 (amounts are whole numbers)`},
}

// checkParseError asserts that err is a *ParseError for in with the given
// offset and text, wrapping ErrInvalidLimit.
func checkParseError(t *testing.T, call, in string, err error, offset int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s(%q) succeeded, want error %q", call, in, msg)
	}
	if got := err.Error(); got != msg {
		t.Errorf("%s(%q) error =\n\t%s\nwant\n\t%s", call, in, got, msg)
	}
	if !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("%s(%q) error %v does not wrap ErrInvalidLimit", call, in, err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%s(%q) error %T is not a *ParseError", call, in, err)
	}
	if pe.Offset != offset {
		t.Errorf("%s(%q) error offset = %d, want %d", call, in, pe.Offset, offset)
	}
	if pe.Input != in {
		t.Errorf("%s(%q) error input = %q, want the whole input", call, in, pe.Input)
	}
	if pe.Offset < 0 || pe.Offset > len(in) {
		t.Errorf("%s(%q) error offset %d outside the input", call, in, pe.Offset)
	}
}

func TestParse(t *testing.T) {
	for _, tt := range parseOK {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrors {
		got, err := Parse(tt.in)
		if got != (Limit{}) {
			t.Errorf("Parse(%q) returned limit %+v with its error, want the zero Limit", tt.in, got)
		}
		checkParseError(t, "Parse", tt.in, err, tt.offset, tt.msg)
	}
}

func TestParseRejectsSeveralLimits(t *testing.T) {
	const hint = " (Parse takes exactly one limit; use ParseMany for several)"
	for _, tt := range []struct {
		in     string
		offset int
		sep    string
	}{
		{"10/hour;100/day;2000 per year", 7, ";"},
		{"100/day, 500/7days", 7, ","},
		{"1/second|2/second", 8, "|"},
		{"10/hour ;", 8, ";"},
		{"10/hour,", 7, ","},
	} {
		_, err := Parse(tt.in)
		msg := `limiter: parse "` + tt.in + `": unexpected separator "` + tt.sep + `" at offset ` +
			strconv.Itoa(tt.offset) + hint
		checkParseError(t, "Parse", tt.in, err, tt.offset, msg)
	}
}

func TestParseMany(t *testing.T) {
	for _, tt := range parseManyOK {
		got, err := ParseMany(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMany(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
	// A single limit is a list of one.
	for _, tt := range parseOK {
		got, err := ParseMany(tt.in)
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("ParseMany(%q) = %+v, %v, want [%+v]", tt.in, got, err, tt.want)
		}
	}
}

func TestParseManyErrors(t *testing.T) {
	for _, tt := range parseManyErrors {
		got, err := ParseMany(tt.in)
		if got != nil {
			t.Errorf("ParseMany(%q) returned %+v with its error, want nil", tt.in, got)
		}
		checkParseError(t, "ParseMany", tt.in, err, tt.offset, tt.msg)
	}
	// Every single-limit error is reported the same way by ParseMany.
	for _, tt := range parseErrors {
		_, err := ParseMany(tt.in)
		checkParseError(t, "ParseMany", tt.in, err, tt.offset, tt.msg)
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("5/2 seconds"); got != lim(5, 2, Second) {
		t.Errorf("MustParse(%q) = %+v, want %+v", "5/2 seconds", got, lim(5, 2, Second))
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok {
			t.Fatalf("MustParse(%q) panicked with %v (%T), want an error", "10/weak", r, r)
		}
		const want = `limiter: parse "10/weak": unknown unit "weak" at offset 3 (want second, minute, hour, day, month or year)`
		if err.Error() != want || !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("MustParse(%q) panicked with %q, want %q wrapping ErrInvalidLimit", "10/weak", err, want)
		}
	}()
	MustParse("10/weak")
	t.Errorf("MustParse(%q) did not panic", "10/weak")
}

func TestParseErrorWithoutHint(t *testing.T) {
	e := &ParseError{Input: "x", Offset: 0, Reason: "broken"}
	if got, want := e.Error(), `limiter: parse "x": broken at offset 0`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrInvalidLimit) {
		t.Errorf("ParseError does not wrap ErrInvalidLimit")
	}
}

// TestParseRoundTrip checks that every valid limit renders with String to a
// string that parses back to the same value.
func TestParseRoundTrip(t *testing.T) {
	for _, tt := range parseOK {
		s := tt.want.String()
		got, err := Parse(s)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v, want %+v", tt.in, s, got, err, tt.want)
		}
	}
}

// FuzzParse checks that Parse never panics, that whatever it accepts is a
// valid limit whose String parses back to the same value, and that whatever
// it rejects is a *ParseError with an offset inside the input.
func FuzzParse(f *testing.F) {
	for _, tt := range parseOK {
		f.Add(tt.in)
	}
	for _, tt := range parseErrors {
		f.Add(tt.in)
	}
	for _, tt := range parseManyOK {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("Parse(%q) error %v (%T) is not a *ParseError wrapping ErrInvalidLimit", s, err, err)
			}
			if pe.Input != s || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("Parse(%q) error has input %q, offset %d", s, pe.Input, pe.Offset)
			}
			return
		}
		if verr := l.Validate(); verr != nil {
			t.Fatalf("Parse(%q) = %+v, which fails Validate: %v", s, l, verr)
		}
		if l.Window() <= 0 {
			t.Fatalf("Parse(%q) = %+v with window %v", s, l, l.Window())
		}
		back, err := Parse(l.String())
		if err != nil || back != l {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v", s, l, l.String(), back, err)
		}
		many, err := ParseMany(s)
		if err != nil || len(many) != 1 || many[0] != l {
			t.Fatalf("Parse(%q) = %+v but ParseMany = %+v, %v", s, l, many, err)
		}
	})
}

// FuzzParseMany checks that ParseMany never panics and that the limits it
// returns, rendered and joined with each separator, parse back to the same
// list.
func FuzzParseMany(f *testing.F) {
	for _, tt := range parseManyOK {
		f.Add(tt.in)
	}
	for _, tt := range parseManyErrors {
		f.Add(tt.in)
	}
	for _, tt := range parseOK {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ParseMany(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("ParseMany(%q) error %v (%T) is not a *ParseError wrapping ErrInvalidLimit", s, err, err)
			}
			if pe.Input != s || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("ParseMany(%q) error has input %q, offset %d", s, pe.Input, pe.Offset)
			}
			if ls != nil {
				t.Fatalf("ParseMany(%q) returned %+v with error %v", s, ls, err)
			}
			return
		}
		if len(ls) == 0 {
			t.Fatalf("ParseMany(%q) returned no limits and no error", s)
		}
		strs := make([]string, len(ls))
		for i, l := range ls {
			if verr := l.Validate(); verr != nil {
				t.Fatalf("ParseMany(%q)[%d] = %+v, which fails Validate: %v", s, i, l, verr)
			}
			strs[i] = l.String()
		}
		for _, sep := range []string{",", "; ", " | "} {
			joined := strings.Join(strs, sep)
			back, err := ParseMany(joined)
			if err != nil || !reflect.DeepEqual(back, ls) {
				t.Fatalf("ParseMany(%q) = %+v; ParseMany(%q) = %+v, %v", s, ls, joined, back, err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse("100 per 7 days"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseMany", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseMany("10/hour;100/day;2000 per year"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
