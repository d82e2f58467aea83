package drill

import (
	"fmt"
	htmltemplate "html/template"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

// readerFuncs are the template functions of the reader's sections
// (context, trend, next steps, links).
var readerFuncs = map[string]any{
	"readme":        func(anchor string) string { return ReadmeURL + "#" + anchor },
	"trendChart":    trendSVG,
	"verdictText":   verdictText,
	"seed":          func(p *int64) string { return strconv.FormatInt(*p, 10) },
	"add1":          func(i int) int { return i + 1 },
	"sentence":      sentence,
	"retroQuestion": retroQuestion,
	"mdurl":         mdURL,
	"paragraphs":    paragraphs,
	// A bucket's s3:// URL is a place to name, not a link a browser
	// follows (html/template would also refuse it as an href).
	"isS3":       func(href string) bool { return strings.HasPrefix(href, "s3://") },
	"findingRef": func(s NextStep) bool { return strings.HasPrefix(s.Anchor, "#finding-") },
}

// verdictText says a TrendVerdict in words: "better than the median of 4
// earlier drills (1m35s)".
func verdictText(v TrendVerdict) string {
	switch v.Verdict {
	case TrendNotMeasured:
		return "not measured by this drill"
	case TrendTooFew:
		if v.Drills == 0 {
			return "no earlier drill measured it: no trend yet"
		}
		return fmt.Sprintf("only %s measured it (%s): too few for a median", plural.Count(v.Drills, "earlier drill", "earlier drills"), fmtSecondsPtr(v.MedianSeconds))
	case TrendSame:
		return fmt.Sprintf("about the same as the median of %s (%s, within %.0f%%)", plural.Count(v.Drills, "earlier drill", "earlier drills"), fmtSecondsPtr(v.MedianSeconds), TrendTolerance*100)
	}
	return fmt.Sprintf("%s than the median of %s (%s)", v.Verdict, plural.Count(v.Drills, "earlier drill", "earlier drills"), fmtSecondsPtr(v.MedianSeconds))
}

// trendSVG draws one measurement (rto or rpo) of the earlier drills and
// this one, oldest to newest, against its objective (dashed, per drill:
// objectives change) and the earlier drills' median (dotted). A drill
// that did not measure it is a cross on the axis.
func trendSVG(r *Report, which string) htmltemplate.HTML {
	const (
		left, top, width, height = 60.0, 18.0, 250.0, 100.0
	)
	t := r.Trend
	pts := make([]TrendPoint, 0, len(t.Previous)+1)
	for i := len(t.Previous) - 1; i >= 0; i-- {
		pts = append(pts, t.Previous[i])
	}
	pts = append(pts, pointOf(r))
	get := func(p TrendPoint) (*float64, float64) {
		if which == "rpo" {
			return p.RPOSeconds, p.RPOObjectiveSeconds
		}
		return p.RTOSeconds, p.RTOObjectiveSeconds
	}
	v := t.RTO
	if which == "rpo" {
		v = t.RPO
	}
	// The scale fits the measurements; the objective is drawn when it is
	// within three times the largest of them, else named above the chart
	// (an RTO of minutes against 4h would otherwise be a flat line at 0).
	maxM, maxO := 0.0, 0.0
	for _, p := range pts {
		m, o := get(p)
		maxO = math.Max(maxO, o)
		if m != nil {
			maxM = math.Max(maxM, *m)
		}
	}
	drawObjective := maxO <= 3*maxM || maxM == 0
	maxY := maxM
	if drawObjective {
		maxY = math.Max(maxY, maxO)
	}
	if maxY <= 0 {
		maxY = 1
	}
	maxY *= 1.15
	step := width
	if len(pts) > 1 {
		step = width / float64(len(pts)-1)
	}
	x := func(i int) float64 {
		if len(pts) == 1 {
			return left + width/2
		}
		return left + float64(i)*step
	}
	y := func(s float64) float64 { return top + height - s/maxY*height }
	name := strings.ToUpper(which)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s of the last %s against the objective">`,
		left+width+92, top+height+28, name, plural.Count(len(pts), "drill", "drills"))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis" text-anchor="end">%s</text><text x="%.0f" y="%.0f" class="axis" text-anchor="end">0</text>`,
		left-6, top+4, fmtSeconds(maxY), left-6, top+height)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="base"/>`, left, top+height, left+width, top+height)
	var obj, meas []string
	for i, p := range pts {
		_, o := get(p)
		obj = append(obj, fmt.Sprintf("%.1f,%.1f", x(i), y(o)))
	}
	_, lastObj := get(pts[len(pts)-1])
	if drawObjective {
		fmt.Fprintf(&b, `<polyline points="%s" class="objective"/>`, strings.Join(obj, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis">objective</text>`, x(len(pts)-1)+8, y(lastObj)+4)
	} else {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis" text-anchor="end">objective %s: far above ↑</text>`, left+width, top-6, fmtSeconds(lastObj))
	}
	if v.MedianSeconds != nil && len(pts) > 1 {
		// The median runs under the earlier drills, to this drill's
		// column, where its value is written.
		my := y(*v.MedianSeconds)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.1f" y2="%.1f" class="median"/><text x="%.1f" y="%.1f" class="axis">median %s</text>`,
			left, my, x(len(pts)-1), my, x(len(pts)-1)+8, my+4, fmtSeconds(*v.MedianSeconds))
	}
	for i, p := range pts {
		if m, _ := get(p); m != nil {
			meas = append(meas, fmt.Sprintf("%.1f,%.1f", x(i), y(*m)))
		}
	}
	if len(meas) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" class="measured"/>`, strings.Join(meas, " "))
	}
	for i, p := range pts {
		m, o := get(p)
		this := i == len(pts)-1
		class := "pt"
		if this {
			class += " this"
		}
		title := fmt.Sprintf("%s %s: %s of %s (%s)", p.DrillID, name, fmtSecondsPtr(m), fmtSeconds(o), p.Result)
		if m == nil {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="nm" text-anchor="middle">×<title>%s not measured</title></text>`, x(i), top+height+4, htmltemplate.HTMLEscapeString(p.DrillID+" "+name))
			continue
		}
		if *m > o {
			class += " over"
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.0f" class="%s"><title>%s</title></circle>`, x(i), y(*m), map[bool]float64{true: 5, false: 3.5}[this], class, htmltemplate.HTMLEscapeString(title))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="axis" text-anchor="end">this drill</text>`, x(len(pts)-1), top+height+22)
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis">%s</text>`, left, top+height+22, htmltemplate.HTMLEscapeString(pts[0].StartedAt.UTC().Format("2006-01-02")))
	}
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String())
}

// mdURL makes a link destination safe in Markdown: every byte but
// letters, digits and -._~/#:?=& percent-encoded, so no space, bracket,
// parenthesis or angle bracket ends the link or starts markup.
func mdURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/#:?=&", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// paragraphs splits text at blank lines and joins the lines of each
// paragraph: a YAML block scalar's line breaks are the file's, not the
// story's.
func paragraphs(s string) []string {
	var out []string
	for _, p := range regexp.MustCompile(`\n[ \t]*\n`).Split(strings.ReplaceAll(s, "\r\n", "\n"), -1) {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}
