package scenarios

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FillIn marks, in a line comment, each value a scenario made by New
// leaves empty for its author.
const FillIn = "FILL IN:"

// NewFromCatalogError is returned by New when from names no built-in
// scenario; Suggestions are close names, Names all of them.
type NewFromCatalogError struct {
	From        string
	Suggestions []string
	Names       []string
}

// Error names the unknown scenario and suggests close ones.
func (e *NewFromCatalogError) Error() string {
	msg := fmt.Sprintf("no built-in scenario named %q", e.From)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions, "or") + "?"
	}
	return msg
}

// New returns the text of a new scenario file named name, copied from the
// built-in scenario from: the disaster, objectives, checks and runbook as
// the catalog writes them, and empty values, each marked with a FillIn
// comment, where only the author knows the answer: the source and target
// (scratch) clusters (kubeconfig, context) and every bucket (endpoint,
// region, bucket, prefix). Credentials stay references (names of
// environment variables, profiles), with a comment saying so. The file
// holds no path of the machine it was made on. It does not pass Validate
// until the marked values are filled in.
//
// Errors: a *NewFromCatalogError when from is not in the catalog; an
// error naming name when it is not a valid scenario name (DNS-1123 label).
func New(name, from string) ([]byte, error) {
	if len(name) > 63 || !dnsLabel.MatchString(name) {
		return nil, fmt.Errorf("%q is not a valid scenario name (lowercase letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters)", name)
	}
	data, err := fs.ReadFile(Catalog(), from+".yaml")
	if from == "" || strings.ContainsAny(from, "/\\.") || err != nil {
		return nil, newFromError(from)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("read built-in scenario %s: %v", from, err)
	}
	root := doc.Content[0]
	root.HeadComment = fmt.Sprintf("%s: a drill scenario, started from the built-in scenario %q\n"+
		"('firedrill scenarios new %s --from %s'). Fill in every value marked\n"+
		"%q, adapt the disaster, namespaces and checks to your application,\n"+
		"then check the file: firedrill validate FILE", name, from, name, from, FillIn)
	if md := mapValue(root, "metadata"); md != nil {
		if n := mapValue(md, "name"); n != nil {
			n.Value, n.Style = name, 0
		}
	}
	spec := mapValue(root, "spec")
	if spec == nil {
		return nil, fmt.Errorf("read built-in scenario %s: no spec", from)
	}
	if src := mapValue(spec, "source"); src != nil {
		fillIn(src, "kubeconfig", "kubeconfig of the production (source) cluster; firedrill only reads it (\"~\" and paths relative to this file work)")
		fillIn(src, "context", "its context")
	}
	if tgt := mapValue(spec, "target"); tgt != nil {
		fillIn(tgt, "kubeconfig", "kubeconfig of the scratch cluster drills restore into (left empty: $KUBECONFIG, then ~/.kube/config, as kubectl; --kubeconfig overrides); its kube-system namespace must be labelled firedrill.dev/scratch=true")
		fillIn(tgt, "context", "its context")
	}
	if st := mapValue(spec, "storage"); st != nil {
		if p := mapValue(st, "primary"); p != nil {
			fillBucket(p, "the bucket Velero writes the backups to")
		}
		if cs := mapValue(st, "copies"); cs != nil {
			for _, c := range cs.Content {
				fillBucket(c, "the copy's bucket")
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write scenario %s: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write scenario %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func newFromError(from string) error {
	var names []string
	entries, _ := fs.ReadDir(Catalog(), ".")
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return &NewFromCatalogError{From: from, Suggestions: closest(from, names, 3), Names: names}
}

// fillBucket empties the values of a bucket (primary or copy) that only
// the author knows and says what the credentials are.
func fillBucket(b *yaml.Node, what string) {
	fillIn(b, "endpoint", "S3 endpoint URL of "+what)
	fillIn(b, "region", "its region")
	fillIn(b, "bucket", what)
	fillIn(b, "prefix", "the prefix of Velero's storage location (empty for none)")
	if cr := mapKey(b, "credentials"); cr != nil {
		cr.HeadComment = "credentials by reference: the NAMES of environment variables holding the keys\n" +
			"(accessKeyIDEnv, secretAccessKeyEnv), or a profile of the AWS credentials file; never the keys"
	}
}

// fillIn empties the scalar value of key in mapping m, if there is one,
// and marks it for the author.
func fillIn(m *yaml.Node, key, what string) {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return
	}
	v.Value, v.Tag, v.Style = "", "!!str", yaml.DoubleQuotedStyle
	v.LineComment = FillIn + " " + what
}

// mapKey is the key node of key in mapping m, or nil.
func mapKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// mapValue is the value node of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
