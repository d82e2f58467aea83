package scenarios

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// SourceKind is a kind of place scenarios are found in.
type SourceKind string

// The kinds of Source, in search order (SourceFile is not searched: it is a
// file named directly).
const (
	SourceFile     SourceKind = "file"
	SourceFlag     SourceKind = "scenario-dir"
	SourceEnv      SourceKind = "FIREDRILL_SCENARIOS"
	SourceProject  SourceKind = "project"
	SourceBuiltin  SourceKind = "built-in"
	projectDirName            = "scenarios"
)

// Source is one place scenarios are searched in.
type Source struct {
	Kind SourceKind
	// Dir is the directory as the user named it; empty for built-in and file.
	Dir string
}

// String is how the source is shown to users: the directory, or "built-in".
func (s Source) String() string {
	switch s.Kind {
	case SourceBuiltin:
		return "built-in"
	case SourceFile:
		return "file"
	case SourceProject:
		return "./" + s.Dir
	default:
		return s.Dir
	}
}

// sources lists where to search, in order, without duplicates.
func (e Env) sources() []Source {
	var srcs []Source
	seen := map[string]bool{}
	add := func(kind SourceKind, dir string) {
		abs, err := e.abs(dir)
		if err != nil || seen[filepath.Clean(abs)] {
			return
		}
		seen[filepath.Clean(abs)] = true
		srcs = append(srcs, Source{Kind: kind, Dir: dir})
	}
	for _, d := range e.ScenarioDirs {
		add(SourceFlag, d)
	}
	for _, d := range e.SearchPath {
		if d != "" {
			add(SourceEnv, d)
		}
	}
	add(SourceProject, projectDirName)
	return append(srcs, Source{Kind: SourceBuiltin})
}

// Entry is one scenario file found by List.
type Entry struct {
	// Name is the scenario's metadata.name; for a file too broken to have
	// one, the file name without extension.
	Name   string
	Source Source
	// File names the file for the user (see Origin.File).
	File string
	// Scenario is the loaded scenario; nil when Err is set.
	Scenario *Scenario
	// Err says why the file is not a usable scenario (often a ValidationErrors).
	Err error
	// Shadowed is true when an earlier source has a scenario of the same
	// name, so Find never returns this one.
	Shadowed bool
}

// Find returns the scenario nameOrPath names. A path to an existing file,
// or anything ending in .yaml or .yml, is loaded as a file; StdinArg ("-")
// reads env.Stdin. Otherwise each
// source is searched in order (see Env) for a file whose metadata.name is
// nameOrPath, and the first source that has one wins.
//
// Find returns a *NotFoundError when no source has the name, an
// *AmbiguousError when one source has it twice, and the ValidationErrors of
// the matching file when that file is invalid. Invalid files with other
// names do not get in the way.
func Find(ctx context.Context, env Env, nameOrPath string) (*Scenario, error) {
	if nameOrPath == StdinArg || isFileArg(env, nameOrPath) {
		return LoadFile(ctx, env, nameOrPath)
	}
	log := env.logger()
	var known []string
	for _, src := range env.sources() {
		entries, err := scan(ctx, env, src)
		if err != nil {
			return nil, err
		}
		var matches []Entry
		for _, e := range entries {
			known = append(known, e.Name)
			if e.Name == nameOrPath {
				matches = append(matches, e)
			}
		}
		log.Debug("searched for scenario", logKeyName, nameOrPath, logKeySource, src.String(), logKeyFiles, len(entries), logKeyMatches, len(matches))
		switch {
		case len(matches) > 1:
			files := make([]string, len(matches))
			for i, m := range matches {
				files[i] = m.File
			}
			return nil, &AmbiguousError{Name: nameOrPath, Source: src, Files: files}
		case len(matches) == 1 && matches[0].Err != nil:
			return nil, matches[0].Err
		case len(matches) == 1:
			return matches[0].Scenario, nil
		}
	}
	return nil, &NotFoundError{Name: nameOrPath, Suggestions: closest(nameOrPath, known, 3)}
}

func isFileArg(env Env, arg string) bool {
	if ext := filepath.Ext(arg); ext == ".yaml" || ext == ".yml" {
		return true
	}
	abs, err := env.abs(arg)
	if err != nil {
		return false
	}
	info, err := os.Stat(abs)
	return err == nil && info.Mode().IsRegular()
}

// List returns every scenario file of every source, valid or not, sorted by
// name and then by search order; entries that a name's first source hides
// are marked Shadowed. A missing --scenario-dir is an error; an unreadable
// file is an Entry with Err set.
func List(ctx context.Context, env Env) ([]Entry, error) {
	var all []Entry
	for _, src := range env.sources() {
		entries, err := scan(ctx, env, src)
		if err != nil {
			return nil, err
		}
		markAmbiguous(src, entries)
		all = append(all, entries...)
	}
	// Two files of one source with the same name are ambiguous, not
	// shadowed: neither wins.
	firstSource := map[string]Source{}
	for i := range all {
		e := &all[i]
		if src, seen := firstSource[e.Name]; seen {
			e.Shadowed = src != e.Source
			continue
		}
		firstSource[e.Name] = e.Source
	}
	// The stable sort keeps search order among entries of the same name.
	slices.SortStableFunc(all, func(a, b Entry) int { return cmp.Compare(a.Name, b.Name) })
	return all, nil
}

func markAmbiguous(src Source, entries []Entry) {
	byName := map[string][]int{}
	for i, e := range entries {
		byName[e.Name] = append(byName[e.Name], i)
	}
	for name, idx := range byName {
		if len(idx) < 2 {
			continue
		}
		amb := &AmbiguousError{Name: name, Source: src}
		for _, i := range idx {
			amb.Files = append(amb.Files, entries[i].File)
		}
		for _, i := range idx {
			entries[i].Err = amb
			entries[i].Scenario = nil
		}
	}
}

// scan loads every *.yaml and *.yml file directly in src.
func scan(ctx context.Context, env Env, src Source) ([]Entry, error) {
	if src.Kind == SourceBuiltin {
		return scanFS(ctx, env, src, env.catalog(), "catalog")
	}
	abs, err := env.abs(src.Dir)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	switch {
	case err == nil && !info.IsDir():
		return nil, &DirError{Source: src, Err: errors.New("not a directory")}
	case errors.Is(err, fs.ErrNotExist) && src.Kind != SourceFlag:
		env.logger().Debug("scenario directory does not exist; skipped", logKeySource, src.String())
		return nil, nil
	case err != nil:
		return nil, &DirError{Source: src, Err: err}
	}
	return scanFS(ctx, env, src, os.DirFS(abs), src.Dir)
}

// DirError is a scenario directory that cannot be searched.
type DirError struct {
	Source Source
	Err    error
}

// Error names the directory as the user did.
func (e *DirError) Error() string {
	if errors.Is(e.Err, fs.ErrNotExist) {
		return fmt.Sprintf("scenario directory %s does not exist", e.Source.Dir)
	}
	return fmt.Sprintf("scenario directory %s: %v", e.Source.Dir, e.Err)
}

// Unwrap returns the underlying error (fs.ErrNotExist for a missing directory).
func (e *DirError) Unwrap() error { return e.Err }

func scanFS(ctx context.Context, env Env, src Source, fsys fs.FS, display string) ([]Entry, error) {
	dirents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, &DirError{Source: src, Err: err}
	}
	// dir is where the files are on disk; empty for the built-in catalog.
	dir := ""
	if src.Kind != SourceBuiltin {
		if dir, err = env.abs(src.Dir); err != nil {
			return nil, err
		}
	}
	var entries []Entry
	for _, de := range dirents {
		name := de.Name()
		ext := path.Ext(name)
		if de.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file := filepath.Join(display, name)
		e := Entry{Name: strings.TrimSuffix(name, ext), Source: src, File: file}
		data, err := readEntry(fsys, dir, name)
		if err != nil {
			e.Err = fmt.Errorf("read %w", displayed(err, file))
			entries = append(entries, e)
			continue
		}
		origin := Origin{File: file, Source: src, Dir: dir}
		sc, errs := parse(env, origin, data)
		if sc.Metadata.Name != "" {
			e.Name = sc.Metadata.Name
		}
		if len(errs) > 0 {
			e.Err = errs
			env.logger().Debug("invalid scenario file", logKeyFile, file, logKeyErrors, len(errs))
		} else {
			e.Scenario = sc
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// readEntry reads one file of a directory being searched (dir, on disk) or
// of the built-in catalog (fsys, when dir is empty). Files on disk
// go through safefile: a /dev/zero symlink or a FIFO named *.yaml in the
// directory is an invalid entry, not a hang or a crash.
func readEntry(fsys fs.FS, dir, name string) ([]byte, error) {
	if dir == "" {
		return fs.ReadFile(fsys, name)
	}
	return safefile.ReadFile(filepath.Join(dir, name), safefile.Scenario)
}
