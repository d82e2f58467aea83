package secret

import (
	"net/url"
	"strings"
)

// URL is raw as it may be printed in an error or a log: with the password
// of its userinfo replaced (url.URL.Redacted, "https://user:xxxxx@host").
// Text with an "@" that does not parse as a URL is returned as "the URL"
// rather than echoed, as it may hold a password; other text is returned
// as it is (an endpoint written "host:9000" holds none).
func URL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil && u.User != nil:
		return u.Redacted()
	case err != nil && strings.Contains(raw, "@"):
		return "the URL"
	}
	return raw
}
