package runbooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firedrill-dev/firedrill/internal/procenv"
)

// StepStatus is how a runbook step ended.
type StepStatus string

// The values of StepResult.Status.
const (
	StepPassed   StepStatus = "passed"
	StepFailed   StepStatus = "failed"    // exited non-zero
	StepTimedOut StepStatus = "timed-out" // killed at its timeout
	StepSkipped  StepStatus = "skipped"   // not run: an earlier step failed or the drill was interrupted
)

// StepResult is what one step did when the runbook was followed.
type StepResult struct {
	Name     string        `json:"name"`
	Line     int           `json:"line"`
	Status   StepStatus    `json:"status"`
	Started  time.Time     `json:"started,omitempty"`
	Finished time.Time     `json:"finished,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	ExitCode int           `json:"exit_code"`
	// Output is the step's combined stdout and stderr, secrets redacted,
	// cut to its last RunOptions.MaxOutput bytes.
	Output    string `json:"output"`
	Truncated bool   `json:"output_truncated,omitempty"`
	// Error says why a step failed to run or was stopped, beyond its exit code.
	Error string `json:"error,omitempty"`
}

// RunOptions are how Run executes a runbook's steps.
type RunOptions struct {
	// Env is added to the inherited environment: KUBECONFIG pointing at
	// the target and the FIREDRILL_* variables of the step contract (see
	// the package doc).
	Env []string
	// Dir is the steps' working directory; the current one when empty.
	Dir string
	// Redact lists values that must never reach a step's recorded output,
	// such as the credentials the drill read; each is replaced by "***".
	Redact []string
	// MaxOutput is how many bytes of output a step keeps (the last ones,
	// where errors usually are); 64 KiB when zero.
	MaxOutput int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Progress, when set, gets a line as each step starts and ends.
	Progress io.Writer
}

// Run follows the runbook mechanically: every step in order, each in a
// shell with its timeout. It stops at the first step that fails or times
// out, as a person following the runbook would, and marks the rest
// skipped: a failed step means the runbook is out of date. Cancelling ctx
// kills the running step and skips the rest. Run returns one result per
// step, always.
func Run(ctx context.Context, rb *Runbook, opts RunOptions) []StepResult {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	max := opts.MaxOutput
	if max <= 0 {
		max = 64 << 10
	}
	results := make([]StepResult, len(rb.Steps))
	stopped := ""
	for i, st := range rb.Steps {
		results[i] = StepResult{Name: st.Name, Line: st.Line, Status: StepSkipped, ExitCode: -1}
		if stopped == "" && ctx.Err() != nil {
			stopped = "the drill was interrupted"
		}
		if stopped != "" {
			results[i].Error = "not run: " + stopped
			continue
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "runbook: step %d/%d %s (timeout %s) ...\n", i+1, len(rb.Steps), st.Name, st.Timeout)
		}
		results[i] = runStep(ctx, st, opts, now, max)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "runbook: step %s %s in %s\n", st.Name, results[i].Status, results[i].Duration.Round(time.Millisecond))
		}
		if results[i].Status != StepPassed {
			stopped = fmt.Sprintf("step %q %s", st.Name, results[i].Status)
		}
	}
	return results
}

func runStep(ctx context.Context, st Step, opts RunOptions, now func() time.Time, max int) StepResult {
	res := StepResult{Name: st.Name, Line: st.Line, ExitCode: -1}
	timeout := st.Timeout
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	shell := st.Shell
	if shell == "" {
		shell = "sh"
	}
	// -e: a runbook step that fails halfway must not pass on its last line.
	cmd := exec.CommandContext(sctx, shell, "-e", "-c", st.Script)
	cmd.Dir = opts.Dir
	cmd.Env = procenv.Child(opts.Env...)
	out := &tailBuffer{max: max}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a timeout kills what the step started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second

	res.Started = now()
	err := cmd.Run()
	res.Finished = now()
	res.Duration = res.Finished.Sub(res.Started)
	output := out.String()
	if out.truncated {
		// Drop the partial first line, so that no fragment of a secret cut
		// in two escapes redaction.
		if i := strings.IndexByte(output, '\n'); i >= 0 {
			output = output[i+1:]
		}
	}
	res.Output, res.Truncated = redact(output, opts.Redact), out.truncated
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		res.Status = StepPassed
	case errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		res.Status = StepTimedOut
		res.Error = fmt.Sprintf("killed after its timeout of %s", timeout)
	case ctx.Err() != nil:
		res.Status = StepFailed
		res.Error = "killed: the drill was interrupted"
	case errors.As(err, &exitErr):
		res.Status = StepFailed
		res.Error = fmt.Sprintf("exited with status %d", res.ExitCode)
	default:
		res.Status = StepFailed
		res.Error = redact(err.Error(), opts.Redact)
	}
	return res
}

func redact(s string, secrets []string) string {
	// Longest first: a secret that contains another (an access key inside
	// the secret key) is replaced whole, leaving no part of it behind.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		if len(v) >= 4 { // shorter values would mangle ordinary output
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
		t.truncated = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
