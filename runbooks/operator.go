package runbooks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Prompt is the Operator of an interactive drill: it writes a manual
// step's instruction to Out and reads the operator's answer, one line,
// from In (a terminal). "done" (or y, yes) confirms the step; "abort" (or
// n, no), optionally followed by the reason ("abort: no access to the DNS
// console"), declines it; anything else asks again. The end of In
// declines the step: nobody is left to confirm it.
type Prompt struct {
	In  io.Reader
	Out io.Writer

	r *bufio.Reader
	// pending is the read of a line that a cancelled Confirm left
	// running: the next Confirm takes its answer rather than reading In
	// from a second goroutine.
	pending chan line
}

var _ Operator = (*Prompt)(nil)

type line struct {
	text string
	err  error
}

// Confirm shows st and waits for the operator's answer (see Prompt).
func (p *Prompt) Confirm(ctx context.Context, st Step, n, total int) error {
	fmt.Fprintf(p.Out, "\nrunbook: manual step %d/%d %s (estimate %s), line %d of the runbook. Do this now:\n\n", n, total, st.Name, st.Estimate, st.Line)
	for _, l := range strings.Split(strings.TrimRight(st.Script, "\n"), "\n") {
		fmt.Fprintf(p.Out, "    %s\n", l)
	}
	fmt.Fprintln(p.Out)
	for {
		fmt.Fprintf(p.Out, "Type done when it is done (timed: it counts toward RTO), or abort if it cannot be done:\n")
		answer, err := p.readLine(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintln(p.Out)
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: the input ended before the operator confirmed step %q", ErrDeclined, st.Name)
			}
			return fmt.Errorf("%w: read the operator's answer: %v", ErrDeclined, err)
		}
		word, reason, _ := strings.Cut(strings.TrimSpace(answer), " ")
		word = strings.ToLower(strings.TrimRight(word, ":,."))
		switch word {
		case "done", "d", "y", "yes":
			return nil
		case "abort", "a", "n", "no":
			if reason = strings.TrimSpace(reason); reason != "" {
				return fmt.Errorf("%w: %s", ErrDeclined, reason)
			}
			return fmt.Errorf("%w: step %q was not done", ErrDeclined, st.Name)
		}
	}
}

// readLine reads one line of In, or returns ctx.Err() when ctx ends first.
func (p *Prompt) readLine(ctx context.Context) (string, error) {
	if p.r == nil {
		p.r = bufio.NewReader(p.In)
	}
	ch := p.pending
	if ch == nil {
		ch = make(chan line, 1)
		go func() {
			text, err := p.r.ReadString('\n')
			if err != nil && text != "" && errors.Is(err, io.EOF) {
				err = nil // a last line without its newline is an answer
			}
			ch <- line{text, err}
		}()
	}
	select {
	case <-ctx.Done():
		p.pending = ch
		return "", ctx.Err()
	case l := <-ch:
		p.pending = nil
		return l.text, l.err
	}
}
