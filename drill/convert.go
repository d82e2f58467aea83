package drill

import (
	"fmt"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The scenario's enumerations are turned into the lower packages' here, value
// by value, so that a value one side adds and the other lacks is an error
// naming it instead of a string passed on unchecked.

// CleanupPolicy is the restore package's cleanup policy for the scenario's
// (spec.cleanup.policy). It returns an error naming p when p is none of
// scenarios.CleanupOnSuccess, CleanupAlways and CleanupNever (an empty
// policy included: loading fills in the default).
func CleanupPolicy(p scenarios.CleanupPolicy) (restore.CleanupPolicy, error) {
	switch p {
	case scenarios.CleanupOnSuccess:
		return restore.CleanupOnSuccess, nil
	case scenarios.CleanupAlways:
		return restore.CleanupAlways, nil
	case scenarios.CleanupNever:
		return restore.CleanupNever, nil
	}
	return "", fmt.Errorf("unknown cleanup policy %q: want %s, %s or %s", p, scenarios.CleanupOnSuccess, scenarios.CleanupAlways, scenarios.CleanupNever)
}

// ObjectLockMode is the S3 object lock retention mode for the scenario's
// (spec.storage.*.objectLock.mode, spec.evidence.push.lockMode). It returns
// an error naming m when m is neither COMPLIANCE nor GOVERNANCE, the two
// modes of S3's PutObjectRetention (an empty mode included).
func ObjectLockMode(m scenarios.LockMode) (objectstore.LockMode, error) {
	switch m {
	case scenarios.LockCompliance:
		return objectstore.Compliance, nil
	case scenarios.LockGovernance:
		return objectstore.Governance, nil
	}
	return "", fmt.Errorf("unknown object lock mode %q: want %s or %s", m, scenarios.LockCompliance, scenarios.LockGovernance)
}

// CompareMode is the backup package's comparison of a copy for the
// scenario's (spec.storage.copies[].compare.mode). It returns an error
// naming m when m is none of existence, size, checksum, content and
// sampled (an empty mode included: loading fills in the default).
func CompareMode(m scenarios.CompareMode) (backup.CompareMode, error) {
	switch m {
	case scenarios.CompareExistence:
		return backup.ModeExistence, nil
	case scenarios.CompareSize:
		return backup.ModeSize, nil
	case scenarios.CompareChecksum:
		return backup.ModeChecksum, nil
	case scenarios.CompareContent:
		return backup.ModeContent, nil
	case scenarios.CompareSampled:
		return backup.ModeSampled, nil
	}
	return "", fmt.Errorf("unknown comparison mode %q: want %s, %s, %s, %s or %s", m,
		scenarios.CompareExistence, scenarios.CompareSize, scenarios.CompareChecksum, scenarios.CompareContent, scenarios.CompareSampled)
}
