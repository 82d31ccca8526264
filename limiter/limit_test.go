package limiter

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestUnit(t *testing.T) {
	for _, tt := range []struct {
		u    Unit
		name string
		d    time.Duration
	}{
		{Second, "second", time.Second},
		{Minute, "minute", time.Minute},
		{Hour, "hour", time.Hour},
		{Day, "day", 24 * time.Hour},
		{Month, "month", 30 * 24 * time.Hour},
		{Year, "year", 360 * 24 * time.Hour},
		{0, "unit(0)", 0},
		{7, "unit(7)", 0},
		{255, "unit(255)", 0},
	} {
		if got := tt.u.String(); got != tt.name {
			t.Errorf("Unit(%d).String() = %q, want %q", uint8(tt.u), got, tt.name)
		}
		if got := tt.u.Duration(); got != tt.d {
			t.Errorf("Unit(%d).Duration() = %v, want %v", uint8(tt.u), got, tt.d)
		}
	}
}

func TestLimitString(t *testing.T) {
	for _, tt := range []struct {
		l    Limit
		want string
	}{
		{lim(10, 1, Hour), "10 per 1 hour"},
		{lim(200, 1, Day), "200 per 1 day"},
		{lim(500, 7, Day), "500 per 7 day"},
		{lim(5, 2, Second), "5 per 2 second"},
		{lim(0, 1, Minute), "0 per 1 minute"},
		{lim(3, 1, Month), "3 per 1 month"},
		{lim(2000, 1, Year), "2000 per 1 year"},
		{lim(1<<63-1, 50, Year), "9223372036854775807 per 50 year"},
		{lim(1, 297, Year), "1 per 297 year"},
		// Invalid limits still render, so error messages can show them.
		{lim(-1, 0, 9), "-1 per 0 unit(9)"},
		{Limit{}, "0 per 0 unit(0)"},
	} {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.l, got, tt.want)
		}
	}
}

func TestLimitWindow(t *testing.T) {
	for _, tt := range []struct {
		l    Limit
		want time.Duration
	}{
		{lim(10, 1, Second), time.Second},
		{lim(5, 2, Second), 2 * time.Second},
		{lim(1, 15, Minute), 15 * time.Minute},
		{lim(10, 1, Hour), time.Hour},
		{lim(500, 7, Day), 7 * 24 * time.Hour},
		{lim(1, 1, Month), 720 * time.Hour},
		{lim(1, 1, Year), 8640 * time.Hour},
		{lim(0, 3, Minute), 3 * time.Minute},
		{lim(1, 1555200000, Second), MaxWindow},
		{lim(1, 50, Year), MaxWindow},
		{lim(1, 600, Month), MaxWindow},
		// Invalid limits have no window.
		{lim(-1, 1, Hour), 0},
		{lim(1, 0, Hour), 0},
		{lim(1, 1, 0), 0},
		{lim(1, 51, Year), 0},
		{lim(1, 1555200001, Second), 0},
		{lim(1, 297, Year), 0},
		{Limit{}, 0},
	} {
		if got := tt.l.Window(); got != tt.want {
			t.Errorf("%v.Window() = %v, want %v", tt.l, got, tt.want)
		}
	}
}

func TestLimitValidate(t *testing.T) {
	for _, tt := range []struct {
		l    Limit
		want string // "" for valid
	}{
		{lim(10, 1, Hour), ""},
		{lim(0, 1, Second), ""},
		{lim(MaxAmount, 1, Second), ""},
		{lim(1, 50, Year), ""},
		{lim(1, 600, Month), ""},
		{lim(1, 18000, Day), ""},
		{lim(1, 432000, Hour), ""},
		{lim(1, 25920000, Minute), ""},
		{lim(1, 1555200000, Second), ""},
		{lim(-1, 1, Hour), "limiter: invalid limit {Amount:-1 Multiples:1 Unit:hour}: negative amount"},
		// Amounts above MaxAmount, which the Redis scripts' doubles cannot
		// count by one.
		{lim(MaxAmount+1, 1, Second), "limiter: invalid limit {Amount:8796093022209 Multiples:1 Unit:second}: amount above MaxAmount, 2^43 (8796093022208)"},
		{lim(1<<63-1, 1, Hour), "limiter: invalid limit {Amount:9223372036854775807 Multiples:1 Unit:hour}: amount above MaxAmount, 2^43 (8796093022208)"},
		{lim(1, 0, Hour), "limiter: invalid limit {Amount:1 Multiples:0 Unit:hour}: multiples must be at least 1"},
		{lim(1, -5, Day), "limiter: invalid limit {Amount:1 Multiples:-5 Unit:day}: multiples must be at least 1"},
		{lim(1, 1, 0), "limiter: invalid limit {Amount:1 Multiples:1 Unit:unit(0)}: unknown unit"},
		{lim(1, 1, 7), "limiter: invalid limit {Amount:1 Multiples:1 Unit:unit(7)}: unknown unit"},
		{Limit{}, "limiter: invalid limit {Amount:0 Multiples:0 Unit:unit(0)}: multiples must be at least 1"},
		// Windows longer than MaxWindow, which the algorithms' Unix
		// nanoseconds cannot reach two windows past now.
		{lim(1, 51, Year), "limiter: invalid limit {Amount:1 Multiples:51 Unit:year}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 250, Year), "limiter: invalid limit {Amount:1 Multiples:250 Unit:year}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 601, Month), "limiter: invalid limit {Amount:1 Multiples:601 Unit:month}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 18001, Day), "limiter: invalid limit {Amount:1 Multiples:18001 Unit:day}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 432001, Hour), "limiter: invalid limit {Amount:1 Multiples:432001 Unit:hour}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 25920001, Minute), "limiter: invalid limit {Amount:1 Multiples:25920001 Unit:minute}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 1555200001, Second), "limiter: invalid limit {Amount:1 Multiples:1555200001 Unit:second}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 297, Year), "limiter: invalid limit {Amount:1 Multiples:297 Unit:year}: window longer than MaxWindow, 50 years of 360 days"},
		{lim(1, 1<<63-1, Second), "limiter: invalid limit {Amount:1 Multiples:9223372036854775807 Unit:second}: window longer than MaxWindow, 50 years of 360 days"},
	} {
		err := tt.l.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%#v.Validate() = %v, want nil", tt.l, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%#v.Validate() = %v, want %q", tt.l, err, tt.want)
			continue
		}
		if !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("%#v.Validate() = %v, does not wrap ErrInvalidLimit", tt.l, err)
		}
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != tt.l {
			t.Errorf("%#v.Validate() = %v, want a *LimitError holding the limit", tt.l, err)
		}
	}
}

// A Limit travels through JSON (and any text encoding) as its text.
func TestLimitText(t *testing.T) {
	type config struct {
		Login Limit            `json:"login"`
		Quota map[string]Limit `json:"quota"`
	}
	var c config
	in := `{"login": "5 per minute", "quota": {"free": "100/day", "paid": "10000 per 1 day"}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if want := lim(5, 1, Minute); c.Login != want || c.Quota["free"] != lim(100, 1, Day) || c.Quota["paid"] != lim(10000, 1, Day) {
		t.Fatalf("decoded %+v", c)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"login":"5 per 1 minute","quota":{"free":"100 per 1 day","paid":"10000 per 1 day"}}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	before := c.Login
	if err := json.Unmarshal([]byte(`{"login": "5 per fortnight"}`), &c); !errors.Is(err, ErrInvalidLimit) || c.Login != before {
		t.Errorf("decoding a bad limit = %v, login %v; want ErrInvalidLimit and the limit unchanged", err, c.Login)
	}
	if _, err := json.Marshal(Limit{Amount: -1, Multiples: 1, Unit: Hour}); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("encoding an invalid limit = %v, want ErrInvalidLimit", err)
	}
}
