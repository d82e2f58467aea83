package runbooks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, md string) *Runbook {
	t.Helper()
	rb, err := Parse("test.md", []byte(md))
	require.NoError(t, err)
	return rb
}

func step(name, timeout, script string) string {
	return "```sh firedrill-step name=\"" + name + "\" timeout=" + timeout + "\n" + script + "\n```\n\n"
}

func TestRun_AllStepsPassInOrderWithEnv(t *testing.T) {
	rb := parse(t, "# R\n\n"+step("one", "5s", `echo "one $FIREDRILL_SCENARIO"`)+step("two", "5s", "echo two >&2"))
	res := Run(context.Background(), rb, RunOptions{Env: []string{"FIREDRILL_SCENARIO=lab"}})
	require.Len(t, res, 2)
	assert.Equal(t, StepPassed, res[0].Status)
	assert.Equal(t, "one lab\n", res[0].Output)
	assert.Equal(t, StepPassed, res[1].Status)
	assert.Equal(t, "two\n", res[1].Output, "stderr is captured too")
	assert.Equal(t, 0, res[1].ExitCode)
	assert.False(t, res[1].Started.Before(res[0].Finished), "steps run one after the other")
}

func TestRun_FailingStepStopsTheRunbook(t *testing.T) {
	rb := parse(t, step("ok", "5s", "true")+step("broken", "5s", "echo checking; false; echo never")+step("after", "5s", "echo after"))
	res := Run(context.Background(), rb, RunOptions{})
	require.Len(t, res, 3)
	assert.Equal(t, StepPassed, res[0].Status)
	assert.Equal(t, StepFailed, res[1].Status)
	assert.Equal(t, 1, res[1].ExitCode)
	assert.Equal(t, "checking\n", res[1].Output, "sh -e stops at the failing command")
	assert.Equal(t, StepSkipped, res[2].Status)
	assert.Contains(t, res[2].Error, `step "broken" failed`)
}

func TestRun_TimeoutKillsTheStepAndItsChildren(t *testing.T) {
	rb := parse(t, step("slow", "300ms", "sleep 30 & wait"))
	start := time.Now()
	res := Run(context.Background(), rb, RunOptions{})
	require.Len(t, res, 1)
	assert.Equal(t, StepTimedOut, res[0].Status)
	assert.Contains(t, res[0].Error, "300ms")
	assert.Less(t, time.Since(start), 10*time.Second, "the background sleep must not keep the step alive")
}

func TestRun_InterruptedSkipsRemainingSteps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rb := parse(t, step("first", "5s", "true")+step("second", "5s", "true"))
	var seen []string
	opts := RunOptions{Now: func() time.Time {
		seen = append(seen, "tick")
		if len(seen) == 2 { // after the first step finished
			cancel()
		}
		return time.Now()
	}}
	res := Run(ctx, rb, opts)
	assert.Equal(t, StepPassed, res[0].Status)
	assert.Equal(t, StepSkipped, res[1].Status)
	assert.Contains(t, res[1].Error, "interrupted")
}

func TestRun_RedactsSecretsFromOutputAndErrors(t *testing.T) {
	rb := parse(t, step("leaky", "5s", `echo "key=$SECRET_KEY"; exit 3`))
	res := Run(context.Background(), rb, RunOptions{Env: []string{"SECRET_KEY=s3cr3t-value"}, Redact: []string{"s3cr3t-value"}})
	require.Len(t, res, 1)
	assert.Equal(t, "key=***\n", res[0].Output)
	assert.NotContains(t, res[0].Output+res[0].Error, "s3cr3t-value")
	assert.Equal(t, 3, res[0].ExitCode)
}

func TestRun_KeepsTheTailOfLongOutput(t *testing.T) {
	rb := parse(t, step("chatty", "5s", `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done`))
	res := Run(context.Background(), rb, RunOptions{MaxOutput: 100})
	require.Len(t, res, 1)
	assert.True(t, res[0].Truncated)
	assert.LessOrEqual(t, len(res[0].Output), 100)
	assert.True(t, strings.HasSuffix(res[0].Output, "line 1999\n"), "the end of the output is kept: %q", res[0].Output)
	assert.True(t, strings.HasPrefix(res[0].Output, "line "), "no partial first line: %q", res[0].Output)
}

func TestRedactReplacesLongestSecretWhole(t *testing.T) {
	// The access key is a prefix of the secret key: replacing it first
	// would leave "***-secret" behind.
	got := redact("key=firedrill-lab secret=firedrill-lab-secret", []string{"firedrill-lab", "firedrill-lab-secret", "ab"})
	if got != "key=*** secret=***" {
		t.Fatalf("redact: %q", got)
	}
}
