package recoverypoint

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func backup(phase velerov1.BackupPhase, started bool) *velerov1.Backup {
	b := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "daily-1", CreationTimestamp: metav1.NewTime(t0.Add(-time.Minute))}}
	b.Status.Phase, b.Status.Errors, b.Status.Warnings = phase, 2, 1
	if started {
		b.Status.StartTimestamp = &metav1.Time{Time: t0}
	}
	return b
}

func TestRestorableAndReason(t *testing.T) {
	failed := backup(velerov1.BackupPhaseFailed, true)
	failed.Status.FailureReason = "object storage unreachable"
	invalid := backup(velerov1.BackupPhaseFailedValidation, false)
	invalid.Status.ValidationErrors = []string{"invalid included namespace"}
	tests := []struct {
		name       string
		b          *velerov1.Backup
		allowPF    bool
		restorable bool
		reason     string
	}{
		{"completed", backup(velerov1.BackupPhaseCompleted, true), false, true, ""},
		{"completed, never started", backup(velerov1.BackupPhaseCompleted, false), false, false, "Completed but without a start time"},
		{"partially failed", backup(velerov1.BackupPhasePartiallyFailed, true), false, false, "PartiallyFailed: 2 errors, 1 warning; allowPartiallyFailed is not set"},
		{"partially failed, allowed", backup(velerov1.BackupPhasePartiallyFailed, true), true, true, ""},
		{"partially failed, allowed, never started", backup(velerov1.BackupPhasePartiallyFailed, false), true, false, "PartiallyFailed: 2 errors, 1 warning, but without a start time"},
		{"failed", failed, true, false, "Failed: object storage unreachable"},
		{"failed without a reason", backup(velerov1.BackupPhaseFailed, true), false, false, "Failed: 2 errors, 1 warning"},
		{"failed validation", invalid, false, false, "FailedValidation: invalid included namespace"},
		{"deleting", backup(velerov1.BackupPhaseDeleting, true), false, false, "Deleting: the backup is being deleted"},
		{"not processed", backup("", false), false, false, "no phase: Velero has not processed it"},
		{"in progress", backup(velerov1.BackupPhaseInProgress, true), false, false, "InProgress: still running (2 errors, 1 warning so far)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.restorable, Restorable(tt.b, tt.allowPF))
			if tt.restorable {
				return
			}
			s := Skip(tt.b, tt.allowPF)
			assert.Equal(t, tt.reason, s.Reason)
			assert.Equal(t, "daily-1 ("+tt.reason+")", s.String())
			assert.Equal(t, tt.b.Status.Phase, s.Phase)
			assert.Equal(t, 2, s.Errors)
			assert.Equal(t, 1, s.Warnings)
			want := t0
			if tt.b.Status.StartTimestamp == nil {
				want = t0.Add(-time.Minute)
			}
			assert.Equal(t, want, s.Time, "start, else creation")
		})
	}
}

func TestJoin(t *testing.T) {
	assert.Equal(t, "a (x); b (y)", Join([]SkippedBackup{{Name: "a", Reason: "x"}, {Name: "b", Reason: "y"}}))
	assert.Empty(t, Join(nil))
}
