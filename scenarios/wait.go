package scenarios

import (
	"fmt"
	"strconv"
	"time"
)

// Wait is a Duration that may be zero ("0s" or 0): how long to wait, where
// zero means do not wait at all.
type Wait time.Duration

// String formats w as Duration does; zero is "0s".
func (w Wait) String() string { return Duration(w).String() }

// MarshalJSON writes w as a Go duration string, as Duration does.
func (w Wait) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(w).String())), nil
}

func (w *Wait) unmarshalScalar(value, tag string) error {
	if value == "0" && tag == "!!int" {
		*w = 0
		return nil
	}
	hint := " (write e.g. 0s, 30s, 15m or 1h)"
	if tag != "!!str" {
		return fmt.Errorf("%s is not a duration%s", value, hint)
	}
	v, err := ParseDuration(value)
	if err != nil {
		return fmt.Errorf("%w%s", err, hint)
	}
	if v < 0 {
		return fmt.Errorf("%q must not be negative", value)
	}
	*w = Wait(v)
	return nil
}

// MarshalYAML writes w as String does, so `scenarios show` reads like the file.
func (w Wait) MarshalYAML() (any, error) { return w.String(), nil }
