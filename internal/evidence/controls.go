package evidence

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

//go:embed controls.yaml
var builtinControls []byte

// Mapping says what each proof means and which controls it supports.
type Mapping struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Proofs maps a proof id to the statement it makes. Only the built-in
	// file defines proofs; user files may not add any.
	Proofs   map[string]string `yaml:"proofs,omitempty"`
	Controls []Control         `yaml:"controls"`
}

// Control is one control of a framework. A drill supports it when every
// proof in Requires holds and at least one in Proofs does.
type Control struct {
	ID       string   `yaml:"id" json:"id"`
	Title    string   `yaml:"title" json:"title"`
	Requires []string `yaml:"requires,omitempty" json:"requires,omitempty"`
	Proofs   []string `yaml:"proofs" json:"proofs"`
}

// BuiltinMapping is the mapping shipped with firedrill (controls.yaml).
func BuiltinMapping() (*Mapping, error) {
	m, err := parseMapping("controls.yaml (built in)", builtinControls, nil)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// LoadMapping is the built-in mapping extended by the files given, in
// order: a control with a new id is added, one with an existing id
// replaces it. Errors name the file and line.
func LoadMapping(files ...string) (*Mapping, error) {
	m, err := BuiltinMapping()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := safefile.ReadFile(f, safefile.ControlMapping)
		if err != nil {
			return nil, fmt.Errorf("read control mapping: %w", err)
		}
		ext, err := parseMapping(f, b, m.Proofs)
		if err != nil {
			return nil, err
		}
		for _, c := range ext.Controls {
			if i := slices.IndexFunc(m.Controls, func(x Control) bool { return x.ID == c.ID }); i >= 0 {
				m.Controls[i] = c
			} else {
				m.Controls = append(m.Controls, c)
			}
		}
	}
	return m, nil
}

// parseMapping reads one mapping file strictly. known is nil for the
// built-in file (which defines the proofs) and the built-in proofs for a
// user's file (which may only use them).
func parseMapping(name string, b []byte, known map[string]string) (*Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m := &Mapping{}
	if err := doc.Decode(m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a ControlMapping document", name, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		switch k.Value {
		case "apiVersion", "kind", "controls":
		case "proofs":
			if known != nil {
				fail(k.Line, "proofs: only firedrill defines proofs; map your controls to the built-in ones (%s)", strings.Join(slices.Sorted(maps.Keys(known)), ", "))
			}
		default:
			fail(k.Line, "%s: unknown field (want apiVersion, kind, controls)", k.Value)
		}
	}
	if m.APIVersion != "firedrill.dev/v1alpha1" || m.Kind != "ControlMapping" {
		fail(root.Line, "want apiVersion firedrill.dev/v1alpha1 and kind ControlMapping")
	}
	proofs := known
	if proofs == nil {
		proofs = m.Proofs
	}
	controls := valueOf(root, "controls")
	seen := map[string]bool{}
	for i, c := range m.Controls {
		line := root.Line
		if controls != nil && i < len(controls.Content) {
			line = controls.Content[i].Line
		}
		if c.ID == "" {
			fail(line, "controls[%d].id: required", i)
		}
		if seen[c.ID] {
			fail(line, "controls[%d].id: %q twice", i, c.ID)
		}
		seen[c.ID] = true
		if len(c.Proofs) == 0 {
			fail(line, "controls[%d].proofs: name at least one proof", i)
		}
		for _, p := range c.Proofs {
			if _, ok := proofs[p]; !ok {
				fail(line, "controls[%d].proofs: unknown proof %q (known: %s)", i, p, strings.Join(slices.Sorted(maps.Keys(proofs)), ", "))
			}
		}
		for _, p := range c.Requires {
			if _, ok := proofs[p]; !ok {
				fail(line, "controls[%d].requires: unknown proof %q (known: %s)", i, p, strings.Join(slices.Sorted(maps.Keys(proofs)), ", "))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if known != nil {
		m.Proofs = known
	}
	return m, nil
}

func valueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Proof is whether one proof holds for a drill.
type Proof struct {
	ID        string `json:"id"`
	Holds     bool   `json:"holds"`
	Statement string `json:"statement"`
	// Why says why it does not hold; empty when it does.
	Why string `json:"why,omitempty"`
	// Files are the bundle files that show it.
	Files []string `json:"files,omitempty"`
}

// ControlSupport is one control and the drill's proofs for it.
type ControlSupport struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Supported bool   `json:"supported"`
	// Requires are the proofs that must all hold.
	Requires []string `json:"requires,omitempty"`
	// By are the proofs that hold; Missing those that do not.
	By      []string `json:"supported_by"`
	Missing []string `json:"not_shown,omitempty"`
	// MissingRequired are the proofs of Requires that do not hold.
	MissingRequired []string `json:"missing_required,omitempty"`
	// Why says why the drill does not support the control: how the drill
	// ended, or which required proof is missing and why; empty when it
	// supports it.
	Why string `json:"why,omitempty"`
}

// FileEntry says what one bundle file is.
type FileEntry struct {
	Path   string   `json:"path"`
	Proves string   `json:"proves"`
	Proofs []string `json:"proofs,omitempty"`
}

// Index is index.json: what each file proves and which controls the drill
// supports.
type Index struct {
	DrillID  string           `json:"drill_id"`
	Scenario string           `json:"scenario"`
	Result   string           `json:"result"`
	Proofs   []Proof          `json:"proofs"`
	Controls []ControlSupport `json:"controls"`
	Files    []FileEntry      `json:"files"`
}

// Support says, for each control of the mapping, whether a drill supports
// it. A drill supports a control only when it passed (fault is empty;
// otherwise fault says how it ended, e.g. "the drill failed", and it
// supports none), every proof the control requires holds, and at least one
// of the control's proofs holds. A proof holds only on complete evidence:
// the drill package decides, and says in Proof.Why what is missing. Proofs
// the mapping knows but proofs does not list do not hold.
func (m *Mapping) Support(proofs []Proof, fault string) []ControlSupport {
	byID := map[string]Proof{}
	for _, p := range proofs {
		byID[p.ID] = p
	}
	holds := func(id string) bool { return byID[id].Holds }
	out := make([]ControlSupport, 0, len(m.Controls))
	for _, c := range m.Controls {
		cs := ControlSupport{ID: c.ID, Title: c.Title, Requires: c.Requires, By: []string{}}
		var whyRequired []string
		for _, p := range c.Requires {
			if !holds(p) {
				cs.MissingRequired = append(cs.MissingRequired, p)
				whyRequired = append(whyRequired, p+proofWhy(byID, p))
				if !slices.Contains(c.Proofs, p) {
					cs.Missing = append(cs.Missing, p)
				}
			}
		}
		for _, p := range c.Proofs {
			if holds(p) {
				cs.By = append(cs.By, p)
			} else {
				cs.Missing = append(cs.Missing, p)
			}
		}
		switch {
		case fault != "":
			cs.Why = fault + ": only a drill that passed supports a control"
		case len(whyRequired) > 0:
			cs.Why = "required proof not shown: " + strings.Join(whyRequired, "; ")
		case len(cs.By) == 0:
			cs.Why = "none of its proofs holds: " + strings.Join(cs.Missing, ", ")
		default:
			cs.Supported = true
		}
		out = append(out, cs)
	}
	return out
}

// proofWhy is " (why)" for a proof that does not hold, when the drill said.
func proofWhy(byID map[string]Proof, id string) string {
	p, ok := byID[id]
	switch {
	case !ok:
		return " (not decided for this drill)"
	case p.Why != "":
		return " (" + p.Why + ")"
	}
	return ""
}

// Supported are the ids of the controls the holding proofs support.
func Supported(cs []ControlSupport) []string {
	var ids []string
	for _, c := range cs {
		if c.Supported {
			ids = append(ids, c.ID)
		}
	}
	return ids
}
