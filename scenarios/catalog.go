package scenarios

import (
	"embed"
	"io/fs"
)

// catalogFS holds the built-in scenarios. They are drawn from real
// disasters (see the seeds in the design notes) and double as examples.
//
//go:embed catalog/*.yaml
var catalogFS embed.FS

// Catalog is the built-in catalog: a directory of scenario files.
func Catalog() fs.FS {
	sub, err := fs.Sub(catalogFS, "catalog")
	if err != nil {
		// fs.Sub only fails for an invalid path, and "catalog" is valid.
		panic(err)
	}
	return sub
}

func (e Env) catalog() fs.FS {
	if e.Catalog != nil {
		return e.Catalog
	}
	return Catalog()
}
