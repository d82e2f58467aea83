// Package recoverypoint is the one rule of which Velero Backups can be a
// drill's recovery point, and the words for why the others cannot.
// backup.LatestBackup (choosing from the bucket's velero-backup.json
// files, for the protection checks) and restore.SelectBackup (choosing
// from the Backup objects of the target cluster, for the restore) both
// choose by it, so the two name a backup they pass over the same way.
package recoverypoint

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

// RestorablePhase reports whether a backup in phase can be restored:
// Completed, or PartiallyFailed when allowPartiallyFailed (as `velero
// restore create --allow-partially-failed` allows).
func RestorablePhase(phase velerov1.BackupPhase, allowPartiallyFailed bool) bool {
	return phase == velerov1.BackupPhaseCompleted || phase == velerov1.BackupPhasePartiallyFailed && allowPartiallyFailed
}

// Restorable reports whether b can be a recovery point: a restorable
// phase, and started (status.startTimestamp, which the RPO counts from).
func Restorable(b *velerov1.Backup, allowPartiallyFailed bool) bool {
	return RestorablePhase(b.Status.Phase, allowPartiallyFailed) && b.Status.StartTimestamp != nil
}

// SkippedBackup is a backup newer than the recovery point that could not
// be restored, and why.
type SkippedBackup struct {
	Name string `json:"name"`
	// Phase is Velero's status.phase; empty when Velero has not processed it.
	Phase velerov1.BackupPhase `json:"phase"`
	// Time is the backup's status.startTimestamp, or its creation time when
	// it never started (FailedValidation, New).
	Time     time.Time `json:"time"`
	Warnings int       `json:"warnings"`
	Errors   int       `json:"errors"`
	// Reason says, in words, why it is not the recovery point (Velero's
	// failureReason or validationErrors when it has them).
	Reason string `json:"reason"`
}

// String is "NAME (REASON)".
func (b SkippedBackup) String() string { return b.Name + " (" + b.Reason + ")" }

// Skip is b as a backup passed over (see Reason).
func Skip(b *velerov1.Backup, allowPartiallyFailed bool) SkippedBackup {
	return SkippedBackup{Name: b.Name, Phase: b.Status.Phase, Time: Time(b),
		Warnings: b.Status.Warnings, Errors: b.Status.Errors, Reason: Reason(b, allowPartiallyFailed)}
}

// Time is when b started, or was created if it never started, in UTC.
func Time(b *velerov1.Backup) time.Time {
	if t := b.Status.StartTimestamp; t != nil {
		return t.UTC()
	}
	return b.CreationTimestamp.UTC()
}

// Reason says why b cannot be the recovery point, in Velero's terms.
func Reason(b *velerov1.Backup, allowPartiallyFailed bool) string {
	st := b.Status
	counts := plural.Count(st.Errors, "error", "errors") + ", " + plural.Count(st.Warnings, "warning", "warnings")
	switch st.Phase {
	case velerov1.BackupPhasePartiallyFailed:
		if allowPartiallyFailed {
			return fmt.Sprintf("PartiallyFailed: %s, but without a start time", counts)
		}
		return fmt.Sprintf("PartiallyFailed: %s; allowPartiallyFailed is not set", counts)
	case velerov1.BackupPhaseFailed:
		return "Failed: " + cmp.Or(st.FailureReason, counts)
	case velerov1.BackupPhaseFailedValidation:
		return "FailedValidation: " + cmp.Or(strings.Join(st.ValidationErrors, "; "), "no validation errors recorded")
	case velerov1.BackupPhaseDeleting:
		return "Deleting: the backup is being deleted"
	case "":
		return "no phase: Velero has not processed it"
	case velerov1.BackupPhaseCompleted:
		return "Completed but without a start time"
	}
	return fmt.Sprintf("%s: still running (%s so far)", st.Phase, counts)
}

// Join is the backups as "NAME (REASON); NAME (REASON)".
func Join(bs []SkippedBackup) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = b.String()
	}
	return strings.Join(s, "; ")
}
