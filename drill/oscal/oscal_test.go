package oscal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/runbooks"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// oscalSchema is NIST's OSCAL 1.2.2 complete schema (testdata/README.md),
// compiled with format assertions on.
func oscalSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(filepath.Join("testdata", "oscal_complete_schema-1.2.2.json"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource("oscal_complete_schema-1.2.2.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("oscal_complete_schema-1.2.2.json")
	})
	require.NoError(t, schemaErr)
	return schema
}

// validate writes doc and validates it against the schema, and returns
// it as generic JSON.
func validate(t *testing.T, doc *Document) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, doc))
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.NoError(t, oscalSchema(t).Validate(inst), "%s", buf.String())
	var out map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out))
	return out
}

func seconds(s float64) *float64 { return &s }

func report(id string, result drill.Result, start time.Time, findings ...finding.Finding) *drill.Report {
	met := result == drill.ResultPass
	status := drill.ObjectiveMet
	if !met {
		status = drill.ObjectiveMissed
	}
	return &drill.Report{
		DrillID: id, Scenario: "region-loss", Result: result,
		StartedAt: start, FinishedAt: start.Add(10 * time.Minute),
		RTO:      drill.Objective{ObjectiveSeconds: 900, MeasuredSeconds: seconds(412.5), Met: &met, Status: status},
		RPO:      drill.Objective{ObjectiveSeconds: 3600, Status: drill.ObjectiveNotMeasured},
		Findings: findings,
	}
}

// drillOf is a drill whose every proof holds: it supports every control
// of the built-in mapping when it passed, none when it did not.
func drillOf(t *testing.T, r *drill.Report, bundle string) Drill {
	t.Helper()
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	var proofs []evidence.Proof
	for id := range m.Proofs {
		proofs = append(proofs, evidence.Proof{ID: id, Holds: true})
	}
	fault := ""
	if r.Result != drill.ResultPass {
		fault = "the drill " + string(r.Result) + "ed"
	}
	return Drill{Report: r, Index: &evidence.Index{Controls: m.Support(proofs, fault)}, BundleSHA256: bundle}
}

var t0 = time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC)

const sumA = "3f9a0000000000000000000000000000000000000000000000000000000000aa"

func TestAssessmentResults_PassingDrill(t *testing.T) {
	r := report("fd-20261122-101500-ab12", drill.ResultPass, t0,
		finding.Pass("protection.bucket.object-lock", "s3://velero-backups", "Object Lock is on, COMPLIANCE 30 days."),
		finding.Pass("check.http.shop", "http://shop", "The shop answered 200."))
	doc, err := AssessmentResults([]Drill{drillOf(t, r, sumA)}, Options{Title: "DR drill fd-20261122-101500-ab12", Version: "v1.2.3"})
	require.NoError(t, err)
	got := validate(t, doc)

	ar := got["assessment-results"].(map[string]any)
	assert.Equal(t, "1.2.2", ar["metadata"].(map[string]any)["oscal-version"])
	assert.Equal(t, "2026-11-22T10:25:00Z", ar["metadata"].(map[string]any)["last-modified"])
	results := ar["results"].([]any)
	require.Len(t, results, 1)
	res := results[0].(map[string]any)
	assert.Equal(t, "2026-11-22T10:15:00Z", res["start"])
	obs := res["observations"].([]any)
	require.Len(t, obs, 2, "one observation per check")
	bundleRef := obs[0].(map[string]any)["relevant-evidence"].([]any)[0].(map[string]any)["href"].(string)

	// The evidence a check points at is the bundle, by SHA-256.
	resources := ar["back-matter"].(map[string]any)["resources"].([]any)
	var bundle map[string]any
	for _, x := range resources {
		if "#"+x.(map[string]any)["uuid"].(string) == bundleRef {
			bundle = x.(map[string]any)
		}
	}
	require.NotNil(t, bundle, "relevant-evidence %s names a back-matter resource", bundleRef)
	rlink := bundle["rlinks"].([]any)[0].(map[string]any)
	// Not pushed: the file evidence export writes in the drill's directory,
	// relative to the state directory, as the description says.
	assert.Equal(t, "drills/fd-20261122-101500-ab12/evidence.tar.gz", rlink["href"])
	assert.Contains(t, bundle["description"], "relative to firedrill's state directory (--state-dir), where 'firedrill evidence export fd-20261122-101500-ab12' writes it")
	assert.Equal(t, []any{map[string]any{"algorithm": "SHA-256", "value": sumA}}, rlink["hashes"])

	// Every control of the mapping is reviewed; the drill passed with
	// every proof, so all are satisfied.
	findings := res["findings"].([]any)
	m, _ := evidence.BuiltinMapping()
	require.Len(t, findings, len(m.Controls))
	for _, f := range findings {
		tg := f.(map[string]any)["target"].(map[string]any)
		assert.Equal(t, "satisfied", tg["status"].(map[string]any)["state"], "%v", f)
	}
	assert.Equal(t, "iso-iec-27001-2022-a.5.29", findings[0].(map[string]any)["target"].(map[string]any)["target-id"])
}

func TestAssessmentResults_FailedDrill(t *testing.T) {
	r := report("fd-20261123-101500-cd34", drill.ResultFail, t0,
		finding.Pass("protection.bucket.object-lock", "s3://velero-backups", "Object Lock is on."),
		finding.Fail("objective.rto", finding.SeverityFail, "region-loss", "The RTO was missed by 12m.").With("15m", "27m", "scale up"))
	doc, err := AssessmentResults([]Drill{drillOf(t, r, sumA)}, Options{Title: "DR drill", Version: "v1"})
	require.NoError(t, err)
	got := validate(t, doc)
	res := got["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)
	obs := res["observations"].([]any)
	failed := obs[1].(map[string]any)
	assert.Equal(t, []any{"finding"}, failed["types"])
	assert.Contains(t, failed["description"], "Expected: 15m. Actual: 27m.")
	for _, f := range res["findings"].([]any) {
		f := f.(map[string]any)
		assert.Equal(t, "not-satisfied", f["target"].(map[string]any)["status"].(map[string]any)["state"])
		assert.Contains(t, f["description"], "the drill failed")
		assert.Equal(t, []any{map[string]any{"observation-uuid": failed["uuid"]}}, f["related-observations"], "a failed control points at the failed check")
	}
}

func TestAssessmentResults_PeriodOfDrills(t *testing.T) {
	drills := []Drill{
		drillOf(t, report("fd-20260110-101500-0001", drill.ResultPass, t0.AddDate(0, -10, 0), finding.Pass("a", "s", "ok")), sumA),
		drillOf(t, report("fd-20260410-101500-0002", drill.ResultFail, t0.AddDate(0, -7, 0), finding.Fail("b", finding.SeverityCritical, "s", "bad")), ""),
		drillOf(t, report("fd-20261122-101500-0003", drill.ResultPass, t0), strings.Repeat("b", 64)),
	}
	// A drill whose process died recorded no finish time.
	drills[1].Report.FinishedAt, drills[1].Report.Result = time.Time{}, drill.ResultDied
	doc, err := AssessmentResults(drills, Options{Title: "DR drills 2026", Version: "v1"})
	require.NoError(t, err)
	got := validate(t, doc)
	ar := got["assessment-results"].(map[string]any)
	results := ar["results"].([]any)
	require.Len(t, results, 3)
	uuids := map[string]bool{}
	for _, r := range results {
		uuids[r.(map[string]any)["uuid"].(string)] = true
	}
	assert.Len(t, uuids, 3, "one result per drill, each its own UUID")
	assert.Contains(t, results[1].(map[string]any)["remarks"], "No evidence bundle", "a drill never exported says so")
	assert.NotContains(t, results[1], "end", "no finish time recorded")
	assert.Contains(t, results[1].(map[string]any)["description"], "recorded no finish time")
	assert.NotContains(t, results[1].(map[string]any)["observations"].([]any)[0], "relevant-evidence")
	assert.Len(t, ar["back-matter"].(map[string]any)["resources"], 3, "the plan and the two bundles")
	assert.Equal(t, "2026-11-22T10:25:00Z", ar["metadata"].(map[string]any)["last-modified"], "the latest drill's end")

	// Reproducible: the same drills give the same bytes; other drills
	// another document UUID.
	var a, b bytes.Buffer
	again, err := AssessmentResults(drills, Options{Title: "DR drills 2026", Version: "v1"})
	require.NoError(t, err)
	require.NoError(t, Write(&a, doc))
	require.NoError(t, Write(&b, again))
	assert.Equal(t, a.String(), b.String())
	fewer, err := AssessmentResults(drills[:2], Options{Title: "DR drills 2026", Version: "v1"})
	require.NoError(t, err)
	assert.NotEqual(t, doc.AssessmentResults.UUID, fewer.AssessmentResults.UUID)
}

// TestAssessmentResults_BundleLinkPerDrill: bundles kept where evidence
// export writes them (no href given) are linked each to its own file,
// drills/ID/evidence.tar.gz, not all to one "evidence.tar.gz"; a pushed
// bundle keeps its URL and says nothing of the state directory.
func TestAssessmentResults_BundleLinkPerDrill(t *testing.T) {
	const idA, idB, idC = "fd-20261120-101500-000a", "fd-20261121-101500-000b", "fd-20261122-101500-000c"
	pushed := drillOf(t, report(idC, drill.ResultPass, t0), strings.Repeat("c", 64))
	pushed.BundleHref = "s3://evidence/shop/region-loss/" + idC + ".evidence.tar.gz"
	doc, err := AssessmentResults([]Drill{
		drillOf(t, report(idA, drill.ResultPass, t0.AddDate(0, 0, -2)), sumA),
		drillOf(t, report(idB, drill.ResultPass, t0.AddDate(0, 0, -1)), strings.Repeat("b", 64)),
		pushed,
	}, Options{Title: "DR drills", Version: "v1"})
	require.NoError(t, err)
	var hrefs []string
	for _, r := range doc.AssessmentResults.BackMatter.Resources {
		for _, l := range r.RLinks {
			hrefs = append(hrefs, l.Href)
			if strings.HasPrefix(l.Href, "s3://") {
				assert.NotContains(t, r.Description, "state directory")
			}
		}
	}
	assert.Equal(t, []string{"drills/" + idA + "/evidence.tar.gz", "drills/" + idB + "/evidence.tar.gz", pushed.BundleHref}, hrefs)
}

func TestAssessmentResults_NoDrills(t *testing.T) {
	_, err := AssessmentResults(nil, Options{Title: "x"})
	assert.ErrorContains(t, err, "at least one result")
	_, err = AssessmentResults([]Drill{drillOf(t, report("fd-1", drill.ResultRunning, t0), "")}, Options{Title: "x"})
	assert.ErrorContains(t, err, "no result yet")
}

// The schema catches what OSCAL forbids: the validation can fail.
func TestSchemaRejectsABadDocument(t *testing.T) {
	doc, err := AssessmentResults([]Drill{drillOf(t, report("fd-1", drill.ResultPass, t0), sumA)}, Options{Title: "x", Version: "v1"})
	require.NoError(t, err)
	for name, breakIt := range map[string]func(){
		"control id not a token": func() { doc.AssessmentResults.Results[0].Findings[0].Target.TargetID = "SOC 2 A1.2" },
		"uuid not v4 or v5":      func() { doc.AssessmentResults.UUID = "00000000-0000-1000-8000-000000000000" },
		"no methods": func() {
			doc.AssessmentResults.Results[0].Observations = []Observation{{UUID: doc.AssessmentResults.UUID, Description: "x", Collected: "2026-01-01T00:00:00Z"}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			saved, _ := json.Marshal(doc)
			breakIt()
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, doc))
			inst, err := jsonschema.UnmarshalJSON(&buf)
			require.NoError(t, err)
			assert.Error(t, oscalSchema(t).Validate(inst))
			*doc = Document{}
			require.NoError(t, json.Unmarshal(saved, doc))
		})
	}
}

func TestControlToken(t *testing.T) {
	for in, want := range map[string]string{
		"ISO/IEC 27001:2022 A.5.29": "iso-iec-27001-2022-a.5.29",
		"SOC 2 A1.2":                "soc-2-a1.2",
		"NIS2 Article 21(2)(c)":     "nis2-article-21-2-c",
		"12.10.2":                   "c-12.10.2",
		"":                          "c-",
	} {
		assert.Equal(t, want, ControlToken(in), in)
	}
}

// A result states the RTO the drill was judged on: measured plus declared
// manual time, as report.json, history and evidence summary do.
func TestAssessmentResults_RTOWithDeclaredManualTime(t *testing.T) {
	r := report("fd-20261122-101500-ab12", drill.ResultFail, t0)
	r.RTO = drill.WithDeclaredManual(drill.Measure(10*time.Minute, 510*time.Second), 120)
	doc, err := AssessmentResults([]Drill{drillOf(t, r, sumA)}, Options{Title: "x", Version: "v1"})
	require.NoError(t, err)
	res := validate(t, doc)["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)
	assert.Contains(t, res["description"], "RTO 10m30s (8m30s measured + 2m00s declared manual) against an objective of 10m00s: missed.")
}

// Every check after the restore and every runbook step is an observation,
// not only the findings: a drill with one passed check and no findings
// still shows what it tested. A check's finding (verify.NAME) is that
// check's observation, not a second one.
func TestAssessmentResults_ObservationPerCheckAndRunbookStep(t *testing.T) {
	r := report("fd-20261122-101500-ab12", drill.ResultFail, t0,
		finding.Pass("protection.bucket.object-lock", "s3://velero-backups", "Object Lock is on."),
		finding.Fail("verify.orders", finding.SeverityFail, "http check orders", "GET /orders answered 503.").With("200", "503", ""))
	r.Checks = []drill.CheckRef{
		{Name: "shop", Kind: "http", Passed: true, DurationSeconds: 1.5, Message: "GET / answered 200"},
		{Name: "orders", Kind: "http", DurationSeconds: 2, Message: "GET /orders answered 503"},
		{Name: "canary", Kind: "dataCanary", Message: restore.SkippedNotRestored},
	}
	r.Runbook = []runbooks.StepResult{
		{Name: "scale up", Line: 12, Status: runbooks.StepPassed, Duration: 3 * time.Second},
		{Name: "rotate DNS", Line: 20, Status: runbooks.StepDeclared, Manual: true, Estimate: 5 * time.Minute},
		{Name: "warm cache", Line: 30, Status: runbooks.StepTimedOut, Duration: time.Minute, ExitCode: -1, Error: "killed at its timeout of 1m"},
	}
	doc, err := AssessmentResults([]Drill{drillOf(t, r, sumA)}, Options{Title: "x", Version: "v1"})
	require.NoError(t, err)
	res := validate(t, doc)["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)

	type obs struct{ title, status, method, description string }
	var got []obs
	uuidOf := map[string]string{}
	for _, o := range res["observations"].([]any) {
		o := o.(map[string]any)
		status := ""
		for _, p := range o["props"].([]any) {
			if p.(map[string]any)["name"] == "status" {
				status = p.(map[string]any)["value"].(string)
			}
		}
		got = append(got, obs{o["title"].(string), status, o["methods"].([]any)[0].(string), o["description"].(string)})
		uuidOf[o["title"].(string)] = o["uuid"].(string)
		assert.NotEmpty(t, o["relevant-evidence"], "%s points at the bundle", o["title"])
	}
	assert.Equal(t, []obs{
		{"protection.bucket.object-lock", "pass", "TEST", "Object Lock is on. Subject: s3://velero-backups."},
		{"verify.shop", "pass", "TEST", "The http check shop passed: GET / answered 200."},
		{"verify.orders", "fail", "TEST", "GET /orders answered 503. Subject: http check orders. Expected: 200. Actual: 503."},
		{"verify.canary", "skipped", "TEST", "The dataCanary check canary was not run: the restore did not complete."},
		{"runbook step scale up", "pass", "TEST", `Runbook step "scale up" (line 12) passed in 3.0s.`},
		{"runbook step rotate DNS", "declared", "EXAMINE", `Manual runbook step "rotate DNS" (line 20) was not timed: its declared estimate of 5m00s counts toward the RTO.`},
		{"runbook step warm cache", "fail", "TEST", `Runbook step "warm cache" (line 30) timed-out after 1m00s (exit code -1): killed at its timeout of 1m.`},
	}, got)

	// A control the drill does not support points at what failed: the
	// failed check and the runbook step that timed out.
	f := res["findings"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{
		map[string]any{"observation-uuid": uuidOf["verify.orders"]},
		map[string]any{"observation-uuid": uuidOf["runbook step warm cache"]},
	}, f["related-observations"])

	// One passed check and no findings: one observation, not none.
	r = report("fd-20261122-101500-ab13", drill.ResultPass, t0)
	r.Checks = r.Checks[:0]
	r.Checks = append(r.Checks, drill.CheckRef{Name: "shop", Kind: "http", Passed: true, Message: "GET / answered 200"})
	doc, err = AssessmentResults([]Drill{drillOf(t, r, sumA)}, Options{Title: "x", Version: "v1"})
	require.NoError(t, err)
	res = validate(t, doc)["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)
	require.Len(t, res["observations"], 1)
	assert.Equal(t, "verify.shop", res["observations"].([]any)[0].(map[string]any)["title"])
}

// TestStepObservation_SkippedSaysWhy: a skipped runbook step says the
// reason the runbook recorded, and only that: a step of a drill that
// passed, or of a record that says nothing (firedrill v0.2), is "not run"
// with no cause made up.
func TestStepObservation_SkippedSaysWhy(t *testing.T) {
	tests := []struct {
		name, err, want string
	}{
		{"after a failed step", `not run: step "scale up" failed`, `Runbook step "warm cache" (line 30) was not run: step "scale up" failed.`},
		{"interrupted", "not run: the drill was interrupted", `Runbook step "warm cache" (line 30) was not run: the drill was interrupted.`},
		{"no reason recorded (v0.2)", "", `Runbook step "warm cache" (line 30) was not run.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := stepObservation("fd-1", 0, runbooks.StepResult{Name: "warm cache", Line: 30, Status: runbooks.StepSkipped, ExitCode: -1, Error: tt.err})
			assert.Equal(t, tt.want, o.Description)
			assert.False(t, o.failed)
			if tt.err == "" {
				assert.NotContains(t, o.Description, "failed")
				assert.NotContains(t, o.Description, "interrupted")
			}
		})
	}
}
