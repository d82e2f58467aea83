// Package procenv gives the programs firedrill starts (runbook steps,
// command checks) its environment without the credentials firedrill
// itself uses: a step that runs `env` must not print the evidence signing
// key or the history and evidence buckets' keys.
package procenv

import (
	"os"
	"strings"
)

// The credentials firedrill itself reads from its environment (the
// command line and the rendered CronJobs name them from here).
const (
	// EvidenceKey holds the evidence signing key's PEM text.
	EvidenceKey = "FIREDRILL_EVIDENCE_KEY"
	// EvidenceAccessKeyID and EvidenceSecretAccessKey reach the evidence bucket.
	EvidenceAccessKeyID     = "FIREDRILL_EVIDENCE_ACCESS_KEY_ID"
	EvidenceSecretAccessKey = "FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY"
	// HistoryAccessKeyID and HistorySecretAccessKey reach the shared history.
	HistoryAccessKeyID     = "FIREDRILL_HISTORY_ACCESS_KEY_ID"
	HistorySecretAccessKey = "FIREDRILL_HISTORY_SECRET_ACCESS_KEY"
)

// Withheld are the variables no child process gets.
var Withheld = []string{EvidenceKey, EvidenceAccessKeyID, EvidenceSecretAccessKey, HistoryAccessKeyID, HistorySecretAccessKey}

// Child is os.Environ() without the Withheld variables, then extra.
func Child(extra ...string) []string {
	return Filter(os.Environ(), extra...)
}

// Filter is env without the Withheld variables, then extra.
func Filter(env []string, extra ...string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !withheld(name) {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

func withheld(name string) bool {
	for _, w := range Withheld {
		if name == w {
			return true
		}
	}
	return false
}
