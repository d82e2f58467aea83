package drill

import (
	"strconv"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// windowPart is a piece of the recovery window's text, in the words
// report.md and report.html both print; each format marks it its own way.
type windowPart struct {
	Text string
	// Code is a name: a code span.
	Code bool
	// Status, when set, is how the part reads: "fail" (bold in Markdown,
	// red in HTML), "pass" (green in HTML) or a Velero phase (its colour
	// in HTML).
	Status string
}

// windowRow is a row of the recovery window's table: its label and value.
type windowRow struct {
	Label string
	Parts []windowPart
}

// parts builds a row's value a piece at a time.
type parts []windowPart

func (p *parts) text(s string)       { *p = append(*p, windowPart{Text: s}) }
func (p *parts) code(s string)       { *p = append(*p, windowPart{Text: s, Code: true}) }
func (p *parts) status(s, st string) { *p = append(*p, windowPart{Text: s, Status: st}) }
func (p *parts) ts(t time.Time)      { p.text(tsText(t)) }
func (p *parts) dur(seconds float64) { p.text(fmtSeconds(seconds)) }
func (p *parts) fail(s string)       { p.status(s, "fail") }
func (p *parts) passOrFail(s string, ok bool) {
	if ok {
		p.status(s, "pass")
		return
	}
	p.fail(s)
}

// mdParts is parts as Markdown within one line: every piece escaped
// (mdInline, mdCode), the spaces between pieces kept, a failing piece in
// bold.
func mdParts(ps []windowPart) string {
	var b strings.Builder
	for _, p := range ps {
		core := strings.TrimSpace(p.Text)
		lead, _, _ := strings.Cut(p.Text, core)
		trail := p.Text[len(lead)+len(core):]
		if core == "" {
			b.WriteString(p.Text)
			continue
		}
		switch {
		case p.Code:
			core = mdCode(core)
		case p.Status == "fail":
			core = "**" + mdInline(core) + "**"
		default:
			core = mdInline(core)
		}
		b.WriteString(oneLine(lead) + core + oneLine(trail))
	}
	return b.String()
}

// tsText is how the reports write a time (the templates' ts).
func tsText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// windowIntro is the sentence before the recovery window's table.
func windowIntro(w *backup.Window) []windowPart {
	var p parts
	p.text("Backups of schedule ")
	p.code(w.Schedule)
	if w.Cron != "" {
		p.text(" (")
		p.code(w.Cron)
		if w.CronSource != "" {
			p.text(", from the " + w.CronSource)
		}
		p.text(")")
	}
	p.text(", read from the bucket's ")
	p.code("velero-backup.json")
	p.text(" files at " + tsText(w.CheckedAt) + ": " + strconv.Itoa(w.BackupCount) + " in the bucket, " + strconv.Itoa(w.Usable) + " usable.")
	return p
}

// windowRows are the rows of the recovery window's table, one source for
// the words of report.md and report.html.
func windowRows(w *backup.Window) []windowRow {
	return []windowRow{
		{"window", windowSpan(w)},
		{"oldest, newest usable", windowEnds(w)},
		{"reaches back", windowReach(w)},
		{"worst gap (worst-case RPO)", windowGap(w)},
		{"missed runs", windowMissed(w)},
		{"not usable", windowUnusable(w)},
		{"object lock", windowLock(w)},
		{"past maxRetention", windowPast(w)},
	}
}

func windowSpan(w *backup.Window) []windowPart {
	var p parts
	if w.RetentionSeconds > 0 {
		p.text("retention " + fmtSeconds(w.RetentionSeconds) + ": " + tsText(w.From) + " to " + tsText(w.CheckedAt))
	} else {
		p.text("no retention declared (objectives.retention)")
	}
	if w.MaxRetentionSeconds > 0 {
		p.text("; maxRetention " + fmtSeconds(w.MaxRetentionSeconds))
	}
	return p
}

func windowEnds(w *backup.Window) []windowPart {
	var p parts
	if w.Oldest == nil {
		p.text("none")
		return p
	}
	p.code(w.Oldest.Name)
	p.text(" (" + tsText(w.Oldest.Started) + ")")
	if w.Newest != nil {
		p.text(", ")
		p.code(w.Newest.Name)
		p.text(" (" + tsText(w.Newest.Started) + ")")
	}
	return p
}

func windowReach(w *backup.Window) []windowPart {
	var p parts
	p.passOrFail(map[bool]string{true: "yes", false: "no"}[w.ReachesBack], w.ReachesBack)
	if !w.ReachesBack && w.MissingSeconds > 0 {
		p.text(": " + fmtSeconds(w.MissingSeconds) + " of the retention not covered")
	}
	return p
}

func windowGap(w *backup.Window) []windowPart {
	var p parts
	g := w.WorstGap
	if g == nil {
		p.text("no usable backup")
		return p
	}
	if g.OverRPO {
		p.fail(fmtSeconds(g.Seconds) + ", over the RPO")
	} else {
		p.status(fmtSeconds(g.Seconds), "pass")
	}
	p.text(" from " + tsText(g.From) + " (")
	p.code(g.FromBackup)
	p.text(") to " + tsText(g.To) + " (")
	if g.ToBackup != "" {
		p.code(g.ToBackup)
	} else {
		p.text("the check")
	}
	p.text(")")
	if w.RPOSeconds > 0 {
		p.text("; RPO " + fmtSeconds(w.RPOSeconds))
	}
	return p
}

func windowMissed(w *backup.Window) []windowPart {
	var p parts
	switch {
	case w.MissedRunCount > 0:
		p.fail(strconv.Itoa(w.MissedRunCount))
		times := make([]string, len(w.MissedRuns))
		for i, m := range w.MissedRuns {
			times[i] = tsText(m.Expected)
		}
		p.text(": " + strings.Join(times, ", "))
	case w.Cron != "":
		p.text("none")
	default:
		p.text("not looked for (the schedule's cron expression is unknown)")
	}
	return p
}

func windowUnusable(w *backup.Window) []windowPart {
	var p parts
	for i, b := range windowNotUsable(w) {
		if i > 0 {
			p.text("; ")
		}
		p.code(b.Name)
		p.text(" ")
		p.status(b.Phase, b.Phase)
		if b.Errors > 0 {
			p.text(", " + plural.Count(b.Errors, "error", "errors"))
		}
		if b.FailureReason != "" {
			p.text(": " + b.FailureReason)
		}
	}
	if len(p) == 0 {
		p.text("none")
	}
	return p
}

func windowLock(w *backup.Window) []windowPart {
	var p parts
	l := w.Lock
	switch l.Checked {
	case "all":
		p.text("every backup checked (" + strconv.Itoa(len(l.Backups)) + ")")
	case "sample":
		p.text("a sample of " + strconv.Itoa(l.Sample) + " (seed " + seedText(l.Seed) + "): " + strings.Join(l.Backups, ", "))
	default:
		p.text("not checked")
	}
	if n := len(l.Short); n > 0 {
		p.text("; ")
		p.fail(plural.Count(n, "backup", "backups") + " short of " + plural.Of(n, "its", "their") + " expiration")
		p.text(": ")
		for i, s := range l.Short {
			if i > 0 {
				p.text("; ")
			}
			p.code(s.Backup)
			p.text(": " + s.Problem)
		}
	}
	return p
}

func windowPast(w *backup.Window) []windowPart {
	var p parts
	switch {
	case len(w.PastMaxRetention) > 0:
		p.fail(strconv.Itoa(len(w.PastMaxRetention)))
		if n := windowPastBytes(w); n > 0 {
			p.text(" (" + fmtBytes(n) + ")")
		}
		p.text(": ")
		for i, r := range w.PastMaxRetention {
			if i > 0 {
				p.text("; ")
			}
			p.text(r.Kind + " ")
			p.code(r.Subject)
			p.text(", " + fmtSeconds(r.ExcessSeconds) + " over")
		}
	case w.MaxRetentionSeconds > 0:
		p.text("nothing")
	default:
		p.text("no maxRetention declared")
	}
	return p
}

// seedText is a sample's seed; every sample is drawn with one.
func seedText(p *int64) string {
	if p == nil {
		return "unknown"
	}
	return strconv.FormatInt(*p, 10)
}
