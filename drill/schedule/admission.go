package schedule

import (
	"fmt"
	"regexp"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// names are the names of one scenario's objects.
type names struct {
	// local names the objects in the drills' namespace: firedrill-NAME.
	local string
	// shared names cluster-scoped objects and those in the Velero
	// namespace, shared with other installs: firedrill:NAMESPACE:NAME.
	shared string
	// reader names the ClusterRole the drill binds in its restored
	// namespaces: firedrill:NAMESPACE:NAME:restored.
	reader string
	// policy names the ValidatingAdmissionPolicy and its binding: shared
	// with dots for colons, since their names are DNS subdomains (neither
	// a namespace nor a scenario name has a dot, so none collide).
	policy string
	// crdPolicy names the ValidatingAdmissionPolicy, and its binding,
	// that guards the drill's deletes of CustomResourceDefinitions:
	// policy.crds (a scenario name has no dot, so it collides with no
	// other scenario's policy).
	crdPolicy string
	// repositoryPolicy names the ValidatingAdmissionPolicy, and its
	// binding, that guards the drill's deletes of BackupRepositories when
	// it restores from a copy: policy.repositories.
	repositoryPolicy string
	// user is the drill's ServiceAccount as the API server names it.
	user string
}

func namesOf(namespace, scenario string) names {
	local := namePrefix + scenario
	return names{
		local:            local,
		shared:           "firedrill:" + namespace + ":" + scenario,
		reader:           "firedrill:" + namespace + ":" + scenario + ":restored",
		policy:           "firedrill." + namespace + "." + scenario,
		crdPolicy:        "firedrill." + namespace + "." + scenario + ".crds",
		repositoryPolicy: "firedrill." + namespace + "." + scenario + ".repositories",
		user:             "system:serviceaccount:" + namespace + ":" + local,
	}
}

// validation is one rule of the admission policy and why it exists; like
// a role's rules, the reason is written above the rendered object.
type validation struct {
	why string
	admissionv1.Validation
}

// readerValidations are what the admission policy requires of a
// RoleBinding the drill's ServiceAccount creates, changes or deletes.
// RBAC lets it create RoleBindings anywhere, and to any role whose rules
// it holds or may bind; these rules leave it exactly one: its own binding
// to the reader role, in its own namespaces.
//
// CEL notes: object is null on DELETE, so the rules about the object say
// "DELETE or ..." (|| is true when either side is, even when the other
// side is an error); has() guards fields the API may leave out (subjects,
// a subject's namespace), because selecting an absent field is an error,
// which the policy's failurePolicy Fail turns into a denial.
func readerValidations(sc *scenarios.Scenario, n names, namespace string) []validation {
	// Refused as RBAC refuses: the request was understood and is not allowed.
	forbidden := ptr(metav1.StatusReasonForbidden)
	notDelete := "request.operation == 'DELETE' || "
	return []validation{
		{"its name: RBAC narrows get and delete of RoleBindings to " + restore.ReaderBindingName + " by resourceNames, but not create (nor a generated name, which the request then lacks)",
			admissionv1.Validation{Expression: "has(request.name) && request.name == " + celString(restore.ReaderBindingName),
				Message: fmt.Sprintf("%s may only create, change or delete the RoleBinding %s", n.user, restore.ReaderBindingName), Reason: forbidden}},
		{"its namespace: one of the drill's own (" + strings.Join(targetNamespaces(sc), ", ") + "), which the drill's ClusterRole already lets it delete, and which preflight proves " +
			"did not exist before the drill. Named, rather than \"any namespace Velero restored\": Velero v1.18 labels each object it restores with velero.io/restore-name, " +
			"but creates the namespaces themselves from the backup's copy, with the source's labels and without that one (pkg/restore/restore.go)",
			admissionv1.Validation{Expression: "request.namespace in " + celList(targetNamespaces(sc)),
				Message: fmt.Sprintf("%s may only bind itself in the namespaces its drill restores: %s", n.user, strings.Join(targetNamespaces(sc), ", ")), Reason: forbidden}},
		{"its role: the reader ClusterRole " + n.reader + " and no other. Without this rule the drill could bind anyone to any role whose rules it holds " +
			"(RBAC allows that without bind), such as its own ClusterRole below",
			admissionv1.Validation{Expression: notDelete + "(object.roleRef.apiGroup == " + celString(rbacv1.GroupName) +
				" && object.roleRef.kind == 'ClusterRole' && object.roleRef.name == " + celString(n.reader) + ")",
				Message: fmt.Sprintf("%s may only bind ClusterRole %s", n.user, n.reader), Reason: forbidden}},
		{"its subjects: exactly one, this ServiceAccount: the drill grants itself the reads, to no one else",
			admissionv1.Validation{Expression: notDelete + "(has(object.subjects) && size(object.subjects) == 1" +
				" && object.subjects[0].kind == 'ServiceAccount' && object.subjects[0].name == " + celString(n.local) +
				" && has(object.subjects[0].namespace) && object.subjects[0].namespace == " + celString(namespace) + ")",
				Message: fmt.Sprintf("%s may only bind itself, alone", n.user), Reason: forbidden}},
	}
}

// readerPolicy is the ValidatingAdmissionPolicy that narrows what RBAC
// cannot: the drill's create of RoleBindings (see readerValidations).
func readerPolicy(sc *scenarios.Scenario, n names, namespace string, meta metav1.ObjectMeta) (*admissionv1.ValidatingAdmissionPolicy, []validation) {
	vs := readerValidations(sc, n, namespace)
	return drillPolicy(n, meta, admissionv1.RuleWithOperations{
		// UPDATE is not granted, DELETE only by name: the policy holds
		// them to the same rules in case a patch on the roles grants more.
		Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete},
		Rule: admissionv1.Rule{APIGroups: []string{rbacv1.GroupName}, APIVersions: []string{"*"}, Resources: []string{"rolebindings"},
			Scope: ptr(admissionv1.NamespacedScope)},
	}, vs), vs
}

// drillPolicy is a ValidatingAdmissionPolicy of the drill's
// ServiceAccount: the requests of rule, by that account alone, held to vs.
// It fails closed: a policy that cannot be evaluated denies, and the drill
// reports the refusal as a finding.
func drillPolicy(n names, meta metav1.ObjectMeta, rule admissionv1.RuleWithOperations, vs []validation) *admissionv1.ValidatingAdmissionPolicy {
	spec := admissionv1.ValidatingAdmissionPolicySpec{
		FailurePolicy: ptr(admissionv1.Fail),
		MatchConstraints: &admissionv1.MatchResources{
			ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: rule}},
		},
		// Only this drill's requests: people and controllers are not
		// this policy's business, and every other drill has its own.
		MatchConditions: []admissionv1.MatchCondition{{Name: "the-drills-serviceaccount",
			Expression: "request.userInfo.username == " + celString(n.user)}},
	}
	for _, v := range vs {
		spec.Validations = append(spec.Validations, v.Validation)
	}
	return &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: meta,
		Spec:       spec,
	}
}

// policyBinding puts the policy named meta.Name in force, denying what it
// refuses.
func policyBinding(meta metav1.ObjectMeta) *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: meta,
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: meta.Name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}},
	}
}

// drillIDPattern matches every drill id drill.NewDrillID gives, as RE2
// (the syntax of CEL's matches): fd-, the UTC date and time, four
// lowercase hex digits. drillIDShape shows it to people.
const (
	drillIDPattern = `fd-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}`
	drillIDShape   = "fd-YYYYMMDD-HHMMSS-XXXX"
)

// crdRestoreNamePattern matches the names of the drills' Restores crds
// (see crdRestores), whole.
func crdRestoreNamePattern(crds []crdRestore) string {
	var alt []string
	for _, c := range crds {
		alt = append(alt, regexp.QuoteMeta(c.suffix))
	}
	return "^" + drillIDPattern + "(" + strings.Join(alt, "|") + ")$"
}

// crdValidations are what the admission policy requires of a
// CustomResourceDefinition the drill's ServiceAccount deletes: that a
// drill's Restore of CRDs created it. RBAC lets the drill delete any CRD
// (its names come from the backup); Velero labels every CRD it creates
// with velero.io/restore-name and never relabels one that already
// existed, so the label tells the drill's CRDs from the cluster's own.
//
// CEL notes: on DELETE, object is null and oldObject is the CRD being
// deleted; a CRD without labels has no metadata.labels, and selecting an
// absent field or key is an error, so has() and "in" guard them (an
// error would deny too, under failurePolicy Fail, but with a message no
// one can act on).
func crdValidations(n names, crds []crdRestore) []validation {
	label := celString(velerov1.RestoreNameLabel)
	return []validation{
		{"the CRD carries " + velerov1.RestoreNameLabel + ", the name of a firedrill drill's Restore that restores CRDs (" + restoreNameShapes(crds) + "): " +
			"one that Velero created for a drill. The label names a drill, not this one: " +
			"this drill may also delete a CRD another drill's phase of the same name restored into this cluster (see the ClusterRole's rule)",
			admissionv1.Validation{Expression: "has(oldObject.metadata.labels) && " + label + " in oldObject.metadata.labels && " +
				"oldObject.metadata.labels[" + label + "].matches(" + celString(crdRestoreNamePattern(crds)) + ")",
				Message: fmt.Sprintf("%s may only delete CustomResourceDefinitions a drill's Restore created (label %s=%s)",
					n.user, velerov1.RestoreNameLabel, restoreNameShapes(crds)),
				Reason: ptr(metav1.StatusReasonForbidden)}},
	}
}

// crdPolicy is the ValidatingAdmissionPolicy that narrows what RBAC
// cannot: the drill's delete of CustomResourceDefinitions (see
// crdValidations). A policy of its own rather than more rules in
// readerPolicy: it matches another resource, and each policy's
// validations then concern one kind of object, unguarded by the resource.
func crdPolicy(n names, crds []crdRestore, meta metav1.ObjectMeta) (*admissionv1.ValidatingAdmissionPolicy, []validation) {
	vs := crdValidations(n, crds)
	return drillPolicy(n, meta, admissionv1.RuleWithOperations{
		// Only DELETE: the drill creates and changes no CRD (Velero does,
		// as itself), and a patch on the roles that lets runbook steps do
		// so is not this policy's business.
		Operations: []admissionv1.OperationType{admissionv1.Delete},
		Rule: admissionv1.Rule{APIGroups: []string{groupAPIExt}, APIVersions: []string{"*"}, Resources: []string{"customresourcedefinitions"},
			Scope: ptr(admissionv1.ClusterScope)},
	}, vs), vs
}

// repositoryValidations are what the admission policy requires of a
// BackupRepository the drill deletes: Velero opened it on the copy's
// storage location the drill created (label velero.io/storage-location),
// as `velero backup-location delete` selects them (Velero v1.18
// pkg/cmd/cli/backuplocation/delete.go).
func repositoryValidations(n names, location string) []validation {
	label := celString(velerov1.StorageLocationLabel)
	return []validation{
		{"the BackupRepository carries " + velerov1.StorageLocationLabel + "=" + location + ": Velero opened it on the copy's storage location the drill creates, " +
			"never on a location of the cluster's own",
			admissionv1.Validation{Expression: "has(oldObject.metadata.labels) && " + label + " in oldObject.metadata.labels && " +
				"oldObject.metadata.labels[" + label + "] == " + celString(location),
				Message: fmt.Sprintf("%s may only delete BackupRepositories of storage location %s (label %s)", n.user, location, velerov1.StorageLocationLabel),
				Reason:  ptr(metav1.StatusReasonForbidden)}},
	}
}

// repositoryPolicy is the ValidatingAdmissionPolicy that narrows what
// RBAC cannot: the drill's deletes of BackupRepositories, whose names
// Velero generates, to those of the copy's location
// (repositoryValidations).
func repositoryPolicy(n names, location string, meta metav1.ObjectMeta) (*admissionv1.ValidatingAdmissionPolicy, []validation) {
	vs := repositoryValidations(n, location)
	return drillPolicy(n, meta, admissionv1.RuleWithOperations{
		Operations: []admissionv1.OperationType{admissionv1.Delete},
		Rule: admissionv1.Rule{APIGroups: []string{velerov1.SchemeGroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"backuprepositories"},
			Scope: ptr(admissionv1.NamespacedScope)},
	}, vs), vs
}

// validationsComment is the comment above the policy: what it is for,
// then why each validation exists, by index.
func validationsComment(what string, vs []validation) string {
	var b strings.Builder
	b.WriteString(what + "\n")
	for i, v := range vs {
		fmt.Fprintf(&b, "validations[%d]: %s\n", i, v.why)
	}
	return b.String()
}

// celString is s as a CEL string literal.
func celString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// celList is ss as a CEL list of strings.
func celList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = celString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
