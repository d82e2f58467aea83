package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration ("4h", "1h30m") or
// in whole days, weeks or years ("7d", "2w", "7y"; a year is 365 days, as
// S3 counts retention), since retention and RPO are usually decided in
// days.
type Duration time.Duration

const (
	day  = 24 * time.Hour
	week = 7 * day
	year = 365 * day
)

// ParseDuration parses a Go duration or a whole number of days ("7d"),
// weeks ("2w") or years of 365 days ("7y").
func ParseDuration(s string) (Duration, error) {
	if n, unit, ok := cutDays(s); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v > int64(math.MaxInt64/unit) {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return Duration(time.Duration(v) * unit), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return Duration(d), nil
}

// cutDays splits "7d" into ("7", day); ok is false for anything else.
func cutDays(s string) (digits string, unit time.Duration, ok bool) {
	if len(s) < 2 {
		return "", 0, false
	}
	switch s[len(s)-1] {
	case 'd':
		unit = day
	case 'w':
		unit = week
	case 'y':
		unit = year
	default:
		return "", 0, false
	}
	digits = s[:len(s)-1]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	return digits, unit, true
}

// String formats d the way people write it: "7d", "24h", "1h30m", "90ms".
// Whole days from two days up are days; "2w" comes back as "14d".
func (d Duration) String() string {
	td := time.Duration(d)
	if td >= 2*day && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return GoDuration(td)
}

// GoDuration writes d as time.ParseDuration reads it, without the zero
// units time.Duration.String adds: "30m", not "30m0s"; "1h", "1m30s",
// "90ms". Duration flags take it as written.
func GoDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalYAML writes d as String does, so `scenarios show` reads like the file.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes d as a Go duration string ("4h0m0s"), which every Go
// program (and time.ParseDuration) reads back.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

func (d *Duration) unmarshalScalar(value, tag string) error {
	hint := " (write e.g. 4h, 30m, 1h30m, 7d, 2w or 7y)"
	if tag != "!!str" {
		return fmt.Errorf("%s is not a duration%s", value, hint)
	}
	v, err := ParseDuration(value)
	if err != nil {
		return fmt.Errorf("%w%s", err, hint)
	}
	if v <= 0 {
		return fmt.Errorf("%q must be greater than zero", value)
	}
	*d = v
	return nil
}

// StatusRange is an inclusive range of HTTP status codes, written as one
// code (200) or a range ("200-299").
type StatusRange struct {
	Min, Max int
}

// Contains reports whether status code is in r.
func (r StatusRange) Contains(code int) bool { return code >= r.Min && code <= r.Max }

// String formats r as it is written: "200" or "200-299".
func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return fmt.Sprintf("%d-%d", r.Min, r.Max)
}

// IsZero reports whether r is unset.
func (r StatusRange) IsZero() bool { return r == StatusRange{} }

// MarshalYAML writes r as String does.
func (r StatusRange) MarshalYAML() (any, error) { return r.String(), nil }

// MarshalJSON writes r as String does, quoted.
func (r StatusRange) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(r.String())), nil }

func (r *StatusRange) unmarshalScalar(value, tag string) error {
	if tag != "!!str" && tag != "!!int" {
		return fmt.Errorf("%s is not a status code or range (write e.g. 200 or \"200-299\")", value)
	}
	lo, hi, isRange := strings.Cut(value, "-")
	if !isRange {
		hi = lo
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || first < 100 || last > 599 || first > last {
		return fmt.Errorf("%q is not a status code or range between 100 and 599 (write e.g. 200 or \"200-299\")", value)
	}
	*r = StatusRange{Min: first, Max: last}
	return nil
}
