package cli

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/runbooks"
)

// TestRunOperator_AsksAtATerminalUnlessYes: 'run' asks the person at the
// terminal to confirm each manual step, through stdin and stderr (here a
// pipe standing for the terminal); without a terminal, with --yes, or
// with the scenario read from stdin, nobody is asked and the estimates
// are declared.
func TestRunOperator_AsksAtATerminalUnlessYes(t *testing.T) {
	rb, err := runbooks.Parse("rb.md", []byte("```sh firedrill-step name=check\ntrue\n```\n\n```text firedrill-manual name=dns-cutover estimate=5m\nPoint shop.example.com at the new ingress.\n```\n"))
	require.NoError(t, err)
	commandsOnly, err := runbooks.Parse("rb.md", []byte("```sh firedrill-step name=check\ntrue\n```\n"))
	require.NoError(t, err)

	cliContext := func(t *testing.T, args ...string) *cli.Context {
		set := flag.NewFlagSet("run", flag.ContinueOnError)
		set.Bool("yes", false, "")
		require.NoError(t, set.Parse(args))
		return cli.NewContext(cli.NewApp(), set, nil)
	}
	tests := []struct {
		name     string
		terminal bool
		args     []string
		rb       *runbooks.Runbook
		asks     bool
	}{
		{"terminal", true, []string{"lab"}, rb, true},
		{"terminal, --yes", true, []string{"--yes", "lab"}, rb, false},
		{"no terminal", false, []string{"lab"}, rb, false},
		{"scenario read from stdin", true, []string{"-"}, rb, false},
		{"no manual step", true, []string{"lab"}, commandsOnly, false},
		{"no runbook", true, []string{"lab"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{env: Env{Stdin: strings.NewReader(""), Stderr: io.Discard, StdinIsTerminal: tt.terminal}}
			op := a.runOperator(cliContext(t, tt.args...), tt.rb)
			assert.Equal(t, tt.asks, op != nil)
		})
	}

	t.Run("the operator confirms through stdin", func(t *testing.T) {
		in, w := io.Pipe()
		var stderr strings.Builder
		a := &app{env: Env{Stdin: in, Stderr: &stderr, StdinIsTerminal: true}}
		op := a.runOperator(cliContext(t, "lab"), rb)
		require.NotNil(t, op)
		go func() {
			_, _ = io.WriteString(w, "done\n")
			_ = w.Close()
		}()
		res := runbooks.Run(context.Background(), rb, runbooks.RunOptions{Operator: op})
		require.Len(t, res, 2)
		assert.Equal(t, runbooks.StepPassed, res[1].Status, "error: %s", res[1].Error)
		assert.Equal(t, 5*time.Minute, res[1].Estimate)
		assert.Contains(t, stderr.String(), "manual step 2/2 dns-cutover (estimate 5m0s), line 5 of the runbook. Do this now:\n\n    Point shop.example.com at the new ingress.\n")
	})
}

// TestObjectiveText_DeclaredManualTime: the run summary and the history
// show the RTO the objective was judged on, and its measured part.
func TestObjectiveText_DeclaredManualTime(t *testing.T) {
	o := drill.WithDeclaredManual(drill.Measure(10*time.Minute, 5*time.Minute+24*time.Second), 360)
	assert.Equal(t, "11m24s (5m24s measured + 6m00s declared manual) against an objective of 10m00s: MISSED", objectiveText(o))
	assert.Equal(t, "11m24s of 10m00s MISSED", objectiveCell(o))
	alone := drill.Measure(10*time.Minute, 5*time.Minute+24*time.Second)
	assert.Equal(t, "5m24s against an objective of 10m00s: met", objectiveText(alone))
}
