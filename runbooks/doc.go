// Package runbooks reads runbooks: Markdown documents a person can follow
// under stress, whose executable steps firedrill also runs and times during
// a drill. A runbook step that fails in a drill is a runbook that is out of
// date, found before the real disaster.
//
// A runbook is prose for humans plus step blocks: fenced code blocks whose
// info string is
//
//	sh firedrill-step name="check-velero" timeout=2m
//
// The language is sh or bash; name is required and unique in the runbook;
// timeout is a Go duration (default 2m). Other fenced blocks are examples
// for the reader and are never run.
//
// Step environment (the contract the built-in runbooks are written
// against; the runner implements it): a step runs with KUBECONFIG pointing
// at a kubeconfig whose current context is the drill's target scratch
// cluster, and with
//
//	FIREDRILL_SCENARIO         the scenario name
//	FIREDRILL_VELERO_NAMESPACE the Velero namespace (spec.backups.veleroNamespace)
//	FIREDRILL_BACKUP           the Velero Backup the drill restored
//	FIREDRILL_NAMESPACES       the restored namespaces as named in the target, space-separated
//
// The built-in runbooks (one per built-in scenario, same name) are embedded
// from catalog/*.md.
package runbooks
