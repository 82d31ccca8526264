package limiter

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A ParseError reports a malformed rate-limit string: the whole input, the
// byte offset where the problem was found and what is wrong there. It wraps
// [ErrInvalidLimit].
type ParseError struct {
	Input  string // the string given to Parse or ParseMany
	Offset int    // byte offset into Input
	Reason string // what is wrong, e.g. `unknown unit "weak"`
	Hint   string // what was expected instead; may be empty
}

// Error returns `limiter: parse "<input>": <reason> at offset <offset>`,
// followed by the hint in parentheses when there is one.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("limiter: parse ")
	b.WriteString(strconv.Quote(e.Input))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	b.WriteString(" at offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns [ErrInvalidLimit].
func (e *ParseError) Unwrap() error { return ErrInvalidLimit }

const unitHint = "want second, minute, hour, day, month or year"

// isSeparator reports whether c joins several limits in one string.
func isSeparator(c byte) bool { return c == ',' || c == ';' || c == '|' }

// Parse parses a string holding exactly one rate limit, in the grammar
//
//	[amount] [per|/] [multiples (optional)] [unit]
//
// where unit is second, minute, hour, day, month or year, optionally plural
// and in any case: "10 per hour", "10/hour", "5/2 seconds", "1 / Second",
// "500/7days". A window longer than [MaxWindow] (50 years of 360 days) is
// an error. Errors are [*ParseError] values naming the offset and the
// reason; a string with several limits is an error (use [ParseMany]).
func Parse(s string) (Limit, error) {
	p := parser{in: s}
	l, err := p.limit()
	if err != nil {
		return Limit{}, err
	}
	if p.pos < len(s) {
		return Limit{}, p.errorf(p.pos, "unexpected separator "+strconv.Quote(s[p.pos:p.pos+1]),
			"Parse takes exactly one limit; use ParseMany for several")
	}
	return l, nil
}

// MustParse is like [Parse] but panics with the same message if s is
// malformed. It is meant for limits written in code.
func MustParse(s string) Limit {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}

// ParseMany parses one or more rate limits joined by ",", ";" or "|", such as
// "10/hour;100/day;2000 per year" or "100/day, 500/7days". Empty parts,
// doubled and trailing separators are errors.
func ParseMany(s string) ([]Limit, error) {
	p := parser{in: s}
	var out []Limit
	for {
		l, err := p.limit()
		if err != nil {
			return nil, err
		}
		out = append(out, l)
		if p.pos == len(s) {
			return out, nil
		}
		p.pos++ // the separator limit() stopped at
	}
}

// parser walks one input string; pos is the next byte to read.
type parser struct {
	in  string
	pos int
}

func (p *parser) errorf(off int, reason, hint string) *ParseError {
	return &ParseError{Input: p.in, Offset: off, Reason: reason, Hint: hint}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			p.pos++
		default:
			return
		}
	}
}

// atEnd reports whether the current limit has ended: end of input or a
// separator.
func (p *parser) atEnd() bool { return p.pos == len(p.in) || isSeparator(p.in[p.pos]) }

// describe names the text at off for an error message: up to the next
// separator or space, at most 16 bytes and at least one character, never
// ending inside a UTF-8 sequence.
func (p *parser) describe(off int) string {
	if off >= len(p.in) {
		return "end of input"
	}
	end := off
	for end < len(p.in) && end-off < 16 && !isSeparator(p.in[end]) && p.in[end] != ' ' {
		end++
	}
	if end == off {
		end++
	}
	for end < len(p.in) && !utf8.RuneStart(p.in[end]) {
		end++
	}
	return strconv.Quote(p.in[off:end])
}

// wordEnd returns where the word starting at i ends: after its ASCII
// letters, and after any other Unicode letters and marks too, so that an
// error names a word such as "séconde" whole rather than its ASCII start.
func (p *parser) wordEnd(i int) int {
	for i < len(p.in) {
		if c := p.in[i]; c < utf8.RuneSelf {
			if !isLetter(c) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(p.in[i:])
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			break
		}
		i += n
	}
	return i
}

// limit parses one limit starting at pos and stops at a separator or the end
// of input.
func (p *parser) limit() (Limit, error) {
	afterSeparator := p.pos > 0
	p.skipSpace()
	if p.atEnd() {
		if afterSeparator {
			return Limit{}, p.errorf(p.pos, "empty limit after separator", "doubled or trailing separator")
		}
		return Limit{}, p.errorf(p.pos, "empty limit", `want e.g. "10 per hour"`)
	}

	amountAt := p.pos
	amount, err := p.number("amount")
	if err != nil {
		return Limit{}, err
	}
	if amount > MaxAmount {
		return Limit{}, p.errorf(amountAt, "amount "+p.in[amountAt:p.pos]+" is too large",
			"the largest, MaxAmount, is 2^43: 8796093022208")
	}

	p.skipSpace()
	switch {
	case p.pos < len(p.in) && p.in[p.pos] == '/':
		p.pos++
	case len(p.in)-p.pos >= 3 && strings.EqualFold(p.in[p.pos:p.pos+3], "per"):
		p.pos += 3
	case p.pos < len(p.in) && p.in[p.pos] == '.':
		return Limit{}, p.errorf(p.pos, "fractional amount", "amounts are whole numbers")
	default:
		return Limit{}, p.errorf(p.pos, "unexpected "+p.describe(p.pos)+" after amount", `want "per" or "/"`)
	}

	p.skipSpace()
	multAt := p.pos
	multiples := int64(1)
	if p.pos < len(p.in) && isDigit(p.in[p.pos]) {
		multiples, err = p.number("multiples")
		if err != nil {
			return Limit{}, err
		}
		if multiples == 0 {
			return Limit{}, p.errorf(multAt, "zero multiples", "a window is at least 1 unit long")
		}
		p.skipSpace()
	}

	unitAt := p.pos
	p.pos = p.wordEnd(p.pos)
	word := p.in[unitAt:p.pos]
	if word == "" {
		if p.pos < len(p.in) {
			switch p.in[p.pos] {
			case '.':
				return Limit{}, p.errorf(p.pos, "fractional multiples", "multiples are whole numbers")
			case '-':
				return Limit{}, p.errorf(p.pos, "negative multiples", "multiples are whole numbers of at least 1")
			case '+':
				return Limit{}, p.errorf(p.pos, "signed multiples", "multiples are whole numbers of at least 1, without a sign")
			}
		}
		return Limit{}, p.errorf(p.pos, "missing unit, found "+p.describe(p.pos), unitHint)
	}
	unit, ok := lookupUnit(word)
	if !ok {
		return Limit{}, p.errorf(unitAt, "unknown unit "+strconv.Quote(word), unitHint)
	}

	p.skipSpace()
	if !p.atEnd() {
		return Limit{}, p.errorf(p.pos, "unexpected "+p.describe(p.pos)+" after unit", "want a separator (, ; |) or the end")
	}

	if multiples > maxMultiples[unit] {
		return Limit{}, p.errorf(multAt, "window of "+strconv.FormatInt(multiples, 10)+" "+unit.String()+"s is too long",
			"the longest window, MaxWindow, is 50 years of 360 days: "+strconv.FormatInt(maxMultiples[unit], 10)+" "+unit.String()+"s")
	}
	return Limit{Amount: amount, Multiples: multiples, Unit: unit}, nil
}

// number reads a run of decimal digits as a non-negative int64.
func (p *parser) number(what string) (int64, error) {
	start := p.pos
	for p.pos < len(p.in) && isDigit(p.in[p.pos]) {
		p.pos++
	}
	if start == p.pos {
		if p.pos < len(p.in) && (p.in[p.pos] == '-' || p.in[p.pos] == '+') {
			return 0, p.errorf(p.pos, "signed "+what, what+" is an unsigned whole number")
		}
		return 0, p.errorf(p.pos, "missing "+what+", found "+p.describe(p.pos), "want a whole number such as 10")
	}
	n, err := strconv.ParseInt(p.in[start:p.pos], 10, 64)
	if err != nil && what == "amount" {
		return 0, p.errorf(start, "amount "+p.in[start:p.pos]+" is too large", "the largest, MaxAmount, is 2^43: 8796093022208")
	}
	if err != nil {
		return 0, p.errorf(start, what+" "+p.in[start:p.pos]+" overflows int64", "")
	}
	return n, nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// lookupUnit matches a unit name, singular or with a trailing "s", in any
// case. Only ASCII letters match: strings.EqualFold alone would take the
// long s of "ſecond" or the Kelvin sign for an "s" or a "k".
func lookupUnit(word string) (Unit, bool) {
	for i := range len(word) {
		if word[i] >= utf8.RuneSelf {
			return 0, false
		}
	}
	for u := Second; u <= Year; u++ {
		name := unitNames[u]
		if strings.EqualFold(word, name) ||
			len(word) == len(name)+1 && strings.EqualFold(word[:len(name)], name) && word[len(name)]|0x20 == 's' {
			return u, true
		}
	}
	return 0, false
}
