package drill

import (
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// windowFuncs are the template functions of the recovery window's section
// (templates/window.*.tmpl).
var windowFuncs = map[string]any{
	"windowStrip":      windowStripSVG,
	"windowPastBytes":  windowPastBytes,
	"windowNotUsable":  windowNotUsable,
	"windowIntro":      windowIntro,
	"windowRows":       windowRows,
	"mdParts":          mdParts,
	"bytes":            fmtBytes,
	"windowPastBackup": func(r backup.Retained) bool { return r.Kind == backup.RetainedBackup },
}

// windowNotUsable are the window's backups a restore would not take.
func windowNotUsable(w *backup.Window) []backup.WindowBackup {
	var out []backup.WindowBackup
	for _, b := range w.Backups {
		if !b.Usable {
			out = append(out, b)
		}
	}
	return out
}

// windowPastBytes is how many bytes of what the window holds past
// maxRetention were sized.
func windowPastBytes(w *backup.Window) int64 {
	var n int64
	for _, r := range w.PastMaxRetention {
		n += r.Bytes
	}
	return n
}

// fmtBytes prints a size for people in binary units (go-humanize's
// IBytes): 512 B, 1.5 KiB, 12 MiB.
func fmtBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// windowStripSVG draws the recovery window as a strip on one time axis,
// oldest left, the check's time (CheckedAt) right: each backup of the
// window, and the usable one just before it that covers its start, a tick (usable ones in green, the others in red and taller), each
// scheduled run that left no backup a hollow grey marker, the worst gap
// between usable backups as a band (red when over the RPO), the part of
// the window no usable backup covers shaded, and the bounds as dashed
// lines: retention (how far back a restore must reach) and maxRetention
// (nothing may be older), with the backups still kept past it as ticks
// left of that line. Every name and time is escaped; hover titles say
// what each mark is.
func windowStripSVG(w *backup.Window) htmltemplate.HTML {
	const (
		left, width, top, height = 20.0, 720.0, 34.0, 44.0
	)
	end := w.CheckedAt
	start := end
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(start) {
			start = t
		}
	}
	earlier(w.From)
	var maxBound time.Time
	if w.MaxRetentionSeconds > 0 {
		maxBound = end.Add(-durationOf(w.MaxRetentionSeconds))
	}
	// The ticks: the window's backups, and the usable backup just before
	// its start (Oldest), which covers its first moments.
	ticks := slices.Clone(w.Backups)
	if o := w.Oldest; o != nil && !slices.ContainsFunc(ticks, func(b backup.WindowBackup) bool { return b.Name == o.Name }) {
		ticks = append([]backup.WindowBackup{*o}, ticks...)
	}
	for _, b := range ticks {
		earlier(backupTime(b))
	}
	for _, r := range w.PastMaxRetention {
		if r.Kind == backup.RetainedBackup {
			earlier(r.Since)
		}
	}
	for _, m := range w.MissedRuns {
		earlier(m.Expected)
	}
	// The maxRetention bound widens the axis only when something is kept
	// past it; else a 30-day bound would squeeze a 7-day window into a
	// corner, and the bound is named at the left edge instead.
	offStrip := false
	if !maxBound.IsZero() {
		if slices.ContainsFunc(w.PastMaxRetention, func(r backup.Retained) bool { return r.Kind == backup.RetainedBackup && !r.Since.IsZero() }) {
			earlier(maxBound)
		}
		offStrip = maxBound.Before(start)
	}
	if start.Equal(end) && !maxBound.IsZero() {
		start = maxBound // nothing to draw: show up to the bound
		offStrip = false
	}
	span := end.Sub(start).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return left + t.Sub(start).Seconds()/span*width }
	esc := htmltemplate.HTMLEscapeString
	// anchor keeps a label at x inside the strip.
	anchor := func(x float64) string {
		switch {
		case x < left+80:
			return "start"
		case x > left+width-80:
			return "end"
		}
		return "middle"
	}
	var b strings.Builder
	label := fmt.Sprintf("Recovery window of schedule %s: %s, %d usable", w.Schedule, plural.Count(len(w.Backups), "backup", "backups"), w.Usable)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" class="window-strip">`,
		left+width+20, top+height+40, esc(label))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" class="w-track"/>`, left, top, width, height)
	if !w.From.IsZero() && !w.ReachesBack {
		to := end
		if w.Oldest != nil {
			to = w.Oldest.Started
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" class="w-missing"><title>%s</title></rect>`,
			x(w.From), top, x(to)-x(w.From), height, esc("not covered: "+fmtSeconds(w.MissingSeconds)+" of the retention has no usable backup"))
	}
	if g := w.WorstGap; g != nil {
		class, what := "w-gap", "worst gap"
		if g.OverRPO {
			class, what = "w-gap over", "worst gap, over the RPO"
		}
		title := fmt.Sprintf("%s: %s from %s (%s) to %s", what, fmtSeconds(g.Seconds), g.From.UTC().Format(time.RFC3339), g.FromBackup, g.To.UTC().Format(time.RFC3339))
		if g.ToBackup != "" {
			title += " (" + g.ToBackup + ")"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" class="%s"><title>%s</title></rect>`,
			x(g.From), top, max(x(g.To)-x(g.From), 1), height, class, esc(title))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="axis" text-anchor="%s">%s %s</text>`,
			(x(g.From)+x(g.To))/2, top-6, anchor((x(g.From)+x(g.To))/2), esc(what), fmtSeconds(g.Seconds))
	}
	for _, m := range w.MissedRuns {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.0f" r="4" class="w-missed"><title>%s</title></circle>`,
			x(m.Expected), top+height/2, esc("missed run: due "+m.Expected.UTC().Format(time.RFC3339)+", no backup"))
	}
	for _, r := range w.PastMaxRetention {
		if r.Kind != backup.RetainedBackup || r.Since.IsZero() {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="w-tick past"><title>%s</title></line>`,
			x(r.Since), top+4, x(r.Since), top+height-4, esc(fmt.Sprintf("%s: kept %s past maxRetention", r.Subject, fmtSeconds(r.ExcessSeconds))))
	}
	for _, bk := range ticks {
		at := backupTime(bk)
		if at.IsZero() {
			continue
		}
		class, y1, y2 := "w-tick ok", top+8, top+height-8
		if !bk.Usable {
			class, y1, y2 = "w-tick bad", top-2, top+height+2
		}
		title := fmt.Sprintf("%s: %s, started %s", bk.Name, bk.Phase, at.UTC().Format(time.RFC3339))
		if bk.FailureReason != "" {
			title += ": " + bk.FailureReason
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="%s"><title>%s</title></line>`,
			x(at), y1, x(at), y2, class, esc(title))
	}
	bound := func(t time.Time, class, text string) {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="%s"/><text x="%.1f" y="%.0f" class="axis" text-anchor="%s">%s</text>`,
			x(t), top-2, x(t), top+height+6, class, x(t), top+height+18, anchor(x(t)), esc(text))
	}
	startLabel := start.UTC().Format("2006-01-02 15:04 MST")
	switch {
	case offStrip:
		startLabel += " (maxRetention " + fmtSeconds(w.MaxRetentionSeconds) + " reaches back to " + maxBound.UTC().Format("2006-01-02 15:04 MST") + ", off the strip)"
	case !maxBound.IsZero():
		bound(maxBound, "w-bound max", "maxRetention "+fmtSeconds(w.MaxRetentionSeconds))
	}
	if !w.From.IsZero() {
		bound(w.From, "w-bound", "retention "+fmtSeconds(w.RetentionSeconds))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis">%s</text><text x="%.0f" y="%.0f" class="axis" text-anchor="end">%s (checked)</text>`,
		left, top+height+34, esc(startLabel), left+width, top+height+34, esc(end.UTC().Format("2006-01-02 15:04 MST")))
	if len(ticks) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="label" text-anchor="middle">no backup of schedule %s in the window</text>`,
			left+width/2, top+height/2+4, esc(w.Schedule))
	}
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String())
}

// backupTime is when b started, or was created if it never started.
func backupTime(b backup.WindowBackup) time.Time {
	if !b.Started.IsZero() {
		return b.Started
	}
	return b.Created
}

// durationOf is s seconds as a time.Duration.
func durationOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
