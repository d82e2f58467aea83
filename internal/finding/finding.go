package finding

// Severity says how bad a finding is when it does not pass.
type Severity string

// The severities, least severe first.
const (
	// SeverityInfo: worth knowing; never a failure.
	SeverityInfo Severity = "info"
	// SeverityWarn: a weakness that does not fail the drill.
	SeverityWarn Severity = "warn"
	// SeverityFail: a requirement is not met; the drill fails.
	SeverityFail Severity = "fail"
	// SeverityCritical: the protection itself is broken, e.g. a locked
	// backup object could be deleted.
	SeverityCritical Severity = "critical"
)

// Status is the outcome of a check.
type Status string

// The statuses.
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// Finding is the outcome of one check.
type Finding struct {
	// ID names the check, stable across runs, e.g. "protection.bucket.versioning".
	ID string `json:"id"`
	// Severity is how bad the finding is; SeverityInfo for a pass.
	Severity Severity `json:"severity"`
	// Status is pass, warn or fail.
	Status Status `json:"status"`
	// Subject is what was checked, e.g. "s3://velero-backups at http://127.0.0.1:27000".
	Subject string `json:"subject"`
	// Expected is what the check requires, in words.
	Expected string `json:"expected,omitempty"`
	// Actual is what the check saw, in words.
	Actual string `json:"actual,omitempty"`
	// Message is one sentence a reader can act on.
	Message string `json:"message"`
	// Hint says how to fix a finding that does not pass.
	Hint string `json:"hint,omitempty"`
}

// Pass returns a passing finding.
func Pass(id, subject, message string) Finding {
	return Finding{ID: id, Severity: SeverityInfo, Status: StatusPass, Subject: subject, Message: message}
}

// Warn returns a finding with status and severity warn.
func Warn(id, subject, message string) Finding {
	return Finding{ID: id, Severity: SeverityWarn, Status: StatusWarn, Subject: subject, Message: message}
}

// Fail returns a failing finding of severity sev (SeverityFail or SeverityCritical).
func Fail(id string, sev Severity, subject, message string) Finding {
	return Finding{ID: id, Severity: sev, Status: StatusFail, Subject: subject, Message: message}
}

// With returns f with Expected, Actual and Hint set; empty arguments keep
// the current value.
func (f Finding) With(expected, actual, hint string) Finding {
	if expected != "" {
		f.Expected = expected
	}
	if actual != "" {
		f.Actual = actual
	}
	if hint != "" {
		f.Hint = hint
	}
	return f
}

// Failed reports whether any finding has status fail.
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if f.Status == StatusFail {
			return true
		}
	}
	return false
}

// Count returns how many findings have each status.
func Count(fs []Finding) map[Status]int {
	n := map[Status]int{}
	for _, f := range fs {
		n[f.Status]++
	}
	return n
}

// BySeverity counts the findings that did not pass, by severity: what
// the metrics and the audit summary report.
func BySeverity(fs []Finding) map[Severity]int {
	n := map[Severity]int{}
	for _, f := range fs {
		if f.Status != StatusPass {
			n[f.Severity]++
		}
	}
	return n
}
