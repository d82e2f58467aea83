package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Schema versions the JSON summary. Removing or renaming a field makes a
// new version; adding one does not.
const Schema = "firedrill.dev/notification/v1"

// Summary is the JSON body of a notification: how one drill ended.
type Summary struct {
	Schema   string       `json:"schema"`
	DrillID  string       `json:"drill_id"`
	Scenario string       `json:"scenario"`
	Result   drill.Result `json:"result"`
	Error    string       `json:"error,omitempty"`
	// ErrorStep is the step a drill in error stopped at, as in report.json.
	ErrorStep  drill.StepName `json:"error_step,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	// RTO and RPO are the measurements against their objectives, as in
	// report.json.
	RTO drill.Objective `json:"rto"`
	RPO drill.Objective `json:"rpo"`
	// FailedFindings are the findings with status fail; never null.
	FailedFindings []finding.Finding `json:"failed_findings"`
	// Report is where the drill's report.html is on the machine that ran it.
	Report string `json:"report"`
	// SharedReport is its address in the shared history, when there is one.
	SharedReport string `json:"shared_report,omitempty"`
}

// NewSummary sums up a finished drill; report and sharedReport say where
// its report is (sharedReport may be empty).
func NewSummary(r *drill.Report, report, sharedReport string) Summary {
	s := Summary{
		Schema: Schema, DrillID: r.DrillID, Scenario: r.Scenario, Result: r.Result, Error: r.Error, ErrorStep: r.ErrorStep,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, RTO: r.RTO, RPO: r.RPO,
		FailedFindings: []finding.Finding{}, Report: report, SharedReport: sharedReport,
	}
	for _, f := range r.Findings {
		if f.Status == finding.StatusFail {
			s.FailedFindings = append(s.FailedFindings, f)
		}
	}
	return s
}

// maxListed bounds the findings a chat message lists.
const maxListed = 10

// Text is the summary as a short chat message, escaped for Slack (see
// slackEscape): what the drill found cannot mention a channel or a user,
// or link anywhere.
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "firedrill: drill %s of %s %s\n", s.DrillID, s.Scenario, strings.ToUpper(string(s.Result)))
	switch {
	case s.Error != "" && s.ErrorStep != "":
		fmt.Fprintf(&b, "in step %s: %s\n", s.ErrorStep, s.Error)
	case s.Error != "":
		fmt.Fprintf(&b, "%s\n", s.Error)
	}
	fmt.Fprintf(&b, "RTO %s, RPO %s\n", objective(s.RTO), objective(s.RPO))
	if n := len(s.FailedFindings); n > 0 {
		fmt.Fprintf(&b, "%s:\n", plural.Count(n, "failed finding", "failed findings"))
		for i, f := range s.FailedFindings {
			if i == maxListed {
				fmt.Fprintf(&b, "- and %d more\n", n-maxListed)
				break
			}
			fmt.Fprintf(&b, "- %s (%s): %s\n", f.ID, f.Severity, f.Message)
		}
	}
	fmt.Fprintf(&b, "Report: %s", s.Report)
	if s.SharedReport != "" {
		fmt.Fprintf(&b, "\nShared: %s", s.SharedReport)
	}
	return slackEscape(b.String())
}

// slackEscape escapes &, < and > as Slack asks of every text it receives
// (https://api.slack.com/reference/surfaces/formatting#escaping): Slack
// reads <!channel>, <@USER> and <URL|label> as mentions and links, so
// finding messages, scenario names and errors, which firedrill does not
// write, would otherwise ping a channel or hide a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func objective(o drill.Objective) string {
	if o.MeasuredSeconds == nil {
		return fmt.Sprintf("not measured (objective %s)", drill.FormatSeconds(o.ObjectiveSeconds))
	}
	return fmt.Sprintf("%s of %s: %s", o.TimeText(), drill.FormatSeconds(o.ObjectiveSeconds), o.Status)
}
