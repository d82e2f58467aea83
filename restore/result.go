package restore

import (
	"fmt"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Result is what a restore did and found. Its JSON is part of firedrill's
// output (`firedrill restore -o json`) and of the drill's report.
type Result struct {
	DrillID string `json:"drill_id"`
	// Backup is the recovery point; nil when none could be chosen.
	Backup *RecoveryPoint `json:"backup"`
	// FromCopy names the off-site copy restored from, if any.
	FromCopy string `json:"from_copy,omitempty"`
	// Restores are the phases, in order, as far as they ran.
	Restores []PhaseResult `json:"restores"`
	// Restored is true when every phase Completed and every volume the
	// backup holds file-system data of came back with it (VolumeData).
	Restored bool `json:"restored"`
	// VolumeData sets the backup's PodVolumeBackups of the restored
	// namespaces against the phases' PodVolumeRestores; nil when the
	// phases did not complete.
	VolumeData *VolumeData `json:"volume_data,omitempty"`
	// OrderVerified is true when the restore completed and every workload
	// appeared after a NetworkPolicy of its namespace.
	OrderVerified bool        `json:"order_verified"`
	Order         *OrderProof `json:"order,omitempty"`
	// Checks are the checks after the restore, in order.
	Checks []CheckResult `json:"checks"`
	// RPOSeconds is the disaster time minus the backup's start.
	RPOSeconds float64 `json:"rpo_seconds"`
	// ApplicationRPOSeconds is the RPO the first data canary saw.
	ApplicationRPOSeconds *float64 `json:"application_rpo_seconds,omitempty"`
	// Passed: restored, order verified and every check passed.
	Passed   bool              `json:"passed"`
	Findings []finding.Finding `json:"findings"`
	Cleanup  CleanupResult     `json:"cleanup"`
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
}

// PhaseResult is one Velero Restore as it ran.
type PhaseResult struct {
	PlannedRestore
	// Status is the Restore's status.phase at the end (Completed,
	// PartiallyFailed, Failed, FailedValidation), or StatusTimeout.
	Status           velerov1.RestorePhase `json:"status"`
	FailureReason    string                `json:"failure_reason,omitempty"`
	ValidationErrors []string              `json:"validation_errors,omitempty"`
	ItemsRestored    int64                 `json:"items_restored"`
	TotalItems       int64                 `json:"total_items"`
	Warnings         int64                 `json:"warnings"`
	Errors           int64                 `json:"errors"`
	// PodVolumeRestores are the Restore's PodVolumeRestores (volume data
	// written into restored pods by node-agent), by pod and volume.
	PodVolumeRestores []PodVolumeRestoreResult `json:"pod_volume_restores,omitempty"`
	// Results are Velero's warnings and errors per namespace.
	Results      *Results `json:"results,omitempty"`
	ResultsError string   `json:"results_error,omitempty"`
	// Started and Finished are firedrill's clock: the Restore's creation and
	// the arrival of the watch event with its terminal phase.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// DurationSeconds is Finished - Started.
	DurationSeconds float64 `json:"duration_seconds"`
	// VeleroStarted and VeleroCompleted are Velero's (whole seconds).
	VeleroStarted   time.Time `json:"velero_started,omitzero"`
	VeleroCompleted time.Time `json:"velero_completed,omitzero"`
}

// Seconds is the phase's duration on firedrill's clock.
func (p PhaseResult) Seconds() float64 { return p.Finished.Sub(p.Started).Seconds() }

// Reason explains a phase that did not complete, with Velero's own errors.
func (p PhaseResult) Reason() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("phase %s ended %s", p.Phase, p.Status))
	if p.FailureReason != "" {
		parts = append(parts, p.FailureReason)
	}
	for _, pvr := range p.PodVolumeRestores {
		if pr := pvr.problem(); pr != "" {
			parts = append(parts, fmt.Sprintf("PodVolumeRestore %s (%s) %s", pvr.Name, pvr.String(), pr))
		}
	}
	if len(p.ValidationErrors) > 0 {
		parts = append(parts, "validation: "+strings.Join(p.ValidationErrors, "; "))
	}
	if p.Results != nil && !p.Results.Errors.Empty() {
		lines := p.Results.Errors.Lines()
		if len(lines) > 5 {
			lines = append(lines[:5], fmt.Sprintf("and %d more", len(lines)-5))
		}
		parts = append(parts, "errors: "+strings.Join(lines, "; "))
	} else if p.Errors > 0 {
		parts = append(parts, plural.Count(p.Errors, "error", "errors"))
	}
	return strings.Join(parts, ": ")
}
