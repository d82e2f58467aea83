package drill

import (
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Fingerprint is what "after a major change" compares (DueOf): the
// SHA-256 (hex) of the scenario file, of its runbook and of the target's
// description (TargetDescription). An empty field is not known.
type Fingerprint struct {
	ScenarioSHA256 string `json:"scenario_sha256,omitempty"`
	RunbookSHA256  string `json:"runbook_sha256,omitempty"`
	TargetSHA256   string `json:"target_sha256,omitempty"`
}

// FingerprintOf is the fingerprint of a scenario as loaded and of its
// runbook (nil when it has none). The target is described by the API
// server URL its kubeconfig and context select (read locally; the cluster
// is not contacted); when that cannot be read, TargetSHA256 is empty.
func FingerprintOf(sc *scenarios.Scenario, rb *runbooks.Runbook) Fingerprint {
	f := Fingerprint{ScenarioSHA256: sc.Origin.SHA256}
	if rb != nil {
		f.RunbookSHA256 = evidence.SHA256Hex(rb.Markdown)
	}
	if rc, err := kube.Config(sc.Spec.Target.Kubeconfig, sc.Spec.Target.Context); err == nil && rc.Host != "" {
		f.TargetSHA256 = evidence.SHA256Hex([]byte(TargetDescription(rc.Host)))
	}
	return f
}

// TargetDescription is the stable description of a scratch cluster whose
// SHA-256 a drill records: its API server URL and the scratch marker
// firedrill requires on it (kube.ScratchLabel). No credential is part of
// it. Another URL is another cluster: a drill is due there.
func TargetDescription(server string) string {
	return "apiserver=" + server + "\nscratch=" + kube.ScratchLabel + "=" + kube.ScratchValue + "\n"
}

// Fingerprint is the summary's hashes.
func (s DrillSummary) Fingerprint() Fingerprint {
	return Fingerprint{ScenarioSHA256: s.ScenarioSHA256, RunbookSHA256: s.RunbookSHA256, TargetSHA256: s.TargetSHA256}
}
