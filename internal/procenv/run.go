package procenv

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// WaitDelay is how long Run waits, once a program's process group is
// killed, for its output to close. Only a process that left the group
// (setsid) can hold it open that long; Run then stops reading.
const WaitDelay = 2 * time.Second

// Run runs cmd, with its stdout and stderr both written to out, in a
// process group of its own, and returns when it has ended:
//
//   - when ctx ends (a timeout, Ctrl-C), the whole group is killed
//     (SIGKILL), not only the program itself, and Run returns at once
//     even if a child held the output;
//   - when the program exits, whatever it left running in its group
//     (`sleep 100 &`, with its output redirected or not) is killed too,
//     and the program's own exit status decides: a program that exits 0
//     returns nil.
//
// cmd must not have Stdout, Stderr or SysProcAttr set; its stdin is
// /dev/null unless set. The error is cmd.Start's or cmd.Wait's (an
// *exec.ExitError for a non-zero exit or a kill): callers tell a timeout
// from a failure by ctx.Err(). out is written from one goroutine at a
// time.
func Run(ctx context.Context, cmd *exec.Cmd, out io.Writer) error {
	if cmd.Stdout != nil || cmd.Stderr != nil || cmd.SysProcAttr != nil {
		return errors.New("procenv.Run: cmd.Stdout, Stderr and SysProcAttr must be unset")
	}
	// A pipe of our own, not exec's: exec.Cmd.Wait waits for its copying
	// goroutines, which a background child holding the pipe keeps alive;
	// here the group is killed first and the reading ends with it.
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(out, r)
	}()
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			killGroup(pgid)
		case <-exited:
		}
	}()
	err = cmd.Wait()
	close(exited)
	killGroup(pgid)
	t := time.NewTimer(WaitDelay)
	defer t.Stop()
	select {
	case <-copied:
	case <-t.C:
		r.Close() // ends the read: the holder left the group
		<-copied
	}
	return err
}

// killGroup kills process group pgid; a group already gone is no error.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// Tail is an io.Writer that keeps the last Max bytes written to it. It is
// not safe for concurrent use (Run writes from one goroutine).
type Tail struct {
	Max       int
	buf       []byte
	Truncated bool
}

func (t *Tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.Truncated = true
	}
	return len(p), nil
}

// String is what was kept.
func (t *Tail) String() string { return string(t.buf) }
