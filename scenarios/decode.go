package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The decoder walks yaml.v3 nodes instead of calling yaml.Unmarshal so that
// every problem is reported with its line and field path, and decoding goes
// on after the first problem: a scenario author fixes a file in one pass.

// maxNodes bounds the work spent on one file, aliases included (a small
// file can alias its way to billions of nodes).
const maxNodes = 100_000

// scalarUnmarshaler is implemented by field types written as one scalar
// (durations, status ranges). The error message may quote value.
type scalarUnmarshaler interface {
	unmarshalScalar(value, tag string) error
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	credentialsType = reflect.TypeFor[Credentials]()
)

type decoder struct {
	file string
	errs ValidationErrors
	// warns are likely mistakes that do not stop the file loading.
	warns ValidationErrors
	lines map[string]int
	// failed holds the paths already reported, so that validation does not
	// pile "is required" onto a block that had the wrong type.
	failed map[string]bool
	nodes  int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}, failed: map[string]bool{}}
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.failed[path] = true
	d.add(line, path, fmt.Sprintf(format, args...))
}

func (d *decoder) add(line int, path, msg string) {
	// yaml.v3 leaves Line at 0 on some synthesized nodes; every error still
	// points into the file.
	d.errs = append(d.errs, &ValidationError{File: d.file, Line: max(line, 1), Path: path, Message: msg})
}

// reported reports whether path or one of its ancestors already has an error.
func (d *decoder) reported(path string) bool {
	for ; path != ""; path = parentPath(path) {
		if d.failed[path] {
			return true
		}
	}
	return false
}

// decodeDocument parses data, which must hold exactly one YAML document,
// into sc.
func (d *decoder) decodeDocument(data []byte, sc *Scenario) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := safeDecode(dec, &doc)
	if errors.Is(err, io.EOF) {
		d.errorf(1, "", "the file is empty; a scenario starts with apiVersion: %s", APIVersion)
		return
	}
	if err != nil {
		d.syntaxError(data, err)
		return
	}
	var extra yaml.Node
	switch err := safeDecode(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(data, err)
	default:
		d.errorf(extra.Line, "", "a scenario file holds one YAML document; a second one starts here")
	}
	if len(doc.Content) != 1 {
		d.errorf(doc.Line, "", "the file holds no YAML document")
		return
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode && root.Kind != yaml.AliasNode {
		d.errorf(root.Line, "", "expected a mapping with apiVersion, kind, metadata and spec, got %s", describe(root))
		return
	}
	d.decode(root, reflect.ValueOf(sc).Elem(), "")
}

// safeDecode turns a panic of the YAML parser into an error: a scenario
// file must never crash firedrill, whatever it holds.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// splitYAMLError splits a yaml.v3 error into its message and line (0 when
// it names none).
func splitYAMLError(err error) (msg string, line int) {
	msg = err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return msg[len(m[0]):], line
	}
	return strings.TrimPrefix(msg, "yaml: "), 0
}

func (d *decoder) syntaxError(data []byte, err error) {
	msg, line := splitYAMLError(err)
	if l := failingLine(data, msg, line); l > 0 {
		line = l
	}
	d.errorf(max(line, 1), "", "invalid YAML: %s", msg)
}

// maxScanLines bounds failingLine's quadratic work.
const maxScanLines = 500

// failingLine finds the line a YAML syntax error is on. yaml.v3 reports the
// start of the enclosing block ("line 6" for a bad indent on line 13), which
// sends authors to the wrong place; the first prefix of the file that
// fails with the same message ends on the right line.
func failingLine(data []byte, msg string, from int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxScanLines {
		return 0
	}
	end := 0
	for k, l := range lines {
		end += len(l)
		if k+1 < from-1 {
			continue
		}
		if err := parseAll(data[:end]); err != nil {
			if m, _ := splitYAMLError(err); m == msg {
				return k + 1
			}
		}
	}
	return 0
}

// parseAll parses every document of data and returns the first error.
func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := safeDecode(dec, &n); {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// follow resolves aliases and counts n against maxNodes; it returns nil once
// the budget is spent.
func (d *decoder) follow(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.nodes++
		n = n.Alias
	}
	d.nodes++
	if d.nodes == maxNodes {
		line := 0
		if n != nil {
			line = n.Line
		}
		d.errorf(line, "", "the document is too large (more than %d nodes, aliases expanded)", maxNodes)
	}
	if d.nodes >= maxNodes {
		return nil
	}
	return n
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n = d.follow(n); n == nil {
		return
	}
	if u, ok := v.Addr().Interface().(scalarUnmarshaler); ok {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n.Line, path, "expected a single value, got %s", describe(n))
			return
		}
		if err := u.unmarshalScalar(n.Value, n.ShortTag()); err != nil {
			d.errorf(n.Line, path, "%s", err.Error())
		}
		return
	}
	if v.Type() == timeType {
		d.decodeTime(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) && v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		// An explicit "http:" with nothing after it still sets the block,
		// so the author hears which of its fields are required.
		v.Set(reflect.New(v.Type().Elem()))
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "!!str", "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "!!bool", "true or false"); ok {
			var b bool
			if err := n.Decode(&b); err != nil {
				d.errorf(n.Line, path, "expected true or false, got %q", s)
				return
			}
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int64:
		if s, ok := d.scalar(n, path, "!!int", "an integer"); ok {
			var i int64
			if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
				d.errorf(n.Line, path, "%s is not an integer firedrill can hold", s)
				return
			}
			v.SetInt(i)
		}
	case reflect.Float64:
		if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
			var f float64
			if err := n.Decode(&f); err != nil {
				d.errorf(n.Line, path, "%s is not a number firedrill can hold", n.Value)
				return
			}
			v.SetFloat(f)
			return
		}
		d.scalar(n, path, "!!float", "a number")
	default:
		// Only reachable if a field of an unsupported type is added to the
		// scenario types; the decoder tests cover every field.
		d.errorf(n.Line, path, "firedrill cannot decode a field of type %s", v.Type())
	}
}

// scalar checks that n is a scalar with tag want (null counts as the zero
// value) and returns its text. It never quotes the value: it may be a
// secret written in the wrong place.
func (d *decoder) scalar(n *yaml.Node, path, want, wantText string) (string, bool) {
	if isNull(n) {
		return "", want == "!!str"
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == want {
		return n.Value, true
	}
	msg := fmt.Sprintf("expected %s, got %s", wantText, describe(n))
	if want == "!!str" && n.Kind == yaml.ScalarNode {
		msg += "; quote it to mean the text"
	}
	d.errorf(n.Line, path, "%s", msg)
	return "", false
}

func (d *decoder) decodeTime(n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!str" && tag != "!!timestamp") {
		d.errorf(n.Line, path, "expected an RFC 3339 time such as 2026-01-01T10:00:00Z, got %s", describe(n))
		return
	}
	t, err := time.Parse(time.RFC3339Nano, n.Value)
	if err != nil {
		d.errorf(n.Line, path, "%q is not an RFC 3339 time (write e.g. 2026-01-01T10:00:00Z)", n.Value)
		return
	}
	v.Set(reflect.ValueOf(t))
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	underCredentials := v.Type() == credentialsType
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "field names must be plain words, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errorf(k.Line, path, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		fp := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, fp, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		switch {
		case ok:
			d.lines[fp] = k.Line
			d.decode(val, v.FieldByIndex(f), fp)
		case isSecretField(k.Value, underCredentials):
			d.errorf(k.Line, fp, "%s", inlineSecretMessage)
		default:
			d.errorf(k.Line, fp, "unknown field; %s", suggestField(k.Value, fields))
		}
		if underCredentials && !ok {
			d.findSecrets(val, fp)
		}
	}
}

// findSecrets reports secret-looking keys anywhere below an unknown field of
// a credentials block, which the decoder does not otherwise descend into.
func (d *decoder) findSecrets(n *yaml.Node, path string) {
	if n = d.follow(n); n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			fp := joinPath(path, k.Value)
			if k.Kind == yaml.ScalarNode && isSecretField(k.Value, true) {
				d.errorf(k.Line, fp, "%s", inlineSecretMessage)
			}
			d.findSecrets(n.Content[i+1], fp)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			d.findSecrets(item, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.lines[ip] = item.Line
		d.decode(item, s.Index(i), ip)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(k.Line, path, "keys must be names, got %s", describe(k))
			continue
		}
		kp := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, kp, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[kp] = k.Line
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, ev, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
}

// fieldsOf maps YAML field names to struct field indexes, flattening
// ",inline" fields.
func fieldsOf(t reflect.Type) map[string][]int {
	fields := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if opts == "inline" {
			for n, idx := range fieldsOf(f.Type) {
				fields[n] = append([]int{i}, idx...)
			}
			continue
		}
		fields[name] = []int{i}
	}
	return fields
}

func suggestField(key string, fields map[string][]int) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	if close := closest(key, names, 1); len(close) == 1 {
		return fmt.Sprintf("did you mean %q?", close[0])
	}
	return "valid fields are " + strings.Join(names, ", ")
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y" messages. It never
// includes the node's value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a timestamp"
	default:
		return "a value tagged " + n.ShortTag()
	}
}

// inlineSecretMessage is the one message for a secret written into a
// scenario. It never includes the value.
const inlineSecretMessage = "inline secret not allowed: reference it with accessKeyIDEnv/secretAccessKeyEnv, profile or file"

// envNameSecretMessage is the message for a secret written into field, a
// field that takes the name of an environment variable (accessKeyIDEnv,
// secretAccessKeyEnv, sessionTokenEnv, passEnv); takes says what it takes.
// The author already used the right field, so the fix is its value, not
// another field. It never includes the value.
func envNameSecretMessage(field, takes string) string {
	return "inline secret not allowed: " + field + " takes " + takes + ", not the secret itself; this value looks like a credential (it is not shown): put it in an environment variable, write that variable's name here, and rotate the credential, since it was written in the file"
}

// isSecretField reports whether a field name holds a secret. Under a
// credentials block every name that means a key, token or password counts;
// elsewhere only the unambiguous S3 credential names do (dataCanary has a
// legitimate "key").
func isSecretField(name string, underCredentials bool) bool {
	n := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))
	switch n {
	case "accesskeyid", "accesskey", "awsaccesskeyid", "secretaccesskey", "secretkey",
		"awssecretaccesskey", "sessiontoken", "awssessiontoken", "password", "passwd":
		return true
	case "token", "key", "secret", "apikey", "privatekey", "credential", "credentials":
		return underCredentials
	}
	return false
}
