package scope

import (
	"fmt"
	"slices"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

// Finding IDs.
const (
	// IDClaim is one per claim whose data is not in the backup: a failure,
	// or a warning when the scenario accepts it (acceptedOutOfScope).
	IDClaim = "scope.claim"
	// IDClaims passes when every claim's data is in the backup.
	IDClaims = "scope.claims"
	// IDUncovered warns of the source's namespaces with claims that no
	// Schedule covers.
	IDUncovered = "scope.uncovered-namespaces"
	// IDSource warns that part of the source or the bucket could not be
	// read.
	IDSource = "scope.source"
)

// Findings are the findings of r: a failure per claim of the drill's
// namespaces whose data is not in the backup (read from the backup's
// files alone when r.SourceSkipped: the claim is restored without its
// data) (an auditor's reading: the
// recovery point lacks data the application keeps, so the drill cannot
// prove it recoverable), a warning instead for a claim listed in accepted
// ("namespace/name"), a pass when every claim is in; a warning naming the
// uncovered namespaces; a warning for reads that failed.
func Findings(r *Result, accepted []string) []finding.Finding {
	var fs []finding.Finding
	out := r.NotInBackup()
	where := "in the source"
	if r.SourceSkipped != "" {
		where = "in backup " + r.Backup
	}
	for _, c := range out {
		subject := fmt.Sprintf("PersistentVolumeClaim %s %s", c.Ref(), where)
		msg := fmt.Sprintf("the data of PersistentVolumeClaim %s is not in backup %s (%s): %s", c.Ref(), r.Backup, c.Reason, c.Detail)
		if r.SourceSkipped != "" {
			msg = fmt.Sprintf("PersistentVolumeClaim %s is restored without its data: %s", c.Ref(), c.Detail)
		}
		expected := "its data in the backup (file-system backup, snapshot or data mover)"
		actual := fmt.Sprintf("not in the backup: %s", c.Reason)
		if slices.Contains(accepted, c.Ref()) {
			fs = append(fs, finding.Warn(IDClaim, subject, msg+"; accepted out of scope by the scenario (spec.backups.acceptedOutOfScope)").
				With(expected, actual, "remove it from acceptedOutOfScope once its data must be recoverable"))
			continue
		}
		fs = append(fs, finding.Fail(IDClaim, finding.SeverityFail, subject, msg).With(expected, actual, hint(c.Reason)))
	}
	if len(out) == 0 && len(r.Claims) > 0 {
		var methods []string
		for _, c := range r.Claims {
			methods = append(methods, fmt.Sprintf("%s (%s)", c.Ref(), c.Method))
		}
		fs = append(fs, finding.Pass(IDClaims, "PersistentVolumeClaims of namespaces "+strings.Join(r.Namespaces, ", ")+" "+where,
			fmt.Sprintf("the data of every PersistentVolumeClaim is in backup %s: %s", r.Backup, strings.Join(methods, ", "))))
	}
	if len(r.Uncovered) > 0 {
		var nss []string
		for _, u := range r.Uncovered {
			nss = append(nss, fmt.Sprintf("%s (%s)", u.Namespace, strings.Join(u.Claims, ", ")))
		}
		fs = append(fs, finding.Warn(IDUncovered, "Velero Schedules of the source",
			fmt.Sprintf("namespaces of the source whose PersistentVolumeClaims no Schedule backs up (%d): %s", len(r.Uncovered), strings.Join(nss, "; "))).
			With("every namespace with PersistentVolumeClaims in a Schedule's includedNamespaces", fmt.Sprintf("%d not covered", len(r.Uncovered)),
				"add the namespaces to a Schedule (velero schedule create --include-namespaces), or confirm with their owners that the data needs no backup"))
	}
	switch {
	case len(r.Problems) > 0 && r.SourceSkipped != "":
		fs = append(fs, finding.Warn(IDSource, "files of backup "+r.Backup,
			"part of the backup's scope could not be read: "+strings.Join(r.Problems, "; ")).
			With("", "", "check that the drill's bucket credentials may read the backup's files (backups/NAME/)"))
	case len(r.Problems) > 0:
		fs = append(fs, finding.Warn(IDSource, "source cluster and backup files",
			"part of the backup's scope could not be read: "+strings.Join(r.Problems, "; ")).
			With("", "", "let the drill's source credentials get and list PersistentVolumeClaims, pods and Velero's Backups, Schedules, PodVolumeBackups and DataUploads"))
	}
	return fs
}

// hint says what to do about a claim not in the backup, by reason.
func hint(r Reason) string {
	switch r {
	case ReasonBackupFailed:
		return "read why with `velero backup describe NAME --details` and the node-agent logs; fix it so the next backup completes the volume"
	case ReasonNamespaceExcluded:
		return "add the namespace to the Schedule's includedNamespaces (or remove it from excludedNamespaces)"
	case ReasonResourceExcluded:
		return "remove persistentvolumeclaims from the Schedule's excluded resources, or the label velero.io/exclude-from-backup from the claim"
	case ReasonCreatedAfterBackup:
		return "nothing to fix if the next backup includes it; run the drill again after it"
	case ReasonNoVolumeData:
		return "run the drill with a scenario that reads the source (spec.source) to learn why; then opt the volume in (backup.velero.io/backup-volumes, defaultVolumesToFsBackup, or a snapshot), or list the claim in acceptedOutOfScope if its data needs no backup"
	case ReasonNotMounted:
		return "file-system backup needs a running pod that mounts the claim at backup time; mount it in a pod, or back it up with a CSI snapshot and snapshotMoveData"
	case ReasonOptedOut:
		return "remove the volume from the pod's backup.velero.io/backup-volumes-excludes annotation, or list the claim in acceptedOutOfScope"
	case ReasonNoOptIn:
		return "annotate the pod template with backup.velero.io/backup-volumes=VOLUME, or set defaultVolumesToFsBackup on the Schedule"
	}
	return "check that node-agent runs on the pod's node and the pod ran at backup time (`velero backup describe NAME --details`)"
}
