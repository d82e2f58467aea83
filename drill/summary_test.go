package drill

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	r := &Report{
		DrillID:           "20260301-090000-shop",
		Scenario:          "shop",
		Cluster:           "prod-eu-1",
		StartedAt:         start,
		FinishedAt:        start.Add(7 * time.Minute),
		Result:            ResultFail,
		ErrorStep:         StepVerify,
		RTO:               Measure(10*time.Minute, 6*time.Minute),
		RPO:               NotMeasured(time.Hour, "no backup"),
		ScenarioSHA256:    "aa",
		RunbookSHA256:     "bb",
		TargetSHA256:      "cc",
		Compliance:        []string{"dora", "pci-dss"},
		ErrorBudgetTarget: 0.9, ErrorBudgetWindowSeconds: 86400,
		Restores: []RestoreRef{
			{Name: "r1", ItemsRestored: 40, PodVolumeRestores: []PodVolumeRestore{{BytesDone: 1000}, {BytesDone: 24}}},
			{Name: "r2", ItemsRestored: 2},
		},
	}
	got := Summarize(r)
	rto := 360.0
	want := DrillSummary{
		ID: "20260301-090000-shop", Scenario: "shop", Cluster: "prod-eu-1",
		StartedAt: start.UTC(), FinishedAt: start.Add(7 * time.Minute).UTC(),
		Result: ResultFail, ErrorStep: StepVerify,
		RTOSeconds: &rto, RTOStatus: ObjectiveMet, RPOStatus: ObjectiveNotMeasured,
		RTOObjectiveSeconds: 600, RPOObjectiveSeconds: 3600,
		RestoredItems: 42, RestoredBytes: 1024,
		ScenarioSHA256: "aa", RunbookSHA256: "bb", TargetSHA256: "cc",
		Compliance:        []string{"dora", "pci-dss"},
		ErrorBudgetTarget: 0.9, ErrorBudgetWindowSeconds: 86400,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Summarize:\n got %+v\nwant %+v", got, want)
	}
	// Declared manual time is part of the RTO the forecast and the fleet
	// compare: 6m measured + 5m declared is 11m.
	withManual := *r
	withManual.RTO = WithDeclaredManual(Measure(10*time.Minute, 6*time.Minute), 300)
	if s := Summarize(&withManual); s.RTOSeconds == nil || *s.RTOSeconds != 660 {
		t.Errorf("RTO with declared manual time: got %v, want 660", s.RTOSeconds)
	}
	// The summary does not share the report's memory.
	*r.RTO.MeasuredSeconds = 1
	r.Compliance[0] = "x"
	if *got.RTOSeconds != 360 || got.Compliance[0] != "dora" {
		t.Errorf("summary aliases the report: rto %v, compliance %v", *got.RTOSeconds, got.Compliance)
	}

	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"drill_id", "scenario", "cluster", "started_at", "finished_at", "result", "rto_seconds", "rpo_seconds",
		"rto_objective_seconds", "rpo_objective_seconds", "restored_items", "restored_bytes",
		"scenario_sha256", "runbook_sha256", "target_sha256", "compliance"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, b)
		}
	}
	if keys["rpo_seconds"] != nil {
		t.Errorf("rpo_seconds = %v, want null (not measured)", keys["rpo_seconds"])
	}
	if keys["started_at"] != "2026-03-01T09:00:00Z" {
		t.Errorf("started_at = %v, want UTC RFC 3339", keys["started_at"])
	}
	if !reflect.DeepEqual(Summarize(nil), DrillSummary{}) {
		t.Error("Summarize(nil) is not the zero summary")
	}
}
