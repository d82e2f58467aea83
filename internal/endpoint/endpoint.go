// Package endpoint compares S3 endpoint URLs: whether two may name the
// same server. It is the one rule behind firedrill's refusal to write to a
// backup bucket, shared by the scenario's static checks (scenarios) and
// the write guard every S3 client asks (objectstore).
package endpoint

import (
	"net"
	"net/url"
	"strings"
)

// SameServer reports whether two endpoint URLs may reach the same S3
// server. The rule: host names compared without case, the port defaulting
// by scheme (80 for http, 443 for https), the scheme and path otherwise
// ignored; "localhost" and every loopback address are one host. An empty
// endpoint (AWS S3, or the SDK's default) or one that does not parse is
// the same as any: bucket names on AWS are global, and a guard that
// cannot tell two servers apart must assume they are one.
func SameServer(a, b string) bool {
	ha, oka := hostPort(a)
	hb, okb := hostPort(b)
	if !oka || !okb {
		return true
	}
	return ha == hb
}

func hostPort(endpoint string) (string, bool) {
	if strings.TrimSpace(endpoint) == "" {
		return "", false
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[strings.ToLower(u.Scheme)]
		if port == "" {
			port = "80"
		}
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		host = "loopback"
	}
	return net.JoinHostPort(host, port), true
}
