package scenarios

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ServicePort is a port of a Service, written as its number (80) or its
// name (http), as the API server's service proxy takes it.
type ServicePort struct {
	// Number is set for a port written as a number, 1-65535.
	Number int
	// Name is set for a port written as a name.
	Name string
}

// String is the port as written: "80" or "http"; empty when unset.
func (p ServicePort) String() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Number != 0:
		return strconv.Itoa(p.Number)
	}
	return ""
}

// IsZero reports whether p is unset.
func (p ServicePort) IsZero() bool { return p == ServicePort{} }

// MarshalYAML writes a number as a number and a name as a string, so that
// `scenarios show` reads like the file.
func (p ServicePort) MarshalYAML() (any, error) {
	if p.Name != "" {
		return p.Name, nil
	}
	return p.Number, nil
}

// MarshalJSON writes p as MarshalYAML does.
func (p ServicePort) MarshalJSON() ([]byte, error) {
	if p.Name != "" {
		return []byte(strconv.Quote(p.Name)), nil
	}
	return []byte(strconv.Itoa(p.Number)), nil
}

// portName is an IANA service name, which Kubernetes requires of port
// names: at most 15 lowercase letters, digits and "-", with a letter, no
// "--", not starting or ending with "-".
var portName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

func (p *ServicePort) unmarshalScalar(value, tag string) error {
	const hint = "a port number (1-65535) or port name (at most 15 lowercase letters, digits and \"-\", with at least one letter)"
	if tag != "!!int" && tag != "!!str" {
		return fmt.Errorf("%s is not %s", value, hint)
	}
	if n, err := strconv.Atoi(value); err == nil || tag == "!!int" {
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s is not %s", value, hint)
		}
		*p = ServicePort{Number: n}
		return nil
	}
	if len(value) > 15 || !portName.MatchString(value) || strings.Contains(value, "--") || !strings.ContainsAny(value, "abcdefghijklmnopqrstuvwxyz") {
		return fmt.Errorf("%q is not %s", value, hint)
	}
	*p = ServicePort{Name: value}
	return nil
}
