package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// MarshalYAML writes sc as a scenario file, defaults included. The result
// loads back to the same scenario.
func MarshalYAML(sc *Scenario) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(sc); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", sc.Metadata.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", sc.Metadata.Name, err)
	}
	return buf.Bytes(), nil
}

// MarshalJSON writes sc as indented JSON with the field names and order of
// the YAML form.
func MarshalJSON(sc *Scenario) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(sc); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", sc.Metadata.Name, err)
	}
	var buf bytes.Buffer
	if err := writeJSONNode(&buf, &n); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", sc.Metadata.Name, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", sc.Metadata.Name, err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// writeJSONNode writes a node tree made by yaml.Node.Encode, keeping the
// order of mapping keys (which a map[string]any would lose).
func writeJSONNode(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("document with %d nodes", len(n.Content))
		}
		return writeJSONNode(buf, n.Content[0])
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			key, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSONNode(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSONNode(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool":
			buf.WriteString(n.Value)
		case "!!null":
			buf.WriteString("null")
		default:
			b, err := json.Marshal(n.Value)
			if err != nil {
				return err
			}
			buf.Write(b)
		}
	default:
		return fmt.Errorf("unexpected YAML node kind %d", n.Kind)
	}
	return nil
}
