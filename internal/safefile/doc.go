// Package safefile reads the files a user names to firedrill (scenarios,
// runbooks, CA bundles, kubeconfigs, shared AWS credentials files) so that
// no such name can stop the process: only regular files are read, each up
// to a size limit of its kind.
//
// A path is opened without blocking (O_NONBLOCK, so a FIFO with no writer
// does not hang the open), the open file is checked with fstat (so the
// check and the read see the same file, whatever a symlink points to
// meanwhile), and at most the kind's limit plus one byte is read. /dev/zero,
// /dev/urandom, a FIFO, a socket or a directory is refused with an *Error
// that names the kind of file and the path, before anything is read.
package safefile
