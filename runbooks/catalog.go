package runbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed catalog/*.md
var catalogFS embed.FS

// ErrNotFound is returned, wrapped, by Builtin for an unknown name.
var ErrNotFound = errors.New("no such built-in runbook")

// Builtin returns the built-in runbook called name. It returns an error
// wrapping ErrNotFound when there is none.
func Builtin(name string) (*Runbook, error) {
	if !Exists(name) {
		return nil, fmt.Errorf("runbook %q: %w", name, ErrNotFound)
	}
	file := path.Join("catalog", name+".md")
	data, err := catalogFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("runbook %q: %w", name, err)
	}
	rb, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	rb.Name = name
	return rb, nil
}

// Exists reports whether a built-in runbook is called name.
func Exists(name string) bool {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return false
	}
	_, err := fs.Stat(catalogFS, path.Join("catalog", name+".md"))
	return err == nil
}

// Names lists the built-in runbooks, sorted.
func Names() []string {
	entries, err := catalogFS.ReadDir("catalog")
	if err != nil {
		// The directory is embedded; reading it cannot fail.
		panic(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".md"))
	}
	return names
}
