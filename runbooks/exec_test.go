package runbooks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/secret"

	"github.com/firedrill-dev/firedrill/internal/procenv/proctest"
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
	res := Run(context.Background(), rb, RunOptions{Env: []string{"SECRET_KEY=s3cr3t-value"}, Secrets: secret.New("s3cr3t-value")})
	require.Len(t, res, 1)
	assert.Equal(t, "key=[redacted]\n", res[0].Output)
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

func TestRun_StepEnvironmentIsTheContractOnly(t *testing.T) {
	for _, name := range []string{"FIREDRILL_EVIDENCE_KEY_FILE", "FIREDRILL_NOTIFY_WEBHOOK", "FIREDRILL_PUSHGATEWAY",
		"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "SHOP_S3_SECRET", "KUBECONFIG"} {
		t.Setenv(name, "inherited-"+name)
	}
	t.Setenv("PATH", os.Getenv("PATH"))
	wd, err := os.Getwd()
	require.NoError(t, err)
	rb := parse(t, step("env", "5s", `env; echo "pwd=$(pwd)"; touch left-behind`))
	var res []StepResult
	res = Run(context.Background(), rb, RunOptions{Env: []string{"FIREDRILL_SCENARIO=lab", "KUBECONFIG=/private/kubeconfig"}})
	require.Len(t, res, 1)
	require.Equal(t, StepPassed, res[0].Status, res[0].Error)
	out := res[0].Output
	assert.NotContains(t, out, "inherited-", "nothing of firedrill's environment but PATH, HOME, TZ and the locale")
	assert.Contains(t, out, "FIREDRILL_SCENARIO=lab\n")
	assert.Contains(t, out, "KUBECONFIG=/private/kubeconfig\n")
	assert.Contains(t, out, "PATH="+os.Getenv("PATH")+"\n")
	dir := strings.TrimPrefix(lastLine(out), "pwd=")
	assert.NotEqual(t, wd, dir, "not firedrill's working directory")
	assert.True(t, strings.HasPrefix(filepath.Base(dir), "firedrill-runbook-"), dir)
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the private directory is removed after the run")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestRun_StepThatExitsZeroPassesAndItsChildrenEnd(t *testing.T) {
	for name, script := range map[string]string{
		"child holds the output":    `sleep 100 & echo $! > "$PIDFILE"; echo started`,
		"child's output redirected": `sleep 100 >/dev/null 2>&1 & echo $! > "$PIDFILE"; echo started`,
	} {
		t.Run(name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			res := Run(context.Background(), parse(t, step("bg", "30s", script)), RunOptions{Env: []string{"PIDFILE=" + pidfile}})
			require.Len(t, res, 1)
			assert.Equal(t, StepPassed, res[0].Status, res[0].Error)
			assert.Equal(t, "started\n", res[0].Output)
			b, err := os.ReadFile(pidfile)
			require.NoError(t, err)
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			require.NoError(t, err)
			proctest.WaitGone(t, pid)
		})
	}
}
