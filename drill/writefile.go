package drill

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// newFileMode is the mode of a file WriteFileAtomic creates, before the
// umask: what os.WriteFile and a shell's > give.
const newFileMode fs.FileMode = 0o644

// WriteFileAtomic writes b to path through a temporary file and a rename,
// so a reader never sees half a file: when the write fails (a full disk,
// ENOSPC) path keeps what it held, and the partial temporary file is
// removed so it holds no space. It is the one writer of drill records and
// of every file a -f flag names.
//
// The temporary file is new and unique in the file's directory
// (".NAME.RANDOM.tmp": the record listings skip *.tmp), so no file of the
// user's is overwritten or removed on the way. An existing file keeps its
// permission bits (a 0600 file stays 0600); a new one gets 0644 less the
// umask. A symbolic link is written through: its target is replaced and
// the link stays. A path that is something other than a regular file (a
// device, a FIFO, a directory) is refused, never replaced.
func WriteFileAtomic(path string, b []byte) error {
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	target, err := resolveLinks(path)
	if err != nil {
		return err
	}
	mode, keep := newFileMode, false
	switch info, err := os.Stat(target); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file: firedrill replaces only regular files", target)
	default:
		mode, keep = info.Mode().Perm(), true
	}
	f, err := createTemp(target, mode)
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil && keep {
		// The umask may have taken bits of the file's own mode away.
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// createTemp creates a new, unique temporary file beside path with mode
// (less the umask). os.CreateTemp would do but for its mode, 0600 for
// every file: a new file would then need the umask, which Go cannot read
// without changing it for the whole process.
func createTemp(path string, mode fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for try := 0; ; try++ {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(uint64(rand.Uint32()), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		return f, err
	}
}

// resolveLinks is the file path names once every symbolic link is
// followed, its directories' too (filepath.EvalSymlinks); path itself when
// it does not exist. A link whose target does not exist yet resolves to
// that target, so writing creates it where the link points.
func resolveLinks(path string) (string, error) {
	for hops := 0; hops < 255; hops++ {
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		real, err := filepath.EvalSymlinks(path)
		if err == nil {
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		// A dangling link: follow one step, and look again.
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}
