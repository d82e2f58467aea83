package schedule

import (
	"slices"
	"strconv"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/lease"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// rule is one RBAC rule and why the drill needs it. The reason is written
// above the rendered object, so whoever reviews the manifests reads it
// next to the rule.
type rule struct {
	why string
	rbacv1.PolicyRule
}

// The API groups and resources the rules name.
const (
	velero       = "velero.io"
	kubeSystem   = "kube-system"
	verbGet      = "get"
	verbList     = "list"
	verbWatch    = "watch"
	verbCreate   = "create"
	verbDelete   = "delete"
	verbPatch    = "patch"
	verbBind     = "bind"
	groupCore    = ""
	groupApps    = "apps"
	groupBatch   = "batch"
	groupNetwork = "networking.k8s.io"
	groupAuthn   = "authentication.k8s.io"
	groupAPIExt  = "apiextensions.k8s.io"
)

// What the Lease rules name (one drill at a time).
const (
	verbUpdate        = "update"
	groupCoordination = "coordination.k8s.io"
)

// veleroRules is what the drill of sc does in its Velero namespace of the
// scratch cluster (package restore).
func veleroRules(sc *scenarios.Scenario, n names) []rule {
	_, from := sc.RestoreFrom()
	rules := []rule{
		{"each restore phase is a Velero Restore: created, followed with list and watch (client-go's UntilWithSync, by name), waited on with list and watch until Velero's finalizer lets it go, deleted at cleanup (restore/run.go, watch.go, cleanup.go)",
			rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"restores"}, Verbs: []string{verbCreate, verbGet, verbList, verbWatch, verbDelete}}},
	}
	backups := rule{"the recovery point is chosen among the Backups Velero synced from the bucket: get by name, list by schedule, watch while the sync brings a named one (restore/recoverypoint.go)",
		rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"backups"}, Verbs: []string{verbGet, verbList, verbWatch}}}
	locations := rule{"preflight waits until the storage location is Available: list and watch by name (restore/location.go)",
		rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"backupstoragelocations"}, Verbs: []string{verbList, verbWatch}}}
	if from != nil {
		backups.why += "; this scenario restores from the copy " + from.Name + ", so the Backup is patched to name the copy's location and patched back at cleanup (restore/location.go useCopyLocation)"
		backups.Verbs = append(backups.Verbs, verbPatch)
	}
	rules = append(rules, backups, locations)
	if from != nil {
		rules = append(rules,
			rule{"this scenario restores from the copy " + from.Name + ": the drill creates its read-only location " + from.StorageLocation +
				" (creation cannot be narrowed by name; an existing location is never overwritten) (restore/location.go createCopyLocation)",
				rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"backupstoragelocations"}, Verbs: []string{verbCreate}}},
			rule{"it reads that location first, to refuse one left behind, and deletes it at cleanup: that location only",
				rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"backupstoragelocations"}, Verbs: []string{verbGet, verbDelete},
					ResourceNames: []string{from.StorageLocation}}},
			rule{"at cleanup it deletes the BackupRepositories Velero opened on that location (label " + velerov1.StorageLocationLabel + "=" + from.StorageLocation +
				", as velero backup-location delete does). Velero names them with a random suffix, so RBAC cannot narrow list or delete by name: " +
				"the ValidatingAdmissionPolicy " + n.repositoryPolicy + " admits this ServiceAccount's delete of a BackupRepository only when it carries that label (restore/cleanup.go deleteLocationRepositories)",
				rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"backuprepositories"}, Verbs: []string{verbList, verbDelete}}})
	}
	rules = append(rules,
		rule{"each Restore's PodVolumeRestores (the volume data node-agent writes into restored pods) are followed by label " + velerov1.RestoreNameLabel + " until they end: list and watch (restore/podvolumes.go)",
			rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"podvolumerestores"}, Verbs: []string{verbList, verbWatch}}},
		rule{"the backup's PodVolumeBackups are listed by label " + velerov1.BackupNameLabel + ", to name every volume that came back without its data (restore/podvolumes.go)",
			rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"podvolumebackups"}, Verbs: []string{verbList}}})
	rules = append(rules,
		rule{"one drill at a time on the scratch cluster: preflight takes the Lease " + lease.DefaultName + " here (before it creates anything), renews it every 20s and releases it after cleanup; " +
			"while another drill holds it, it reads it and watches it by name (metadata.name field selector, which resourceNames allows) (internal/lease, drill/lease.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCoordination}, Resources: []string{"leases"}, Verbs: []string{verbGet, verbUpdate, verbWatch}, ResourceNames: []string{lease.DefaultName}}},
		rule{"and creates it when no drill has run here yet (creation cannot be narrowed by name; creating a Lease cannot take one that exists)",
			rbacv1.PolicyRule{APIGroups: []string{groupCoordination}, Resources: []string{"leases"}, Verbs: []string{verbCreate}}})
	rules = append(rules,
		rule{"a restore phase with warnings or errors has its results fetched through a DownloadRequest: created, watched until Velero gives the URL, deleted (restore/results.go)",
			rbacv1.PolicyRule{APIGroups: []string{velero}, Resources: []string{"downloadrequests"}, Verbs: []string{verbCreate, verbWatch, verbDelete}}})
	if from != nil && from.Credentials != nil && (from.Credentials.AccessKeyIDEnv != "" || from.Credentials.File != "") {
		secret := restore.CopySecretName(from.StorageLocation)
		rules = append(rules,
			rule{"the copy's location reads its credentials from a Secret the drill creates (creation cannot be narrowed by name; an existing Secret is never overwritten) (restore/location.go)",
				rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"secrets"}, Verbs: []string{verbCreate}}},
			rule{"and deletes at cleanup: that Secret only, never Velero's own credentials",
				rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"secrets"}, Verbs: []string{verbDelete}, ResourceNames: []string{secret}}})
	}
	return rules
}

// clusterRules is what the drill of sc reads or deletes outside its Velero
// namespace. The drill's own namespaces do not exist before the restore
// (preflight refuses them if they do) and are deleted at cleanup, so
// nothing can be bound inside them in advance: rules that concern them are
// cluster-wide, narrowed by resourceNames wherever the API allows it. The
// one exception is reading everything there: the drill binds its reader
// role inside them itself, once they exist (readerRules, n.reader).
func clusterRules(sc *scenarios.Scenario, n names) []rule {
	veleroNS := sc.Spec.Backups.VeleroNamespace
	targets := targetNamespaces(sc)
	rules := []rule{
		{"the scratch guard reads the " + "firedrill.dev/scratch label of kube-system before anything else (internal/kube/guard.go); preflight reads the Velero namespace " + veleroNS + " to tell a missing Velero apart (restore/run.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"namespaces"}, Verbs: []string{verbGet}, ResourceNames: uniq(kubeSystem, veleroNS)}},
		{"the drill's namespaces, and only those: preflight refuses them if they exist (get); cleanup deletes them and waits until they are gone (list, watch by name) (restore/run.go, cleanup.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"namespaces"}, Verbs: []string{verbGet, verbList, verbWatch, verbDelete}, ResourceNames: targets}},
		{"the restore order proof watches NetworkPolicies and workloads appear, in every namespace because the drill's namespaces do not exist yet when it starts (restore/order.go); the workloads checks read them in the drill's namespaces (restore/checks.go). Read-only: list and watch, no get",
			rbacv1.PolicyRule{APIGroups: []string{groupNetwork}, Resources: []string{"networkpolicies"}, Verbs: []string{verbList, verbWatch}}},
		{"", rbacv1.PolicyRule{APIGroups: []string{groupApps}, Resources: []string{"daemonsets", "deployments", "statefulsets"}, Verbs: []string{verbList, verbWatch}}},
		{"", rbacv1.PolicyRule{APIGroups: []string{groupBatch}, Resources: []string{"cronjobs", "jobs"}, Verbs: []string{verbList, verbWatch}}},
		{"once the restore created the drill's namespaces, the drill binds itself there to ClusterRole " + n.reader +
			", which reads everything (runbook steps, evidence, the restored Secrets' values to keep out of its output), and waits until the API server honours it " +
			"(a SelfSubjectAccessReview, which every authenticated user may create): binding that role, by name, is allowed without holding its rules (restore/reader.go)",
			rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{verbBind}, ResourceNames: []string{n.reader}}},
		{"the drill creates that RoleBinding, " + restore.ReaderBindingName + ", in each of its namespaces. RBAC cannot narrow create by name or namespace: " +
			"the ValidatingAdmissionPolicy " + n.policy + " admits only that binding, of this ServiceAccount alone to that role, in the drill's namespaces",
			rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: []string{verbCreate}}},
		{"it reads that binding when the restore brought one of that name, and deletes it at cleanup when the namespaces are kept (policy never, or onSuccess after a failure): by name",
			rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: []string{verbGet, verbDelete}, ResourceNames: []string{restore.ReaderBindingName}}},
	}
	if crds := crdRestores(sc); len(crds) > 0 {
		rules = append(rules,
			rule{"phase " + phaseList(crds) + " restores the backup's CustomResourceDefinitions, which are cluster-scoped; cleanup lists those Velero created for the drill, " +
				"by the label Velero gives them, " + velerov1.RestoreNameLabel + "=<that Restore's name> (restore/cleanup.go deleteRestoredCRDs). " +
				"and, once it deleted one, watches it by name until it is gone (the API server first removes its custom resources). " +
				"RBAC cannot narrow list by label: this reads every CRD's definition (its schema, none of its custom resources). No get",
				rbacv1.PolicyRule{APIGroups: []string{groupAPIExt}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{verbList, verbWatch}}},
			rule{"and deletes each CRD it listed, which takes its custom resources with it. RBAC cannot narrow delete to them (their names come from the backup): " +
				"the ValidatingAdmissionPolicy " + n.crdPolicy + " admits this ServiceAccount's delete of a CRD only when it carries " + velerov1.RestoreNameLabel +
				" with the name of a drill's Restore of that phase (" + restoreNameShapes(crds) + "). Velero never relabels a CRD that already existed. " +
				"Residual risk: the label names a drill, not this one, so this drill may delete a CRD that another firedrill drill's phase of the same name restored " +
				"into this cluster (one running at the same time, or one that kept what it restored), and with it that drill's custom resources; " +
				"never a CRD Velero did not create for a drill",
				rbacv1.PolicyRule{APIGroups: []string{groupAPIExt}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{verbDelete}}})
	}
	var canaries, accounts, requested, tokenSecrets, proxied []string
	workloads, execSelected := false, false
	var execPods []string
	for _, c := range sc.Spec.Checks {
		switch {
		case c.Workloads != nil:
			workloads = true
		case c.Exec != nil:
			execPods, execSelected = execTarget(execPods, execSelected, c.Exec.Pod)
		case c.DataCanary != nil && (c.DataCanary.File != "" || len(c.DataCanary.Command) > 0):
			execPods, execSelected = execTarget(execPods, execSelected, c.DataCanary.Pod)
		case c.DataCanary != nil:
			canaries = append(canaries, c.DataCanary.ConfigMap)
		case c.ServiceAccount != nil:
			accounts = append(accounts, c.ServiceAccount.Name)
			if c.ServiceAccount.TokenSecret == "" {
				requested = append(requested, c.ServiceAccount.Name)
			} else {
				tokenSecrets = append(tokenSecrets, c.ServiceAccount.TokenSecret)
			}
		case c.HTTP != nil && c.HTTP.Service != nil:
			// The service proxy's resource name is scheme:name:port.
			proxied = append(proxied, "http:"+c.HTTP.Service.Name+":"+c.HTTP.Service.Port.String())
		}
	}
	if workloads {
		rules = append(rules,
			rule{"a workloads check that fails says why: it lists the pods of each workload that is not ready, by the workload's selector, and their warning events, in the drill's namespaces (restore/diagnose.go). Read-only: list, no get or watch",
				rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"events", "pods"}, Verbs: []string{verbList}}})
	}
	if len(execPods) > 0 {
		rules = append(rules, rule{"exec checks and file data canaries run a command in a restored pod they name: they read it by name (restore/exec.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"pods"}, Verbs: []string{verbGet}, ResourceNames: uniq(execPods...)}})
	}
	if execSelected {
		rules = append(rules, rule{"exec checks and file data canaries that choose their pod by label selector list the pods of the drill's namespaces (restore/exec.go). Read-only: list",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"pods"}, Verbs: []string{verbList}}})
	}
	if len(execPods) > 0 || execSelected {
		exec := rule{"and run the check's command in it through pods/exec (WebSocket, a GET, or SPDY, a POST; where the API server checks WebSocket upgrades it authorizes both as create)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"pods/exec"}, Verbs: []string{verbGet, verbCreate}}}
		if execSelected {
			exec.why += ". A check that chooses its pod by selector cannot be narrowed by name: this allows exec in any pod of the scratch cluster; name the pod (pod:) to narrow it"
		} else {
			exec.ResourceNames = uniq(execPods...)
			exec.why += ", by name"
		}
		rules = append(rules, exec)
	}
	if len(canaries) > 0 {
		rules = append(rules, rule{"the data canary check reads its ConfigMap by name (list and watch with a metadata.name field selector, which resourceNames allows) until the restore brings it (restore/checks.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"configmaps"}, Verbs: []string{verbList, verbWatch}, ResourceNames: uniq(canaries...)}})
	}
	if len(accounts) > 0 {
		rules = append(rules, rule{"the serviceAccount checks read their ServiceAccounts by name (restore/identity.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"serviceaccounts"}, Verbs: []string{verbGet}, ResourceNames: uniq(accounts...)}})
	}
	if len(requested) > 0 {
		rules = append(rules, rule{"and request a 10-minute token for them (TokenRequest), by name; the token is used for one TokenReview and never kept",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"serviceaccounts/token"}, Verbs: []string{verbCreate}, ResourceNames: uniq(requested...)}})
	}
	if len(tokenSecrets) > 0 {
		rules = append(rules, rule{"the serviceAccount checks with tokenSecret read the long-lived token in that Secret, by name, and only that Secret (restore/identity.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"secrets"}, Verbs: []string{verbGet}, ResourceNames: uniq(tokenSecrets...)}})
	}
	if len(accounts) > 0 {
		rules = append(rules, rule{"the serviceAccount checks have the API server review each token (TokenReview): a review names no object, so it cannot be narrowed by name; it only answers who a token is",
			rbacv1.PolicyRule{APIGroups: []string{groupAuthn}, Resources: []string{"tokenreviews"}, Verbs: []string{verbCreate}}})
	}
	if len(proxied) > 0 {
		rules = append(rules, rule{"the http checks of a Service GET it through the API server's service proxy, by the scheme:name:port the proxy names it (restore/serviceproxy.go)",
			rbacv1.PolicyRule{APIGroups: []string{groupCore}, Resources: []string{"services/proxy"}, Verbs: []string{verbGet}, ResourceNames: uniq(proxied...)}})
	}
	return rules
}

// execTarget adds the pod an exec check or file data canary runs in: its
// name to pods, or selected when it chooses by label selector.
func execTarget(pods []string, selected bool, pod string) ([]string, bool) {
	if pod == "" {
		return pods, true
	}
	return append(pods, pod), selected
}

// crdRestore is a Velero Restore of the drill that restores
// CustomResourceDefinitions.
type crdRestore struct {
	// phase is the phase's name.
	phase string
	// suffix ends the Restore's name after the drill id: "-" and the
	// phase's name, cut where Velero's 63 characters end. Every drill id
	// has the same length, so every drill's suffix is the same.
	suffix string
}

// crdRestores are the Restores of sc that restore CustomResourceDefinitions,
// as the drill plans them (drill.PlanRestores: created with
// includeClusterResources): the CRDs Velero creates carry
// velero.io/restore-name=<drill id><suffix>, and cleanup deletes them.
// Empty when no phase restores CRDs.
func crdRestores(sc *scenarios.Scenario) []crdRestore {
	id := drill.NewDrillID(time.Time{})
	var out []crdRestore
	for _, pr := range drill.PlanRestores(sc, id) {
		if pr.IncludeClusterResources {
			out = append(out, crdRestore{phase: pr.Phase, suffix: strings.TrimPrefix(pr.Name, id)})
		}
	}
	return out
}

// restoreNameShapes shows the names of those Restores, for people:
// fd-YYYYMMDD-HHMMSS-XXXX-crds.
func restoreNameShapes(crds []crdRestore) string {
	var out []string
	for _, c := range crds {
		out = append(out, drillIDShape+c.suffix)
	}
	return strings.Join(out, " or ")
}

func phaseList(crds []crdRestore) string {
	var q []string
	for _, c := range crds {
		q = append(q, strconv.Quote(c.phase))
	}
	return strings.Join(q, ", ")
}

// readerRules is what the drill of sc reads in the namespaces it
// restored, and only there: the ClusterRole is never bound cluster-wide,
// only by the drill's RoleBindings inside those namespaces.
func readerRules() []rule {
	return []rule{
		{"everything, read-only: runbook steps wait for and inspect what came back (kubectl wait, rollout status, get networkpolicies); " +
			"the evidence lists every kind and reads the restored Secrets, whose values it then keeps out of runbook output, reports and evidence (restore/reader.go, evidence.go)",
			rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{verbGet, verbList, verbWatch}}},
	}
}

// targetNamespaces are the drill's namespaces in the scratch cluster,
// after namespaceMapping, sorted.
func targetNamespaces(sc *scenarios.Scenario) []string {
	var out []string
	for _, ns := range sc.Spec.Backups.IncludedNamespaces {
		out = append(out, sc.Spec.Target.TargetNamespace(ns))
	}
	return uniq(out...)
}

func uniq(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func policyRules(rules []rule) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rules))
	for i, r := range rules {
		out[i] = r.PolicyRule
	}
	return out
}
