// Package procenv is how firedrill runs the programs it starts (runbook
// steps, command checks): the environment they get and how they end.
//
// Environment: a child gets only the variables named in Base from
// firedrill's own environment, then what its caller passes (the runbook
// contract's variables, KUBECONFIG of the drill's private kubeconfig).
// Nothing else is inherited: not the evidence key or its path, not the
// history, evidence or scenario credentials, not AWS_* nor the webhook and
// Pushgateway URLs of a scheduled drill, so a step that runs `env` prints
// no secret.
//
// Processes: see Run.
package procenv

import (
	"os"
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

// Base are the variables of firedrill's environment every child gets:
// where programs are, the home directory, the time zone and the locale.
var Base = []string{"PATH", "HOME", "TZ", "LANG", "LC_ALL"}

// Child is the Base variables of firedrill's environment that are set,
// then extra ("NAME=value"; a later one wins, as in exec.Cmd.Env).
func Child(extra ...string) []string {
	return Filter(os.Getenv, extra...)
}

// Filter is Child reading the environment from getenv.
func Filter(getenv func(string) string, extra ...string) []string {
	out := make([]string, 0, len(Base)+len(extra))
	for _, name := range Base {
		if v := getenv(name); v != "" {
			out = append(out, name+"="+v)
		}
	}
	return append(out, extra...)
}
