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
// Manual steps are the work no tool does (provisioning a cluster, a DNS
// cut-over, a change approval): fenced blocks whose info string is
//
//	text firedrill-manual name="dns-cutover" estimate=20m
//
// whose body is the instruction to the operator; estimate (required, a
// positive Go duration) is how long the work takes. Manual and command
// steps run in document order and share one namespace of names. With an
// Operator (an interactive drill) a manual step is shown and timed until
// the operator confirms it; without one it is declared: its estimate
// stands in for its time (see the drill package for how RTO counts it).
//
// A runbook may ask its own questions of the drill's retrospective: the
// list items under a heading "Retrospective questions" (any level, any
// case), up to the next heading, one question per item (its first line).
// retrospective.md asks them in a section of their own:
//
//	## Retrospective questions
//
//	- Did the DNS cut-over wait for the change approval?
//	- Who had the registry credentials?
//
// Step environment (the contract the built-in runbooks are written
// against; the runner implements it): a step gets these variables and,
// of firedrill's own environment, only PATH, HOME, TZ and the locale
// (procenv.Base); no credential, key path, webhook or Pushgateway URL
// reaches it:
//
//	KUBECONFIG                 a private kubeconfig holding only the drill's target
//	                           scratch cluster (server, CA, credentials), written at
//	                           preflight (kube.Minify)
//	FIREDRILL_SCENARIO         the scenario name
//	FIREDRILL_VELERO_NAMESPACE the Velero namespace (spec.backups.veleroNamespace)
//	FIREDRILL_BACKUP           the Velero Backup the drill restored
//	FIREDRILL_NAMESPACES       the restored namespaces as named in the target, space-separated
//	FIREDRILL_DRILL_ID         the drill's id
//
// and the variables the scenario passes by name (spec.runbook.passEnv).
//
// A step runs in a private temporary directory, never the drill's
// directory, in a process group of its own: it passes when its shell
// exits 0, and whatever it left running is killed when it ends (see
// procenv.Run). Its output is kept redacted by the drill's secret set.
//
// The built-in runbooks (one per built-in scenario, same name) are embedded
// from catalog/*.md.
package runbooks
