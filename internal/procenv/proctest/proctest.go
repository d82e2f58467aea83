// Package proctest holds test helpers for the processes procenv runs.
package proctest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// WaitGone waits until pid has exited (gone, or a zombie for its new
// parent to reap), failing t if it still runs after 10 s, and then
// killing it so that a failed test leaves nothing behind: the tests'
// child processes sleep for long.
func WaitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			t.Fatalf("read the state of process %d: %v", pid, err)
		}
		// "PID (COMM) STATE ...": COMM may hold spaces, STATE follows the last ')'.
		s := string(b)
		if state := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]; state == "Z" || state == "X" {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still running after what started it ended: %s", pid, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
