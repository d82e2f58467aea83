package schedule

import (
	"fmt"
	"strings"

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
	// user is the drill's ServiceAccount as the API server names it.
	user string
}

func namesOf(namespace, scenario string) names {
	local := namePrefix + scenario
	return names{
		local:  local,
		shared: "firedrill:" + namespace + ":" + scenario,
		reader: "firedrill:" + namespace + ":" + scenario + ":restored",
		policy: "firedrill." + namespace + "." + scenario,
		user:   "system:serviceaccount:" + namespace + ":" + local,
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
	spec := admissionv1.ValidatingAdmissionPolicySpec{
		// Fail closed: a policy that cannot be evaluated denies, and the
		// drill reports the refusal as a finding.
		FailurePolicy: ptr(admissionv1.Fail),
		MatchConstraints: &admissionv1.MatchResources{
			ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
				// UPDATE is not granted, DELETE only by name: the policy
				// holds them to the same rules in case a patch on the
				// roles grants more.
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete},
				Rule: admissionv1.Rule{APIGroups: []string{rbacv1.GroupName}, APIVersions: []string{"*"}, Resources: []string{"rolebindings"},
					Scope: ptr(admissionv1.NamespacedScope)},
			}}},
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
	}, vs
}

// readerPolicyBinding puts the policy in force, denying what it refuses.
func readerPolicyBinding(n names, meta metav1.ObjectMeta) *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: meta,
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: n.policy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}},
	}
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
