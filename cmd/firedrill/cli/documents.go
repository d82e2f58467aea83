package cli

import (
	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/version"
	"github.com/firedrill-dev/firedrill/restore"
)

// The schema of each document a command prints with -o json or yaml (and
// drill.ReportSchema, which run prints). Each document is an object whose
// "schema" key says which it is; a change that removes or renames a key
// gets a new version, adding keys does not. Keys are snake_case,
// durations are numbers of seconds in keys ending _seconds, times RFC 3339
// strings in UTC. The README lists them (Machine-readable output).
const (
	schemaHistory        = "firedrill.dev/history/v2"
	schemaDue            = "firedrill.dev/due/v1"
	schemaPlan           = "firedrill.dev/plan/v1"
	schemaRestore        = "firedrill.dev/restore/v1"
	schemaVerify         = "firedrill.dev/verify/v1"
	schemaValidate       = "firedrill.dev/validate/v1"
	schemaScenarios      = "firedrill.dev/scenarios/v1"
	schemaVersion        = "firedrill.dev/version/v1"
	schemaEvidenceExport = "firedrill.dev/evidence-export/v1"
	schemaEvidenceVerify = "firedrill.dev/evidence-verify/v1"
	schemaAuditSummary   = "firedrill.dev/evidence-summary/v1"
	schemaCleanup        = "firedrill.dev/cleanup/v1"
	schemaFleet          = "firedrill.dev/fleet/v1"
)

// historyDoc is `history -o json`: the drills, newest first.
type historyDoc struct {
	Schema string       `json:"schema"`
	Drills []historyRow `json:"drills"`
	// Outlook is each scenario's RTO forecast and error budget.
	Outlook []drill.Outlook `json:"outlook"`
}

// dueDoc is `due -o json`.
type dueDoc struct {
	Schema string `json:"schema"`
	// MaxAgeSeconds is --max-age.
	MaxAgeSeconds float64  `json:"max_age_seconds"`
	Scenarios     []dueRow `json:"scenarios"`
}

// planDoc is `plan -o json`.
type planDoc struct {
	Schema string `json:"schema"`
	*drill.Plan
}

// restoreDoc is `restore -o json`.
type restoreDoc struct {
	Schema string `json:"schema"`
	*restore.Result
}

// verifyDoc is `verify -o json`.
type verifyDoc struct {
	Schema string `json:"schema"`
	backup.Result
}

// validateDoc is `validate -o json`: one result per file, in the order of
// the arguments.
type validateDoc struct {
	Schema string           `json:"schema"`
	Files  []validateResult `json:"files"`
}

// scenariosDoc is `scenarios list -o json`.
type scenariosDoc struct {
	Schema    string     `json:"schema"`
	Scenarios []listItem `json:"scenarios"`
}

// versionDoc is `version -o json`.
type versionDoc struct {
	Schema string `json:"schema"`
	version.Info
	// VeleroServer is Velero in the target cluster; absent with --client.
	VeleroServer *veleroServer `json:"velero_server,omitempty"`
}

// exportDoc is `evidence export -o json`.
type exportDoc struct {
	Schema string `json:"schema"`
	*drill.Kept
}

// evidenceVerifyDoc is `evidence verify -o json`.
type evidenceVerifyDoc struct {
	Schema string `json:"schema"`
	*evidence.Verification
}

// auditDoc is `evidence summary -o json`: the drills of the period, oldest
// first.
type auditDoc struct {
	Schema string           `json:"schema"`
	Drills []drill.AuditRow `json:"drills"`
}
