package runbooks

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func manual(name, estimate, instruction string) string {
	return "```text firedrill-manual name=\"" + name + "\" estimate=" + estimate + "\n" + instruction + "\n```\n\n"
}

func TestParse_ManualStep(t *testing.T) {
	doc := "# R\n\n" + step("restore", "5s", "true") + manual("dns cutover", "20m", "Point shop.example.com at the new ingress.") +
		"```firedrill-manual name=approve estimate=1h30m\nGet the change approved.\n```\n" +
		"```text firedrill-manual name=new-cluster estimate=2d\nOrder the replacement cluster.\n```\n" +
		"```text firedrill-manual name=hardware estimate=1w\nReplace the failed racks.\n```\n"
	rb, err := Parse("shop.md", []byte(doc))
	require.NoError(t, err)
	require.Len(t, rb.Steps, 5)
	assert.Equal(t, 48*time.Hour, rb.Steps[3].Estimate, "days, as scenario durations are written")
	assert.Equal(t, 7*24*time.Hour, rb.Steps[4].Estimate, "weeks too")
	assert.Equal(t, Step{Name: "dns cutover", Manual: true, Estimate: 20 * time.Minute, Script: "Point shop.example.com at the new ingress.\n", Line: 7}, rb.Steps[1])
	assert.Equal(t, Step{Name: "approve", Manual: true, Estimate: 90 * time.Minute, Script: "Get the change approved.\n", Line: 11}, rb.Steps[2], "the language may be left out")
	assert.Equal(t, 1, rb.Commands())
}

func TestParse_ManualStepErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"no estimate", "\n```text firedrill-manual name=dns\nCut over.\n```\n",
			[]string{`x.md:2: manual step "dns": has no estimate; write estimate=20m (how long it takes: counted toward RTO when nobody times it)`}},
		{"bad estimate", "```text firedrill-manual name=dns estimate=soon\nCut over.\n```\n",
			[]string{`x.md:1: manual step "dns": estimate "soon" is not a positive duration such as 30s, 20m, 1h30m or 2d`}},
		{"zero estimate", "```text firedrill-manual name=dns estimate=0s\nCut over.\n```\n",
			[]string{`x.md:1: manual step "dns": estimate "0s" is not a positive duration such as 30s, 20m, 1h30m or 2d`}},
		{"negative estimate", "```text firedrill-manual name=dns estimate=-5m\nCut over.\n```\n",
			[]string{`x.md:1: manual step "dns": estimate "-5m" is not a positive duration such as 30s, 20m, 1h30m or 2d`}},
		{"no name", "```text firedrill-manual estimate=5m\nCut over.\n```\n", []string{`x.md:1: firedrill-manual block: has no name; write name="..."`}},
		{"timeout is not an attribute", "```text firedrill-manual name=dns estimate=5m timeout=1m\nCut over.\n```\n",
			[]string{`x.md:1: manual step "dns": unknown attribute "timeout"; valid attributes are name and estimate`}},
		{"no instruction", "```text firedrill-manual name=dns estimate=5m\n\n```\n", []string{`x.md:1: manual step "dns": has no instruction for the operator`}},
		{"same name as a command step", step("dns", "5s", "true") + "```text firedrill-manual name=dns estimate=5m\nCut over.\n```\n",
			[]string{`x.md:5: manual step "dns": is defined twice (first on line 1)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tt.doc))
			var perrs ParseErrors
			require.True(t, errors.As(err, &perrs), "got %v", err)
			assert.Equal(t, tt.want, strings.Split(perrs.Error(), "\n"))
		})
	}
}

func TestParse_ManualStepHiddenInHTMLIsAWarning(t *testing.T) {
	rb, err := Parse("x.md", []byte("<!--\n```text firedrill-manual name=dns estimate=5m\nCut over.\n```\n-->\n"))
	require.NoError(t, err)
	assert.Empty(t, rb.Steps)
	require.Len(t, rb.Warnings, 1)
	assert.Contains(t, rb.Warnings[0].Error(), "x.md:2: firedrill-manual block: is inside an HTML comment")
	assert.Contains(t, rb.Warnings[0].Warning(), "x.md:2: warning: firedrill-manual block: is inside an HTML comment", "FILE:LINE: warning: where: message, as a scenario's")
}

// fakeOperator answers each manual step with the next of answers (nil:
// done), advancing the clock by took as the operator works.
type fakeOperator struct {
	clock   *time.Time
	took    time.Duration
	answers []error
	asked   []string
}

func (o *fakeOperator) Confirm(_ context.Context, st Step, n, total int) error {
	o.asked = append(o.asked, st.Name)
	*o.clock = o.clock.Add(o.took)
	if len(o.answers) == 0 {
		return nil
	}
	err := o.answers[0]
	o.answers = o.answers[1:]
	return err
}

func TestRun_ManualStepWithoutOperatorIsDeclared(t *testing.T) {
	rb := parse(t, step("one", "5s", "true")+manual("dns", "5m", "Cut over.")+step("two", "5s", "true"))
	var progress strings.Builder
	res := Run(context.Background(), rb, RunOptions{Progress: &progress})
	require.Len(t, res, 3)
	assert.Equal(t, StepPassed, res[0].Status)
	assert.Equal(t, StepResult{Name: "dns", Line: 5, Status: StepDeclared, Started: res[1].Started, Finished: res[1].Started, Manual: true, Estimate: 5 * time.Minute}, res[1])
	assert.Equal(t, StepPassed, res[2].Status, "a declared step does not stop the runbook")
	assert.Contains(t, progress.String(), "runbook: manual step 2/3 dns not timed (no operator at a terminal): its estimate 5m0s counts toward RTO as declared")
}

func TestRun_ManualStepIsTimedUntilTheOperatorConfirms(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	op := &fakeOperator{clock: &clock, took: 7 * time.Minute}
	rb := parse(t, manual("dns", "5m", "Cut over.")+step("after", "5s", "true"))
	res := Run(context.Background(), rb, RunOptions{Operator: op, Now: func() time.Time { return clock }})
	require.Len(t, res, 2)
	assert.Equal(t, []string{"dns"}, op.asked)
	assert.Equal(t, StepPassed, res[0].Status)
	assert.Equal(t, 7*time.Minute, res[0].Duration, "the time the operator took, not the estimate")
	assert.Equal(t, 5*time.Minute, res[0].Estimate)
	assert.Equal(t, StepPassed, res[1].Status)
}

func TestRun_DeclinedManualStepFailsAndStopsTheRunbook(t *testing.T) {
	clock := time.Now()
	op := &fakeOperator{clock: &clock, answers: []error{errors.Join(ErrDeclined, errors.New("no access to the DNS console"))}}
	rb := parse(t, manual("dns", "5m", "Cut over.")+step("after", "5s", "true"))
	res := Run(context.Background(), rb, RunOptions{Operator: op, Now: func() time.Time { return clock }})
	require.Len(t, res, 2)
	assert.Equal(t, StepFailed, res[0].Status)
	assert.Contains(t, res[0].Error, "no access to the DNS console")
	assert.Equal(t, StepSkipped, res[1].Status)
	assert.Equal(t, `not run: step "dns" failed`, res[1].Error)
}

func TestStepResult_ManualJSONRoundTrip(t *testing.T) {
	in := StepResult{Name: "dns", Line: 3, Status: StepDeclared, Manual: true, Estimate: 5 * time.Minute}
	b, err := in.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"manual":true`)
	assert.Contains(t, string(b), `"estimate_seconds":300`)
	var out StepResult
	require.NoError(t, out.UnmarshalJSON(b))
	assert.Equal(t, in.Estimate, out.Estimate)
	assert.True(t, out.Manual)
}

func TestPrompt_ConfirmsThroughAPipe(t *testing.T) {
	st := Step{Name: "dns", Manual: true, Estimate: 5 * time.Minute, Script: "Point shop.example.com\nat the new ingress.\n", Line: 9}
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"done", "done\n", ""},
		{"asks again until it understands", "later\n\nyes\n", ""},
		{"abort with a reason", "abort: no access to the DNS console\n", "declined by the operator: no access to the DNS console"},
		{"no", "n\n", `declined by the operator: step "dns" was not done`},
		{"end of input", "", `declined by the operator: the input ended before the operator confirmed step "dns"`},
		{"last line without newline", "done", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, w := io.Pipe()
			go func() {
				_, _ = io.WriteString(w, tt.input)
				_ = w.Close()
			}()
			var out strings.Builder
			err := (&Prompt{In: in, Out: &out}).Confirm(context.Background(), st, 2, 3)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrDeclined)
				assert.EqualError(t, err, tt.wantErr)
			}
			assert.Contains(t, out.String(), "manual step 2/3 dns (estimate 5m0s), line 9 of the runbook. Do this now:\n\n    Point shop.example.com\n    at the new ingress.\n")
		})
	}
}

func TestPrompt_CancelledWhileWaiting(t *testing.T) {
	in, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Prompt{In: in, Out: io.Discard}
	done := make(chan error, 1)
	go func() { done <- p.Confirm(ctx, Step{Name: "dns", Script: "x"}, 1, 1) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	// The answer typed later still reaches the next step, through the
	// read the cancelled one left running.
	go func() { _, _ = io.WriteString(w, "done\n") }()
	require.NoError(t, p.Confirm(context.Background(), Step{Name: "next", Script: "x"}, 1, 1))
}
