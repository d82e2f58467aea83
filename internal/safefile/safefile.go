package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Kind is what a file is for: its name in messages and the most firedrill
// reads of it.
type Kind struct {
	// Name says what the file is, e.g. "CA file".
	Name string
	// MaxBytes is the largest size read; a larger file is refused.
	MaxBytes int64
}

// The kinds of file firedrill reads. The limits are far above real files
// (a scenario or runbook is a few kilobytes, the whole Mozilla root store
// is about 220 KB of PEM, a kubeconfig with embedded certificates for a
// dozen clusters is tens of kilobytes) and far below what would hurt.
var (
	Scenario    = Kind{Name: "scenario file", MaxBytes: 1 << 20}
	Runbook     = Kind{Name: "runbook", MaxBytes: 1 << 20}
	CAFile      = Kind{Name: "CA file", MaxBytes: 4 << 20}
	Kubeconfig  = Kind{Name: "kubeconfig", MaxBytes: 16 << 20}
	Credentials = Kind{Name: "credentials file", MaxBytes: 1 << 20}
	// KubeconfigRef is a file a kubeconfig names: certificate-authority,
	// client-certificate, client-key or tokenFile.
	KubeconfigRef = Kind{Name: "file named by the kubeconfig", MaxBytes: 4 << 20}
	// EvidenceKey and PublicKey are the PEM halves of an evidence key
	// pair (about 120 bytes each).
	EvidenceKey = Kind{Name: "evidence signing key", MaxBytes: 64 << 10}
	PublicKey   = Kind{Name: "public key", MaxBytes: 64 << 10}
	// ControlMapping is a YAML file mapping proofs to controls.
	ControlMapping = Kind{Name: "control mapping", MaxBytes: 1 << 20}
	// EvidenceBundle is an evidence bundle to verify, streamed rather than
	// read whole; its limit is evidence.Verify's 4 GiB of content, plus
	// the archive's own overhead.
	EvidenceBundle = Kind{Name: "evidence bundle", MaxBytes: 5 << 30}
	// Other is a small file of a kind the reader does not tell apart (a
	// runbook or a CA bundle copied into a ConfigMap).
	Other = Kind{Name: "file", MaxBytes: 4 << 20}
)

// ErrNotRegular is wrapped by an *Error for a path that is not a regular
// file (a device such as /dev/zero, a FIFO, a socket, a directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by an *Error for a file larger than its kind's
// MaxBytes.
var ErrTooLarge = errors.New("too large")

// Error says which file was refused and why. Err is ErrNotRegular or
// ErrTooLarge (wrapped, with details), or the error of open, fstat or read
// without the path (fs.ErrNotExist for a missing file).
type Error struct {
	Kind Kind
	Path string
	Err  error
}

// Error is "KIND PATH: REASON", e.g. "CA file /dev/zero: not a regular
// file: it is a character device; firedrill reads only regular files".
func (e *Error) Error() string { return fmt.Sprintf("%s %s: %v", e.Kind.Name, e.Path, e.Err) }

// Unwrap gives ErrNotRegular, ErrTooLarge or the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads the regular file path of the given kind. It never blocks
// on a FIFO and never reads more than kind.MaxBytes+1 bytes. Errors are
// *Error.
func ReadFile(path string, kind Kind) ([]byte, error) {
	f, err := open(path, kind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The size fstat gave may change while reading: the limit holds anyway.
	data, err := io.ReadAll(io.LimitReader(f, kind.MaxBytes+1))
	if err != nil {
		return nil, &Error{Kind: kind, Path: path, Err: unwrapPath(err)}
	}
	if int64(len(data)) > kind.MaxBytes {
		return nil, tooLarge(path, kind)
	}
	return data, nil
}

// Check reports whether path is a regular file of at most kind.MaxBytes,
// by opening it as ReadFile does and reading nothing: use it before handing
// a path to a library that reads the file itself. Errors are *Error.
func Check(path string, kind Kind) error {
	f, err := open(path, kind)
	if err != nil {
		return err
	}
	return f.Close()
}

// Open opens the regular file path of the given kind for streaming, as
// ReadFile would read it: never blocking on a FIFO, refusing a file larger
// than kind.MaxBytes at open. The caller reads and closes it. Errors are
// *Error.
func Open(path string, kind Kind) (*os.File, error) { return open(path, kind) }

func open(path string, kind Kind) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, &Error{Kind: kind, Path: path, Err: unwrapPath(err)}
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{Kind: kind, Path: path, Err: unwrapPath(err)}
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, &Error{Kind: kind, Path: path,
			Err: fmt.Errorf("%w: it is %s; firedrill reads only regular files", ErrNotRegular, describeMode(info.Mode()))}
	}
	if info.Size() > kind.MaxBytes {
		f.Close()
		return nil, tooLarge(path, kind)
	}
	return f, nil
}

func tooLarge(path string, kind Kind) error {
	return &Error{Kind: kind, Path: path,
		Err: fmt.Errorf("%w: larger than %s, the most firedrill reads of a %s", ErrTooLarge, bytesText(kind.MaxBytes), kind.Name)}
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file (mode " + m.String() + ")"
}

func bytesText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// unwrapPath drops the path an *fs.PathError repeats; Error names it once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
