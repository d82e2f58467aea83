package drill

import (
	stdhtml "html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
)

// TestWindowStrip_MarksEveryBackupRunAndBound: one tick per backup (usable
// and not told apart), one marker per missed run, the worst gap over the
// RPO, the part of the retention not covered, and both bounds.
func TestWindowStrip_MarksEveryBackupRunAndBound(t *testing.T) {
	svg := string(windowStripSVG(sampleWindow()))
	assert.Equal(t, 5, strings.Count(svg, `class="w-tick ok"`))
	assert.Equal(t, 1, strings.Count(svg, `class="w-tick bad"`))
	assert.Equal(t, 1, strings.Count(svg, `class="w-tick past"`))
	assert.Equal(t, 1, strings.Count(svg, `class="w-missed"`))
	assert.Equal(t, 1, strings.Count(svg, `class="w-gap over"`))
	assert.Equal(t, 1, strings.Count(svg, `class="w-missing"`))
	assert.Contains(t, svg, `>retention 7d</text>`)
	assert.Contains(t, svg, `>maxRetention 30d</text>`)
	assert.Contains(t, svg, `<title>shop-nightly-20261118010000: Failed, started 2026-11-18T01:00:00Z: object storage unreachable</title>`)
	assert.Contains(t, svg, `<title>missed run: due 2026-11-19T01:00:00Z, no backup</title>`)
	assert.Contains(t, svg, `worst gap, over the RPO 3d</text>`)

	// The axis runs from the oldest thing drawn (the backup kept past
	// maxRetention, 2026-10-20 01:00) to the check (t0), left to right.
	assert.Contains(t, svg, `>2026-10-20 01:00 UTC</text>`)
	assert.Contains(t, svg, `>2026-11-22 10:00 UTC (checked)</text>`)
}

// TestWindowStrip_EscapesNames: backup and schedule names come from the
// bucket's velero-backup.json files, which whoever can write the bucket
// controls: they are escaped in the SVG, the HTML and the Markdown.
func TestWindowStrip_EscapesNames(t *testing.T) {
	w := sampleWindow()
	hostile := `x"><script>alert(1)</script>`
	w.Schedule = hostile
	w.Backups[2].Name = hostile
	w.Backups[2].FailureReason = "</title><img src=x onerror=alert(2)>"
	w.NotCompleted = []backup.WindowBackup{w.Backups[2]}

	svg := string(windowStripSVG(w))
	assert.NotContains(t, svg, "<script>")
	assert.NotContains(t, svg, "<img")
	assert.Contains(t, svg, `x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;: Failed`)

	r := sampleReport()
	r.Window = w
	html, err := RenderHTML(r)
	require.NoError(t, err)
	assert.NotContains(t, string(html), "<script>")
	assert.NotContains(t, string(html), "<img")
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	// In a code span the name is text, never markup.
	assert.Contains(t, string(md), "`x\"><script>alert(1)</script>` Failed, 1 error: \\</title\\>\\<img src=x onerror=alert(2)\\>")
	assertMarkdownStructure(t, string(md))
}

// TestWindowStrip_EmptyWindow: a schedule with no backup at all still
// draws its window and bounds, says so, and the sections render.
func TestWindowStrip_EmptyWindow(t *testing.T) {
	checked := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	w := &backup.Window{Schedule: "shop-nightly", CheckedAt: checked, From: checked.Add(-7 * 24 * time.Hour),
		RetentionSeconds: 7 * 24 * 3600, MaxRetentionSeconds: 30 * 24 * 3600, MissingSeconds: 7 * 24 * 3600,
		Lock: backup.LockCoverage{Checked: "none"}}
	svg := string(windowStripSVG(w))
	assert.Contains(t, svg, `>no backup of schedule shop-nightly in the window</text>`)
	assert.NotContains(t, svg, "w-tick")
	assert.NotContains(t, svg, "w-gap")
	assert.Equal(t, 1, strings.Count(svg, `class="w-missing"`), "the whole retention is not covered")
	assert.Contains(t, svg, `>retention 7d</text>`)
	assert.Contains(t, svg, `>2026-11-15 10:00 UTC (maxRetention 30d reaches back to 2026-10-23 10:00 UTC, off the strip)</text>`,
		"the axis starts at the window's start; nothing is kept past the bound: it is named, not drawn")

	r := sampleReport()
	r.Window = w
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| oldest, newest usable | none |")
	assert.Contains(t, string(md), "| reaches back | **no**: 7d of the retention not covered |")
	assert.Contains(t, string(md), "| worst gap (worst-case RPO) | no usable backup |")
	assert.Contains(t, string(md), "| past maxRetention | nothing |")
	html, err := RenderHTML(r)
	require.NoError(t, err)
	assert.Contains(t, string(html), "no backup of schedule shop-nightly in the window")

	// No window at all (a scenario without a schedule): no section.
	r.Window = nil
	md, err = RenderMarkdown(r)
	require.NoError(t, err)
	assert.NotContains(t, string(md), "## Recovery window")
}

// TestWindowStrip_BackupBeforeTheWindowCoversIt: no backup started inside
// a short window, but the usable one just before it (Oldest) covers its
// start: it is drawn, and the window is not called empty.
func TestWindowStrip_BackupBeforeTheWindowCoversIt(t *testing.T) {
	checked := time.Date(2026, 12, 1, 15, 2, 52, 0, time.UTC)
	anchor := backup.WindowBackup{Name: "shop-daily-20261201144148", Phase: "Completed", Started: checked.Add(-21 * time.Minute), Usable: true}
	w := &backup.Window{Schedule: "shop-daily", CheckedAt: checked, From: checked.Add(-time.Minute), RetentionSeconds: 60,
		BackupCount: 2, Usable: 2, Oldest: &anchor, Newest: &anchor, ReachesBack: true,
		WorstGap: &backup.Gap{From: anchor.Started, To: checked, FromBackup: anchor.Name, Seconds: 21 * 60}}
	svg := string(windowStripSVG(w))
	assert.Equal(t, 1, strings.Count(svg, `class="w-tick ok"`))
	assert.Contains(t, svg, "<title>shop-daily-20261201144148: Completed, started 2026-12-01T14:41:52Z</title>")
	assert.NotContains(t, svg, "no backup of schedule")
	assert.Contains(t, svg, `>2026-12-01 14:41 UTC</text>`, "the axis reaches back to it")
	assert.Contains(t, svg, `text-anchor="end">retention 1m00s</text>`, "a label near the end stays inside the strip")
}

// TestWindowRows_SameWordsInMarkdownAndHTML: report.md and report.html
// word the recovery window alike, row by row and in the sentence before
// the table (one source, windowRows and windowIntro): only the markup
// differs, never the words ("15h00m of the retention not covered" in one,
// "15h00m not covered" in the other).
func TestWindowRows_SameWordsInMarkdownAndHTML(t *testing.T) {
	r := sampleReport()
	r.Window.Lock = backup.LockCoverage{Checked: "sample", Sample: 2, Seed: new(int64), Backups: []string{"b-1", "b-2"},
		Short: []backup.LockShort{{Backup: "b-1", Problem: "an object version is locked until 2026-11-20"}}}
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	html, err := RenderHTML(r)
	require.NoError(t, err)

	_, mdSection, ok := strings.Cut(string(md), "## Recovery window\n\n")
	require.True(t, ok)
	mdSection, _, _ = strings.Cut(mdSection, "\n## ")
	mdLines := strings.Split(strings.TrimSpace(mdSection), "\n")
	mdText := func(s string) string {
		s = strings.NewReplacer("**", "", "`", "").Replace(s)
		return regexp.MustCompile(`\\(.)`).ReplaceAllString(s, "$1")
	}
	var mdWords []string
	mdWords = append(mdWords, mdText(mdLines[0]))
	for _, l := range mdLines[1:] {
		if cells := strings.Split(strings.Trim(l, "|"), " | "); len(cells) == 2 && strings.TrimSpace(cells[0]) != "" {
			mdWords = append(mdWords, mdText(strings.TrimSpace(cells[0]))+": "+mdText(strings.TrimSpace(cells[1])))
		}
	}

	_, htmlSection, ok := strings.Cut(string(html), "<h2>Recovery window</h2>")
	require.True(t, ok)
	htmlSection, _, _ = strings.Cut(htmlSection, "</table>")
	htmlText := func(s string) string {
		return stdhtml.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, ""))
	}
	var htmlWords []string
	intro := regexp.MustCompile(`(?s)<p>(.*?)</p>`).FindStringSubmatch(htmlSection)
	require.NotNil(t, intro)
	htmlWords = append(htmlWords, htmlText(intro[1]))
	for _, m := range regexp.MustCompile(`<tr><th>(.*?)</th><td>(.*?)</td></tr>`).FindAllStringSubmatch(htmlSection, -1) {
		htmlWords = append(htmlWords, htmlText(m[1])+": "+htmlText(m[2]))
	}

	require.Len(t, mdWords, 9, "the sentence and eight rows:\n%s", strings.Join(mdWords, "\n"))
	assert.Equal(t, mdWords, htmlWords)
	assert.Contains(t, mdWords, "reaches back: no: 15h00m of the retention not covered")
	assert.Contains(t, mdWords, "object lock: a sample of 2 (seed 0): b-1, b-2; 1 backup short of its expiration: b-1: an object version is locked until 2026-11-20")
}
