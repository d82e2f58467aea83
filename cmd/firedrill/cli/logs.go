package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/restore"
)

// quietFlag is -q/--quiet: only the result, no progress.
func quietFlag() *cli.BoolFlag {
	return &cli.BoolFlag{
		Name:    "quiet",
		Aliases: []string{"q"},
		Usage:   "print only the result: no progress and no info logs on stderr (warnings and errors still)",
	}
}

// progressOut is where a command draws its progress: stderr, or nowhere
// with --quiet.
func (a *app) progressOut() io.Writer {
	if a.quiet {
		return io.Discard
	}
	return a.env.Stderr
}

// logFormatArg is the value of --log-format on the command line args
// (args[0] the program), read before the command line is parsed so that
// an error parsing it is JSON too; "" when it is not given.
func logFormatArg(args []string) string {
	format := ""
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			return format
		case a == "--log-format" || a == "-log-format":
			if i+1 < len(args) {
				format = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--log-format=") || strings.HasPrefix(a, "-log-format="):
			_, format, _ = strings.Cut(a, "=")
		}
	}
	return format
}

// jsonLine is one line of stderr with --log-format json that firedrill
// did not write through its logger: the keys of slog's JSON handler
// (time, level, msg) and kind, which says what the line was in text mode:
// "error" and "hint" (the final Error: and Hint: lines), "warning"
// (Warning: ...), "progress" (any other line), "restore_progress" (a
// watched Velero Restore, with its fields).
type jsonLine struct {
	Time  string `json:"time"`
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Kind  string `json:"kind"`
	// The fields of a restore_progress line (restore.RestoreProgress).
	Restore       string `json:"restore,omitempty"`
	Phase         string `json:"phase,omitempty"`
	ItemsRestored *int   `json:"items_restored,omitempty"`
	TotalItems    *int   `json:"total_items,omitempty"`
}

// jsonLines makes every line written to it one JSON object on w: a line
// that is a JSON object already (the logger's) goes through as it is,
// any other becomes a jsonLine. An indented line continues the line
// before it (an error's list of problems) and keeps its kind. Blank lines
// and the carriage returns and erase-line sequences of a terminal's
// progress are dropped. Safe for concurrent use; Flush writes a last
// line without a newline.
type jsonLines struct {
	w   io.Writer
	now func() time.Time

	mu   sync.Mutex
	buf  []byte
	kind string // of the last line, for continuation lines
}

func newJSONLines(w io.Writer) *jsonLines {
	return &jsonLines{w: w, now: time.Now}
}

func (j *jsonLines) Write(b []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, b...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(j.buf[:i])
		j.buf = j.buf[i+1:]
		if err := j.line(line); err != nil {
			return len(b), err
		}
	}
}

// Flush writes what is left without a newline.
func (j *jsonLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	line := string(j.buf)
	j.buf = nil
	return j.line(line)
}

func (j *jsonLines) line(s string) error {
	s = strings.ReplaceAll(strings.ReplaceAll(s, eraseLine, ""), "\r", "")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if strings.HasPrefix(s, "{") && json.Valid([]byte(s)) {
		j.kind = ""
		_, err := io.WriteString(j.w, s+"\n")
		return err
	}
	kind, msg := "progress", s
	for _, p := range []struct{ prefix, kind string }{{"Error: ", "error"}, {"Hint: ", "hint"}, {"Warning: ", "warning"}} {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok {
			kind, msg = p.kind, rest
		}
	}
	if kind == "progress" && j.kind != "" && (s[0] == ' ' || s[0] == '\t') {
		kind, msg = j.kind, strings.TrimSpace(s)
	}
	j.kind = kind
	return j.write(jsonLine{Msg: msg, Kind: kind})
}

func (j *jsonLines) write(l jsonLine) error {
	l.Time = j.now().UTC().Format(time.RFC3339Nano)
	switch l.Kind {
	case "error", "hint":
		l.Level = slog.LevelError.String()
	case "warning":
		l.Level = slog.LevelWarn.String()
	default:
		l.Level = slog.LevelInfo.String()
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

// restore writes one change of a watched Restore as a restore_progress
// line.
func (j *jsonLines) restore(rp restore.RestoreProgress) {
	j.mu.Lock()
	defer j.mu.Unlock()
	items, total := rp.ItemsRestored, rp.TotalItems
	_ = j.write(jsonLine{Msg: rp.String(), Kind: "restore_progress", Restore: rp.Label,
		Phase: phaseName(rp), ItemsRestored: &items, TotalItems: &total})
}

// phaseName is the Restore's phase as the progress line says it.
func phaseName(rp restore.RestoreProgress) string {
	if rp.Phase == "" {
		return "New"
	}
	return string(rp.Phase)
}

// routeAPIWarnings sends the warnings Kubernetes API servers answer with
// (the Warning header: a deprecated API, an unknown field) to log, as
// warnings of firedrill, instead of client-go's default, klog on stderr
// (a line that is neither JSON nor 'Warning: ...'). It sets client-go's
// process-wide default (rest.SetDefaultWarningHandler).
func routeAPIWarnings(log *slog.Logger) {
	rest.SetDefaultWarningHandler(apiWarnings{log})
}

type apiWarnings struct{ log *slog.Logger }

func (w apiWarnings) HandleWarningHeader(code int, agent, text string) {
	if code == 299 && text != "" {
		w.log.Warn("the Kubernetes API server warns", "warning", text)
	}
}

// warnText is the logger of --log-format text: slog's text handler, except
// that a warning reads as every other warning firedrill prints:
//
//	Warning: MESSAGE: ERR (key=value ...)
//
// with the "err" attribute after the message and the others in
// parentheses.
type warnText struct {
	slog.Handler
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
	group string
}

func newWarnText(w io.Writer, opts *slog.HandlerOptions) *warnText {
	return &warnText{Handler: slog.NewTextHandler(w, opts), w: w, mu: &sync.Mutex{}}
}

func (h *warnText) Handle(ctx context.Context, r slog.Record) error {
	if r.Level != slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	var errText string
	var rest []string
	add := func(a slog.Attr) bool {
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		v := a.Value.Resolve().String()
		if key == "err" && errText == "" {
			errText = v
			return true
		}
		if strings.ContainsAny(v, " \t\n\"=") || v == "" {
			v = strconv.Quote(v)
		}
		rest = append(rest, key+"="+v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	line := "Warning: " + r.Message
	if errText != "" {
		line += ": " + errText
	}
	if len(rest) > 0 {
		line += " (" + strings.Join(rest, " ") + ")"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintln(h.w, line)
	return err
}

func (h *warnText) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &c
}

func (h *warnText) WithGroup(name string) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithGroup(name)
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
