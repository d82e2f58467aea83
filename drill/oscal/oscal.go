// Package oscal writes drills as an OSCAL assessment-results document
// (NIST OSCAL 1.2.2, https://pages.nist.gov/OSCAL/resources/concepts/layer/assessment/assessment-results/),
// the form GRC tools import.
//
// The mapping:
//
//	each drill                       a result (start and end the drill's, props: scenario, result, RTO, RPO)
//	each finding, each check after   an observation (method TEST; props: check id or runbook step,
//	the restore, each runbook step   status pass/warn/fail/skipped/declared, severity, seconds),
//	                                 whose relevant-evidence points at the drill's evidence bundle;
//	                                 a check's finding (verify.NAME) is its check's observation; a
//	                                 manual step nobody timed has method EXAMINE (its estimate counted)
//	each control of the mapping      a finding targeting the control (objective-id), state
//	                                 not-satisfied when the drill does not support it (why in the
//	                                 description; related to the failed checks), satisfied when it does
//	the evidence bundle              a back-matter resource with an rlink carrying its SHA-256, to
//	                                 where it was pushed, else the file export wrote: one per drill,
//	                                 drills/ID/evidence.tar.gz relative to the state directory
//	the scenarios as the plan        import-ap: a back-matter resource (firedrill has no OSCAL
//	                                 assessment plan; the scenario in each bundle is the plan)
//
// Control ids become OSCAL tokens (ControlToken: "ISO/IEC 27001:2022
// A.5.29" -> "iso-iec-27001-2022-a.5.29"); the id as the mapping writes it
// is kept in each finding's "control" prop. Every UUID is a version 5 UUID
// (RFC 9562) of what it identifies (the drill id, the check, the control,
// the bundle's hash), so the same drills give the same document byte for
// byte.
package oscal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/runbooks"
)

// Version is the OSCAL version of the documents written.
const Version = "1.2.2"

// NS is the namespace of firedrill's props.
const NS = "https://firedrill.dev/ns/oscal"

// namespace is the UUID namespace of every UUID in the documents.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://firedrill.dev/oscal"))

func id(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).String()
}

// Drill is one drill to write as a result.
type Drill struct {
	Report *drill.Report
	// Index is what the drill's files prove and the controls it supports
	// (drill.IndexOf).
	Index *evidence.Index
	// BundleSHA256 is the hex SHA-256 of the drill's signed evidence
	// bundle; empty when it was never exported (the result then has no
	// relevant evidence, and says so in its remarks).
	BundleSHA256 string
	// BundleHref is where the bundle is: the URL it was pushed to, else its
	// file name; empty means the file evidence export writes without -f,
	// drills/ID/evidence.tar.gz relative to the state directory
	// (drill.EvidenceBundlePath), a link no other drill's bundle has.
	BundleHref string
}

// Options describe the document.
type Options struct {
	// Title is the document's title.
	Title string
	// Version is firedrill's version, the document's metadata version.
	Version string
}

// AssessmentResults is the OSCAL document of drills, one result per
// drill in the order given. It returns an error for no drills (OSCAL
// requires at least one result) or a drill still running.
func AssessmentResults(drills []Drill, o Options) (*Document, error) {
	if len(drills) == 0 {
		return nil, errors.New("no drills: an OSCAL assessment-results document holds at least one result")
	}
	var names []string
	var last time.Time
	back := &BackMatter{}
	plan := Resource{
		UUID:  id("assessment-plan"),
		Title: "firedrill scenarios",
		Description: "The assessment plan: each drill ran the scenario (disaster, objectives, checks, runbook) " +
			"kept as scenario.yaml in its signed evidence bundle. firedrill writes no separate OSCAL assessment plan.",
	}
	back.Resources = append(back.Resources, plan)
	ar := &AssessmentResultsDoc{
		ImportAP: ImportAP{Href: "#" + plan.UUID},
	}
	for _, d := range drills {
		r := d.Report
		if r.Result == drill.ResultRunning || r.StartedAt.IsZero() {
			return nil, fmt.Errorf("drill %s has no result yet: nothing to assess", r.DrillID)
		}
		if end := ended(r); end.After(last) {
			last = end
		}
		names = append(names, r.DrillID, d.BundleSHA256)
		res, bundle := result(d)
		ar.Results = append(ar.Results, res)
		if bundle != nil {
			back.Resources = append(back.Resources, *bundle)
		}
	}
	ar.UUID = id(append([]string{"assessment-results"}, names...)...)
	ar.Metadata = Metadata{Title: o.Title, LastModified: stamp(last), Version: orDefault(o.Version, "unknown"), OSCALVersion: Version}
	ar.BackMatter = back
	return &Document{AssessmentResults: ar}, nil
}

// Write writes doc as indented JSON.
func Write(w io.Writer, doc *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func result(d Drill) (Result, *Resource) {
	r := d.Report
	res := Result{
		UUID:        id("result", r.DrillID),
		Title:       fmt.Sprintf("Drill %s of scenario %s: %s", r.DrillID, r.Scenario, r.Result),
		Description: describe(r),
		Start:       stamp(r.StartedAt),
		Props: []Prop{
			prop("drill-id", r.DrillID), prop("scenario", r.Scenario), prop("result", string(r.Result)),
			prop("rto-status", orDefault(r.RTO.Status, drill.ObjectiveNotMeasured)),
			prop("rpo-status", orDefault(r.RPO.Status, drill.ObjectiveNotMeasured)),
		},
	}
	if !r.FinishedAt.IsZero() {
		res.End = stamp(r.FinishedAt)
	}
	var bundle *Resource
	var evidenceRef []RelevantEvidence
	if d.BundleSHA256 != "" {
		description := "The drill's record, signed (Ed25519 over manifest.json, and an in-toto statement in a DSSE envelope): verify it with the signer's public key before relying on it."
		href := d.BundleHref
		if href == "" {
			href = drill.EvidenceBundlePath(r.DrillID)
			description += " Its link is relative to firedrill's state directory (--state-dir), where 'firedrill evidence export " + r.DrillID + "' writes it."
		}
		bundle = &Resource{
			UUID:        id("bundle", d.BundleSHA256),
			Title:       "Evidence bundle of drill " + r.DrillID,
			Description: description,
			RLinks: []RLink{{
				Href: href, MediaType: "application/gzip",
				Hashes: []Hash{{Algorithm: "SHA-256", Value: d.BundleSHA256}},
			}},
		}
		evidenceRef = []RelevantEvidence{{Href: "#" + bundle.UUID, Description: "The signed evidence bundle of drill " + r.DrillID + " (SHA-256 " + d.BundleSHA256 + ")."}}
	} else {
		res.Remarks = "No evidence bundle of this drill was exported: its observations point at no signed evidence. Run 'firedrill evidence export " + r.DrillID + "'."
	}
	obs := observations(r, evidenceRef)
	var failed []RelatedObservation
	for _, o := range obs {
		if o.failed {
			failed = append(failed, RelatedObservation{ObservationUUID: o.UUID})
		}
		res.Observations = append(res.Observations, o.Observation)
	}
	var include []SelectControl
	if d.Index != nil {
		for _, c := range d.Index.Controls {
			token := ControlToken(c.ID)
			include = append(include, SelectControl{ControlID: token})
			f := Finding{
				UUID:   id("finding", r.DrillID, c.ID),
				Props:  []Prop{prop("control", c.ID)},
				Target: Target{Type: "objective-id", TargetID: token},
			}
			if c.Supported {
				f.Title = "Supported: " + c.ID
				f.Description = fmt.Sprintf("Drill %s supports %s (%s): proofs shown: %s.", r.DrillID, c.ID, c.Title, strings.Join(c.By, ", "))
				f.Target.Status = Status{State: "satisfied"}
			} else {
				f.Title = "Not supported: " + c.ID
				f.Description = fmt.Sprintf("Drill %s does not support %s (%s): %s.", r.DrillID, c.ID, c.Title, strings.TrimSuffix(c.Why, "."))
				f.Target.Status = Status{State: "not-satisfied"}
				f.RelatedObservations = failed
			}
			res.Findings = append(res.Findings, f)
		}
	}
	if len(include) == 0 {
		// OSCAL requires a control selection; with no controls mapped the
		// drill reviewed none.
		res.ReviewedControls = ReviewedControls{ControlSelections: []ControlSelection{{Description: "No controls are mapped."}}}
	} else {
		res.ReviewedControls = ReviewedControls{ControlSelections: []ControlSelection{{IncludeControls: include}}}
	}
	return res, bundle
}

// observation is an Observation and whether what it observed failed (a
// not-satisfied control points at the failed ones).
type observation struct {
	Observation
	failed bool
}

// observations are the drill's observations: each finding that is not a
// check's, in the record's order; each check after the restore (with its
// finding, verify.NAME, when it ran); each runbook step. Every one points
// at evidence (the bundle) when there is some.
func observations(r *drill.Report, evidenceRef []RelevantEvidence) []observation {
	collected := stamp(ended(r))
	checkFindings := map[string]finding.Finding{}
	for _, c := range r.Checks {
		checkFindings[checkID(c.Name)] = finding.Finding{}
	}
	var out []observation
	for i, f := range r.Findings {
		if _, ok := checkFindings[f.ID]; ok && f.ID != "" {
			checkFindings[f.ID] = f
			continue
		}
		o := Observation{
			UUID:        id("observation", r.DrillID, fmt.Sprint(i), f.ID),
			Title:       orDefault(f.ID, "check"),
			Description: observationText(f),
			Methods:     []string{"TEST"},
			Props:       []Prop{prop("check", orDefault(f.ID, "unnamed")), prop("status", string(f.Status)), prop("severity", string(f.Severity))},
		}
		if f.Status != finding.StatusPass {
			o.Types = []string{"finding"}
		}
		out = append(out, observation{o, f.Status == finding.StatusFail})
	}
	for _, c := range r.Checks {
		out = append(out, checkObservation(r.DrillID, c, checkFindings[checkID(c.Name)]))
	}
	for i, s := range r.Runbook {
		out = append(out, stepObservation(r.DrillID, i, s))
	}
	for i := range out {
		out[i].RelevantEvidence, out[i].Collected = evidenceRef, collected
	}
	return out
}

// checkID is the id of a check's finding (restore: "verify." + its name).
func checkID(name string) string { return "verify." + name }

// checkObservation is one check after the restore; f is its finding, zero
// when it recorded none (a check skipped because the restore did not
// complete records none).
func checkObservation(drillID string, c drill.CheckRef, f finding.Finding) observation {
	status := string(finding.StatusPass)
	switch {
	case c.Passed:
	case c.Message == restore.SkippedNotRestored:
		status = "skipped"
	default:
		status = string(finding.StatusFail)
	}
	o := Observation{
		UUID:    id("observation", drillID, "check", c.Name),
		Title:   checkID(c.Name),
		Methods: []string{"TEST"},
		Props: []Prop{prop("check", checkID(c.Name)), prop("kind", c.Kind), prop("status", status),
			prop("duration-seconds", strconv.FormatFloat(c.DurationSeconds, 'f', -1, 64))},
	}
	if f.ID != "" {
		o.Description = observationText(f)
		o.Props = append(o.Props, prop("severity", string(f.Severity)))
	} else {
		verdict := map[string]string{"pass": "passed", "fail": "failed", "skipped": "was not run"}[status]
		why := strings.TrimSuffix(strings.TrimPrefix(c.Message, "skipped: "), ".")
		o.Description = fmt.Sprintf("The %s check %s %s: %s.", orDefault(c.Kind, "unnamed"), c.Name, verdict, orDefault(why, "no message"))
	}
	if status != string(finding.StatusPass) {
		o.Types = []string{"finding"}
	}
	return observation{o, status == string(finding.StatusFail)}
}

// skippedWhy is why a skipped runbook step was not run, as ": why", from
// what the runbook recorded ("not run: step \"x\" failed"); empty when
// the record does not say (records of firedrill before it did), so the
// observation claims no cause the drill did not see.
func skippedWhy(s runbooks.StepResult) string {
	why := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.Error), "not run:")), ".")
	if why == "" {
		return ""
	}
	return ": " + why
}

// stepObservation is runbook step i. A manual step nobody timed was not
// exercised: its method is EXAMINE (its declared estimate was read and
// counted), every other step's TEST.
func stepObservation(drillID string, i int, s runbooks.StepResult) observation {
	what := "Runbook step"
	if s.Manual {
		what = "Manual runbook step"
	}
	head := fmt.Sprintf("%s %q (line %d)", what, s.Name, s.Line)
	status := string(finding.StatusFail)
	var text string
	switch s.Status {
	case runbooks.StepPassed:
		status = string(finding.StatusPass)
		text = fmt.Sprintf("%s passed in %s.", head, drill.FormatSeconds(s.Duration.Seconds()))
		if s.Manual {
			text = fmt.Sprintf("%s: the operator confirmed it done after %s.", head, drill.FormatSeconds(s.Duration.Seconds()))
		}
	case runbooks.StepDeclared:
		status = "declared"
		text = fmt.Sprintf("%s was not timed: its declared estimate of %s counts toward the RTO.", head, drill.FormatSeconds(s.Estimate.Seconds()))
	case runbooks.StepSkipped:
		status = "skipped"
		text = head + " was not run" + skippedWhy(s) + "."
	default:
		text = fmt.Sprintf("%s %s after %s (exit code %d)", head, s.Status, drill.FormatSeconds(s.Duration.Seconds()), s.ExitCode)
		if e := strings.TrimSpace(s.Error); e != "" {
			text += ": " + strings.TrimSuffix(e, ".")
		}
		text += "."
	}
	o := Observation{
		UUID:        id("observation", drillID, "runbook", strconv.Itoa(i), s.Name),
		Title:       "runbook step " + s.Name,
		Description: text,
		Methods:     []string{"TEST"},
		Props: []Prop{prop("runbook-step", s.Name), prop("line", strconv.Itoa(s.Line)), prop("status", status),
			prop("step-status", string(s.Status)), prop("manual", strconv.FormatBool(s.Manual))},
	}
	switch s.Status {
	case runbooks.StepDeclared:
		o.Methods = []string{"EXAMINE"}
		o.Props = append(o.Props, prop("estimate-seconds", strconv.FormatFloat(s.Estimate.Seconds(), 'f', -1, 64)))
	case runbooks.StepSkipped:
	default:
		o.Props = append(o.Props, prop("duration-seconds", strconv.FormatFloat(s.Duration.Seconds(), 'f', -1, 64)))
	}
	if status == string(finding.StatusFail) || status == "skipped" {
		o.Types = []string{"finding"}
	}
	return observation{o, status == string(finding.StatusFail)}
}

// ended is when the drill ended: its finish time, else (a drill that
// died before it recorded one) its start.
func ended(r *drill.Report) time.Time {
	if r.FinishedAt.IsZero() {
		return r.StartedAt
	}
	return r.FinishedAt
}

func describe(r *drill.Report) string {
	var b strings.Builder
	if r.FinishedAt.IsZero() {
		fmt.Fprintf(&b, "Disaster-recovery drill %s of scenario %s started at %s, recorded no finish time; result: %s.", r.DrillID, r.Scenario,
			stamp(r.StartedAt), r.Result)
	} else {
		fmt.Fprintf(&b, "Disaster-recovery drill %s of scenario %s ran from %s to %s; result: %s.", r.DrillID, r.Scenario,
			stamp(r.StartedAt), stamp(r.FinishedAt), r.Result)
	}
	for _, m := range []struct {
		name string
		o    drill.Objective
	}{{"RTO", r.RTO}, {"RPO", r.RPO}} {
		// TimeText: the figure judged (measured plus declared manual time,
		// README "The RTO rule"), as every other output of firedrill says it.
		if m.o.MeasuredSeconds != nil {
			fmt.Fprintf(&b, " %s %s against an objective of %s: %s.", m.name, m.o.TimeText(), drill.FormatSeconds(m.o.ObjectiveSeconds), drill.StatusText(m.o.Status))
		} else {
			fmt.Fprintf(&b, " %s not measured (objective %s).", m.name, drill.FormatSeconds(m.o.ObjectiveSeconds))
		}
	}
	return b.String()
}

func observationText(f finding.Finding) string {
	parts := []string{orDefault(strings.TrimSpace(f.Message), "The check "+f.ID+" ended "+string(f.Status)+".")}
	if f.Subject != "" {
		parts = append(parts, "Subject: "+f.Subject+".")
	}
	if f.Expected != "" {
		parts = append(parts, "Expected: "+f.Expected+".")
	}
	if f.Actual != "" {
		parts = append(parts, "Actual: "+f.Actual+".")
	}
	return strings.Join(parts, " ")
}

// nonToken are the runs of characters an OSCAL token may not hold.
var nonToken = regexp.MustCompile(`[^a-z0-9._]+`)

// ControlToken is a control id as an OSCAL token (letters, digits, '.',
// '-' and '_', starting with a letter or '_'; the schema's TokenDatatype):
// lower case, every other run of characters one '-', "c-" in front of one
// that does not start with a letter. "ISO/IEC 27001:2022 A.5.29" becomes
// "iso-iec-27001-2022-a.5.29", "SOC 2 A1.2" "soc-2-a1.2".
func ControlToken(controlID string) string {
	t := strings.Trim(nonToken.ReplaceAllString(strings.ToLower(controlID), "-"), "-")
	if t == "" || !(t[0] >= 'a' && t[0] <= 'z' || t[0] == '_') {
		t = "c-" + t
	}
	return t
}

func prop(name, value string) Prop {
	return Prop{Name: name, NS: NS, Value: orDefault(strings.TrimSpace(value), "none")}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
