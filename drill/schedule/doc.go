// Package schedule renders the Kubernetes manifests that run drills from
// inside a cluster: a CronJob per scenario, its ServiceAccount and
// least-privilege RBAC, the scenario as a ConfigMap and references to the
// Secrets that hold its credentials.
//
// Drills that depend on someone remembering do not happen. A platform team
// runs every scenario on a fixed cadence, and Kubernetes is the scheduler:
// firedrill adds none of its own. The manifests are plain, stable YAML
// (fixed names, labels, one order) so they can be committed, reviewed and
// patched with kustomize.
//
// The RBAC is derived from what a drill does in the scratch cluster (see
// rbac.go, which names for every rule the code that needs it): read the
// scratch marker, create and follow Velero Restores, read Backups and
// storage locations, watch the restored namespaces appear and delete
// exactly those namespaces afterwards. Reading what came back (runbook
// steps, evidence, the restored Secrets whose values must stay out of the
// drill's output) is confined to the restored namespaces: they do not
// exist before the drill, so the drill binds itself there, once restored,
// to a reader ClusterRole that is never bound cluster-wide, and a
// ValidatingAdmissionPolicy (admission.go) admits no other RoleBinding
// from it, since RBAC cannot narrow creating one. A drill never writes to
// the source cluster, so nothing is granted there.
package schedule
