package scenarios

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, every
// failure must be a ValidationErrors naming the file and a line, and what
// loads must survive `scenarios show` (marshal, then load again).
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	catalog, err := fs.Glob(Catalog(), "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range catalog {
		data, err := fs.ReadFile(Catalog(), file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(Env{}, "fuzz.yaml", data)
		if err != nil {
			var verrs ValidationErrors
			if !errors.As(err, &verrs) || len(verrs) == 0 {
				t.Fatalf("want ValidationErrors, got %T: %v", err, err)
			}
			for _, e := range verrs {
				if e.Line < 1 || !strings.HasPrefix(e.Error(), "fuzz.yaml:") {
					t.Fatalf("error without file:line: %q", e.Error())
				}
			}
			return
		}
		out, err := MarshalYAML(sc)
		if err != nil {
			t.Fatalf("marshal a valid scenario: %v", err)
		}
		if _, err := Parse(Env{}, "fuzz.yaml", out); err != nil {
			t.Fatalf("a shown scenario does not load again: %v\n%s", err, out)
		}
	})
}
