package scenarios

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// The drill maps the namespace fields of checks (workloads.namespace,
// http.service.namespace, dataCanary.namespace, serviceAccount.namespace)
// through spec.target.namespaceMapping itself. Free text it cannot map: a
// URL, a TCP address or a command argument that still names a namespace by
// its name in the backup tests the source namespace, or nothing, instead
// of the restored one. mappedNamespaceWarnings warns about each.

// hostName finds DNS names (two labels or more) inside free text.
var hostName = regexp.MustCompile(`[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+`)

// namespaceInHost reports the namespace of mapping that host names the way
// cluster DNS addresses one: SERVICE.NS, SERVICE.NS.svc[.DOMAIN],
// POD.SERVICE.NS.svc..., IP.NS.pod... (Kubernetes DNS specification). A
// public name such as shop.example.com names no namespace.
func namespaceInHost(host string, mapping map[string]string) (string, bool) {
	if net.ParseIP(host) != nil {
		return "", false
	}
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	for i := 1; i < len(labels); i++ {
		if _, ok := mapping[labels[i]]; !ok {
			continue
		}
		if i == len(labels)-1 || labels[i+1] == "svc" || labels[i+1] == "pod" {
			return labels[i], true
		}
	}
	return "", false
}

// namespaceInPath reports the namespace of mapping that an API path names
// (/api/v1/namespaces/NS/..., as kubectl get --raw and curl against the
// API server write it).
func namespaceInPath(p string, mapping map[string]string) (string, bool) {
	parts := strings.Split(p, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" {
			if _, ok := mapping[parts[i+1]]; ok {
				return parts[i+1], true
			}
		}
	}
	return "", false
}

// namespaceInText looks for a namespace of mapping in a command argument:
// a host name or an API path in it.
func namespaceInText(s string, mapping map[string]string) (string, bool) {
	for _, h := range hostName.FindAllString(s, -1) {
		if ns, ok := namespaceInHost(h, mapping); ok {
			return ns, true
		}
	}
	return namespaceInPath(s, mapping)
}

// namespaceFlag reports the namespace of mapping that args[i] sets as a
// kubectl-style namespace flag: "-n NS", "--namespace NS", "-nNS",
// "-n=NS", "--namespace=NS". For the two-argument forms the namespace is
// args[i+1], reported with next true.
func namespaceFlag(args []string, i int, mapping map[string]string) (ns string, next, ok bool) {
	a := args[i]
	if (a == "-n" || a == "--namespace") && i+1 < len(args) {
		_, ok := mapping[args[i+1]]
		return args[i+1], true, ok
	}
	for _, prefix := range []string{"--namespace=", "-n=", "-n"} {
		if v, found := strings.CutPrefix(a, prefix); found {
			_, ok := mapping[v]
			return v, false, ok
		}
	}
	return "", false, false
}

func (v *validator) mappedNamespaceWarnings() {
	mapping := v.sc.Spec.Target.NamespaceMapping
	if len(mapping) == 0 {
		return
	}
	warn := func(path, ns string) {
		v.warnf(path, "names namespace %q, which the drill restores as %q (spec.target.namespaceMapping): this check would test the source namespace, or nothing; write %q in its place", ns, mapping[ns], mapping[ns])
	}
	for i, c := range v.sc.Spec.Checks {
		p := fmt.Sprintf("spec.checks[%d]", i)
		switch {
		case c.HTTP != nil && c.HTTP.URL != "":
			u, err := url.Parse(c.HTTP.URL)
			if err != nil {
				continue
			}
			if ns, ok := namespaceInHost(u.Hostname(), mapping); ok {
				warn(p+".http.url", ns)
			} else if ns, ok := namespaceInPath(u.Path, mapping); ok {
				warn(p+".http.url", ns)
			}
		case c.TCP != nil:
			if host, _, err := net.SplitHostPort(c.TCP.Address); err == nil {
				if ns, ok := namespaceInHost(host, mapping); ok {
					warn(p+".tcp.address", ns)
				}
			}
		case c.Command != nil:
			for j, ns := range namespacesInArgs(c.Command.Run, mapping) {
				if ns != "" {
					warn(fmt.Sprintf("%s.command.run[%d]", p, j), ns)
				}
			}
		}
	}
}

// namespacesInArgs reports, for each argument of a command, the namespace
// of mapping it names ("" for none): as a namespace flag (with its value
// reported at the value's argument), in a host name or in an API path. An
// argument of several words (`sh -c "kubectl -n shop get pods"`, or a
// flag and its value written as one argument) is split into words the way
// a shell would (shellWords) and its words are checked the same way.
func namespacesInArgs(args []string, mapping map[string]string) []string {
	found := make([]string, len(args))
	for j := 0; j < len(args); j++ {
		if ns, next, ok := namespaceFlag(args, j, mapping); ok {
			if next {
				j++
			}
			found[j] = ns
			continue
		}
		if ns, ok := namespaceInText(args[j], mapping); ok {
			found[j] = ns
			continue
		}
		if words := shellWords(args[j]); len(words) > 1 {
			for _, ns := range namespacesInArgs(words, mapping) {
				if ns != "" {
					found[j] = ns
					break
				}
			}
		}
	}
	return found
}

// shellWords splits s into words as a POSIX shell does before expansion:
// at unquoted blanks and at the control operators ; & | ( ) < >, with
// 'single' and "double" quotes and backslash escapes removed. It never
// fails: an unterminated quote runs to the end of s. It is enough to find
// flags and host names in a command line; it expands nothing.
func shellWords(s string) []string {
	var (
		words []string
		word  strings.Builder
		in    bool // a word is open (it may be empty: "")
	)
	end := func() {
		if in {
			words = append(words, word.String())
			word.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || strings.IndexByte(";&|()<>", c) >= 0:
			end()
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			in = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				word.WriteByte(s[i])
			}
			in = true
		default:
			word.WriteByte(c)
			in = true
		}
	}
	end()
	return words
}
