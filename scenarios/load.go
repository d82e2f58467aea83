package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// Env is everything loading and finding scenarios depends on outside the
// files themselves. The zero Env searches ./scenarios of the process's
// working directory and the built-in catalog.
type Env struct {
	// ScenarioDirs are the --scenario-dir directories, searched first, in
	// order. A missing one is an error (it is most likely a typo).
	ScenarioDirs []string
	// SearchPath are the directories of $FIREDRILL_SCENARIOS, searched
	// next, in order. Missing ones are skipped.
	SearchPath []string
	// WorkDir is the directory relative paths given by the user are
	// relative to, and whose scenarios/ subdirectory is searched; empty
	// means the process's working directory.
	WorkDir string
	// HomeDir replaces "~" in paths written in scenarios; empty leaves "~" as is.
	// Scenario.CheckFiles looks for the AWS SDK's ~/.aws files there too.
	HomeDir string
	// Getenv reads the environment variables Scenario.CheckFiles consults
	// (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE); nil means an empty
	// environment.
	Getenv func(string) string
	// Catalog replaces the built-in catalog (a directory of *.yaml files);
	// nil means the built-in one.
	Catalog fs.FS
	// RunbookExists reports whether a built-in runbook has this name; nil
	// skips that check. (It is injected so this package does not depend on
	// the runbooks package.)
	RunbookExists func(name string) bool
	// Logger receives debug messages about the search; nil discards them.
	Logger *slog.Logger
	// Stdin is read for the scenario file named StdinArg; nil means an
	// empty standard input.
	Stdin io.Reader
}

// StdinArg, where a scenario file is named, reads the scenario from
// standard input (as kubectl's "-f -"). Its errors name the file
// StdinName ("<stdin>:12: spec.objectives.rto: ..."), and relative paths
// in it (caFile, runbook.file, kubeconfig) are relative to the working
// directory, since standard input has no directory of its own.
const (
	StdinArg  = "-"
	StdinName = "<stdin>"
)

// fileName is the name errors give the scenario file path.
func fileName(path string) string {
	if path == StdinArg {
		return StdinName
	}
	return path
}

func (e Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// abs makes a user-given path absolute against WorkDir.
func (e Env) abs(p string) (string, error) {
	if filepath.IsAbs(p) {
		return p, nil
	}
	if e.WorkDir != "" {
		return filepath.Join(e.WorkDir, p), nil
	}
	return filepath.Abs(p)
}

// Origin says where a scenario was loaded from.
type Origin struct {
	// File is the file as named to the user, e.g. "scenarios/x.yaml" or,
	// for the built-in catalog, "catalog/x.yaml".
	File string
	// Dir is the absolute directory of File on disk; empty for built-in scenarios.
	Dir string
	// Source is the search location the file was found in.
	Source Source
	// SHA256 is the SHA-256 (hex) of the file's bytes as read: what a
	// drill records to tell a changed scenario (drill.Fingerprint).
	SHA256 string
}

// DisplayPath names a path of the scenario (after loading, paths are
// absolute) the way the user named the scenario file: relative to the
// working directory when the scenario file was named so.
func (s *Scenario) DisplayPath(p string) string {
	if s.Origin.Dir == "" || !filepath.IsAbs(p) {
		return p
	}
	rel, err := filepath.Rel(s.Origin.Dir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return p
	}
	return filepath.Join(filepath.Dir(s.Origin.File), rel)
}

// Line is the line where path (e.g. "spec.checks[2].http.url") was
// written, or where its nearest written ancestor was; 1 if none was.
func (s *Scenario) Line(path string) int { return lineOf(s.lines, path) }

// FieldError is an error about one field of the scenario, found after
// loading (for example when a drill step finds a bucket has no object lock).
func (s *Scenario) FieldError(path, format string, args ...any) *ValidationError {
	return &ValidationError{File: s.Origin.File, Line: s.Line(path), Path: path, Message: fmt.Sprintf(format, args...)}
}

// Parse decodes and validates one scenario document. file names it in
// errors; relative paths in the scenario are resolved against file's
// directory, or left relative if file is empty. On failure the error is a
// ValidationErrors holding every problem of the document.
func Parse(env Env, file string, data []byte) (*Scenario, error) {
	sc, errs, err := parseFile(env, file, data)
	switch {
	case err != nil:
		return nil, err
	case len(errs) > 0:
		return nil, errs
	}
	return sc, nil
}

// parseFile is Parse, returning the partial scenario with its errors.
func parseFile(env Env, file string, data []byte) (*Scenario, ValidationErrors, error) {
	origin := Origin{File: file, Source: Source{Kind: SourceFile}}
	if file != "" {
		dir, err := env.abs(filepath.Dir(file))
		if err != nil {
			return nil, nil, err
		}
		origin.Dir = dir
	}
	sc, errs := parse(env, origin, data)
	return sc, errs, nil
}

// LoadFile reads, decodes and validates the scenario in path (relative to
// env.WorkDir). Invalid files give a ValidationErrors.
func LoadFile(ctx context.Context, env Env, path string) (*Scenario, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readFile(env, path)
	if err != nil {
		return nil, err
	}
	return Parse(env, fileName(path), data)
}

// readFile reads a scenario file through safefile: a device, a FIFO or a
// huge file named as a scenario is refused, not read. Errors name the file
// as the user did.
func readFile(env Env, path string) ([]byte, error) {
	if path == StdinArg {
		return readStdin(env)
	}
	abs, err := env.abs(path)
	if err != nil {
		return nil, err
	}
	data, err := safefile.ReadFile(abs, safefile.Scenario)
	if err != nil {
		// "read scenario file PATH: REASON"
		return nil, fmt.Errorf("read %w", displayed(err, path))
	}
	return data, nil
}

// readStdin reads standard input as a scenario file, bounded as a file
// is (safefile.Scenario).
func readStdin(env Env) ([]byte, error) {
	if env.Stdin == nil {
		return nil, nil
	}
	max := safefile.Scenario.MaxBytes
	data, err := io.ReadAll(io.LimitReader(env.Stdin, max+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read scenario file %s: %w", StdinName, err)
	case int64(len(data)) > max:
		return nil, fmt.Errorf("read scenario file %s: larger than %d bytes; firedrill reads scenario files up to that size", StdinName, max)
	}
	return data, nil
}

// displayed names the file of a *safefile.Error as the user named it.
func displayed(err error, path string) error {
	var se *safefile.Error
	if errors.As(err, &se) {
		se.Path = path
	}
	return err
}

// parse always returns the (possibly partial) scenario, so that a search
// can still learn the name of an invalid file.
func parse(env Env, origin Origin, data []byte) (*Scenario, ValidationErrors) {
	sum := sha256.Sum256(data)
	origin.SHA256 = hex.EncodeToString(sum[:])
	sc := &Scenario{Origin: origin, files: fileEnv{homeDir: env.HomeDir, getenv: env.Getenv}}
	d := newDecoder(origin.File)
	d.decodeDocument(data, sc)
	sc.lines = d.lines
	if len(d.errs) == 0 || len(d.lines) > 0 {
		v := &validator{d: d, sc: sc, runbookExists: env.RunbookExists}
		if origin.Dir != "" {
			paths := pathResolver{baseDir: origin.Dir, homeDir: env.HomeDir}
			v.statRunbook = func(p string) error {
				err := safefile.Check(paths.resolve(p), safefile.Runbook)
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("runbook file %q does not exist (paths are relative to the scenario file)", p)
				}
				return displayed(err, p)
			}
		}
		v.validate()
	}
	applyDefaults(sc, func(p string) bool { _, ok := d.lines[p]; return ok })
	pathResolver{baseDir: origin.Dir, homeDir: env.HomeDir}.resolveAll(sc)
	if len(d.errs) == 0 {
		d.warns = append(d.warns, sc.RestoreOrderWarnings()...)
	}
	sc.warnings = d.warns.sorted()
	return sc, d.errs.sorted()
}

// Warnings are the likely mistakes of a valid scenario file, in line
// order: settings a drill would run with but that probably do not do what
// the author meant (a check that names a namespace by its name before
// namespaceMapping, an endpoint whose host names another region, a fixed
// declaredAt). Each names file, line and field, and its message says the
// fix. They do not stop a drill; `firedrill validate --strict` treats them
// as errors.
func (s *Scenario) Warnings() ValidationErrors { return s.warnings }

// ValidateFile loads path as LoadFile does, and returns its warnings too,
// in line order: those of Warnings and the problems of CheckFiles (a file
// the drill needs may exist only where the drill runs, so validate only
// warns).
// Warnings are returned also when the file is invalid; err is then a
// ValidationErrors and sc the scenario as read, not to be run, so a
// caller can check what it refers to (its runbook) in the same pass.
func ValidateFile(ctx context.Context, env Env, path string) (sc *Scenario, warnings ValidationErrors, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	data, err := readFile(env, path)
	if err != nil {
		return nil, nil, err
	}
	sc, errs, err := parseFile(env, fileName(path), data)
	if err != nil {
		return nil, nil, err
	}
	warnings = sc.Warnings()
	if len(errs) > 0 {
		return sc, warnings, errs
	}
	return sc, append(slices.Clone(warnings), sc.CheckFiles()...).sorted(), nil
}
