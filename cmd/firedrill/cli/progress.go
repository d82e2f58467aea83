package cli

import (
	"bytes"
	"io"
	"sync"

	"github.com/firedrill-dev/firedrill/restore"
)

// eraseLine returns the cursor to the start of the line and erases it
// (ANSI CSI K), for a line rewritten in place.
const eraseLine = "\r\033[K"

// progressLines draws a drill's progress on stderr. On a terminal, a
// watched Velero Restore's progress is one line rewritten in place until
// the Restore ends; elsewhere (a file, a CI log, a pipe) each change is a
// line of its own, so a log never holds a carriage return. A line written
// through it while a Restore's line is shown goes above it, and the
// Restore's line is drawn again below. Safe for concurrent use.
type progressLines struct {
	w   io.Writer
	tty bool

	mu sync.Mutex
	// shown is the Restore line on screen without its newline, if any.
	shown string
}

func newProgressLines(w io.Writer) *progressLines {
	return &progressLines{w: w, tty: isTerminal(w)}
}

// Write writes progress lines.
func (p *progressLines) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown == "" {
		return p.w.Write(b)
	}
	if _, err := io.WriteString(p.w, eraseLine); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	if err != nil {
		return n, err
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		_, err = io.WriteString(p.w, p.shown)
	} else {
		p.shown = "" // the line now belongs to what was written
	}
	return n, err
}

// Restore draws one change of a watched Restore
// (restore.Options.RestoreProgress).
func (p *progressLines) Restore(rp restore.RestoreProgress) {
	if j, ok := p.w.(*jsonLines); ok {
		j.restore(rp)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := rp.String()
	switch {
	case !p.tty:
		_, _ = io.WriteString(p.w, line+"\n")
	case rp.Done():
		_, _ = io.WriteString(p.w, eraseLine+line+"\n")
		p.shown = ""
	default:
		_, _ = io.WriteString(p.w, eraseLine+line)
		p.shown = line
	}
}
