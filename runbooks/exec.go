package runbooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/procenv"
	"github.com/firedrill-dev/firedrill/internal/secret"
)

// StepStatus is how a runbook step ended.
type StepStatus string

// The values of StepResult.Status.
const (
	StepPassed   StepStatus = "passed"
	StepFailed   StepStatus = "failed"    // exited non-zero
	StepTimedOut StepStatus = "timed-out" // killed at its timeout
	StepSkipped  StepStatus = "skipped"   // not run: an earlier step failed or the drill was interrupted
	// StepDeclared: a manual step nobody timed (no Operator: a
	// non-interactive drill); its Estimate counts in its place.
	StepDeclared StepStatus = "declared"
)

// ErrDeclined is wrapped by an Operator's error when the operator says a
// manual step was not done.
var ErrDeclined = errors.New("declined by the operator")

// StepResult is what one step did when the runbook was followed. In JSON
// (the runbook of report.json) Duration is duration_seconds, a number of
// seconds; records of schema firedrill.dev/report/v1 have duration_ns, a
// number of nanoseconds, which UnmarshalJSON still reads. A manual step
// has "manual": true and its estimate as estimate_seconds; its Duration
// is the time the operator took (zero when declared).
type StepResult struct {
	Name     string        `json:"name"`
	Line     int           `json:"line"`
	Status   StepStatus    `json:"status"`
	Started  time.Time     `json:"started,omitempty"`
	Finished time.Time     `json:"finished,omitempty"`
	Duration time.Duration `json:"-"`
	ExitCode int           `json:"exit_code"`
	// Output is the step's combined stdout and stderr, secrets redacted,
	// cut to its last RunOptions.MaxOutput bytes.
	Output    string `json:"output"`
	Truncated bool   `json:"output_truncated,omitempty"`
	// Error says why a step failed to run or was stopped, beyond its exit code.
	Error string `json:"error,omitempty"`
	// Manual marks a manual step; Estimate is its declared estimate.
	Manual   bool          `json:"manual,omitempty"`
	Estimate time.Duration `json:"-"`
}

// stepResultJSON is StepResult with its duration as JSON carries it.
type stepResultJSON struct {
	stepResultFields
	DurationSeconds *float64 `json:"duration_seconds,omitempty"`
	// DurationNS is what records of schema firedrill.dev/report/v1 carry.
	DurationNS *int64 `json:"duration_ns,omitempty"`
	// EstimateSeconds is a manual step's Estimate.
	EstimateSeconds *float64 `json:"estimate_seconds,omitempty"`
}

// stepResultFields is StepResult without its methods.
type stepResultFields StepResult

// MarshalJSON writes the step with duration_seconds.
func (r StepResult) MarshalJSON() ([]byte, error) {
	s := r.Duration.Seconds()
	v := stepResultJSON{stepResultFields: stepResultFields(r), DurationSeconds: &s}
	if r.Manual {
		e := r.Estimate.Seconds()
		v.EstimateSeconds = &e
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a step with duration_seconds or, as records of
// schema firedrill.dev/report/v1 have it, duration_ns.
func (r *StepResult) UnmarshalJSON(b []byte) error {
	var v stepResultJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = StepResult(v.stepResultFields)
	switch {
	case v.DurationSeconds != nil:
		r.Duration = time.Duration(math.Round(*v.DurationSeconds * float64(time.Second)))
	case v.DurationNS != nil:
		r.Duration = time.Duration(*v.DurationNS)
	}
	if v.EstimateSeconds != nil {
		r.Estimate = time.Duration(math.Round(*v.EstimateSeconds * float64(time.Second)))
	}
	return nil
}

// RunOptions are how Run executes a runbook's steps.
type RunOptions struct {
	// Env is the step's environment beyond procenv.Base ("NAME=value"):
	// KUBECONFIG pointing at the target and the FIREDRILL_* variables of
	// the step contract (see the package doc). Nothing else of
	// firedrill's environment reaches a step.
	Env []string
	// Dir is the steps' working directory; when empty, a fresh private
	// directory made for this Run and removed after it (never the drill's
	// directory, whose files a step must not rewrite).
	Dir string
	// Secrets are the values that must never reach a step's recorded
	// output or error: each is replaced by secret.Mask.
	Secrets *secret.Set
	// MaxOutput is how many bytes of output a step keeps (the last ones,
	// where errors usually are); 64 KiB when zero.
	MaxOutput int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Progress, when set, gets a line as each step starts and ends.
	Progress io.Writer
	// Operator, when set, is the person at a terminal who does the manual
	// steps: each is shown to them and timed until they confirm it. When
	// nil (a non-interactive drill: CI, a scheduled pod, --yes), each
	// manual step is StepDeclared: its Estimate stands in for its time.
	Operator Operator
}

// Operator is the person doing a drill's manual steps.
type Operator interface {
	// Confirm shows the manual step st (step n of total) and returns when
	// the operator says it is done (nil), or says it was not done (an
	// error wrapping ErrDeclined that says why), or when ctx ends
	// (ctx.Err()). Run times the call: it is the step's duration.
	Confirm(ctx context.Context, st Step, n, total int) error
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
	if opts.Dir == "" && len(rb.Steps) > 0 {
		dir, err := os.MkdirTemp("", "firedrill-runbook-")
		if err != nil {
			stopped = "no working directory: " + err.Error()
		} else {
			defer os.RemoveAll(dir)
			opts.Dir = dir
		}
	}
	for i, st := range rb.Steps {
		results[i] = StepResult{Name: st.Name, Line: st.Line, Status: StepSkipped, ExitCode: -1}
		if stopped == "" && ctx.Err() != nil {
			stopped = "the drill was interrupted"
		}
		if stopped != "" {
			results[i].Error = "not run: " + stopped
			continue
		}
		if st.Manual {
			results[i] = doManual(ctx, st, i+1, len(rb.Steps), opts, now)
		} else {
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "runbook: step %d/%d %s (timeout %s) ...\n", i+1, len(rb.Steps), st.Name, st.Timeout)
			}
			results[i] = runStep(ctx, st, opts, now, max)
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "runbook: step %s %s in %s\n", st.Name, results[i].Status, results[i].Duration.Round(time.Millisecond))
			}
		}
		if results[i].Status != StepPassed && results[i].Status != StepDeclared {
			stopped = fmt.Sprintf("step %q %s", st.Name, results[i].Status)
		}
	}
	return results
}

// doManual has the operator do manual step st (n of total) and times it,
// or, without an operator, declares its estimate.
func doManual(ctx context.Context, st Step, n, total int, opts RunOptions, now func() time.Time) StepResult {
	res := StepResult{Name: st.Name, Line: st.Line, Manual: true, Estimate: st.Estimate}
	if opts.Operator == nil {
		res.Status = StepDeclared
		res.Started = now()
		res.Finished = res.Started
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "runbook: manual step %d/%d %s not timed (no operator at a terminal): its estimate %s counts toward RTO as declared\n",
				n, total, st.Name, st.Estimate)
		}
		return res
	}
	res.Started = now()
	err := opts.Operator.Confirm(ctx, st, n, total)
	res.Finished = now()
	res.Duration = res.Finished.Sub(res.Started)
	switch {
	case err == nil:
		res.Status = StepPassed
	case ctx.Err() != nil:
		res.Status = StepFailed
		res.Error = "stopped: the drill was interrupted"
	default:
		res.Status = StepFailed
		res.Error = opts.Secrets.String(err.Error())
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "runbook: manual step %s %s in %s (estimate %s)\n", st.Name, res.Status, res.Duration.Round(time.Millisecond), st.Estimate)
	}
	return res
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
	cmd := exec.Command(shell, "-e", "-c", st.Script)
	cmd.Dir = opts.Dir
	cmd.Env = procenv.Child(opts.Env...)
	out := &procenv.Tail{Max: max}

	res.Started = now()
	// Its own process group, ended with the step: a timeout kills what the
	// step started too, and a step that exits 0 passes even if it left a
	// child behind, which is killed.
	err := procenv.Run(sctx, cmd, out)
	res.Finished = now()
	res.Duration = res.Finished.Sub(res.Started)
	output := out.String()
	if out.Truncated {
		// Drop the partial first line, so that no fragment of a secret cut
		// in two escapes redaction.
		if i := strings.IndexByte(output, '\n'); i >= 0 {
			output = output[i+1:]
		}
	}
	res.Output, res.Truncated = opts.Secrets.String(output), out.Truncated
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
		res.Error = opts.Secrets.String(err.Error())
	}
	return res
}
