package schedule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/envname"
	"github.com/firedrill-dev/firedrill/internal/ociimage"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Labels every rendered object carries, so that kustomize, kubectl -l and
// people find them.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"
	// LabelScenario names the scenario an object is for.
	LabelScenario = "firedrill.dev/scenario"
	appName       = "firedrill"
	component     = "scheduled-drill"
	namePrefix    = "firedrill-"
	// ComponentNamespace labels the namespace and its NetworkPolicy: they
	// must exist before a server-side dry run of the rest can pass (a dry
	// run creates nothing, so the namespaced objects of the same file meet
	// `namespaces "NS" not found`). NamespaceSelector selects them.
	ComponentNamespace = "namespace"
	// NamespaceSelector is the label selector of the objects to apply
	// first: kubectl apply -f drills.yaml -l NamespaceSelector.
	NamespaceSelector = LabelComponent + "=" + ComponentNamespace
)

// nonRoot is the image's user (cmd/firedrill-image): the "nonroot" uid
// and gid of distroless images, which no system account uses.
const nonRoot int64 = 65532

// Object is one rendered Kubernetes object, with the comment written
// above it.
type Object struct {
	Comment string
	Object  any
}

// Objects renders the manifests as objects, in the order Render writes
// them: the namespace and its NetworkPolicy, then for each scenario in
// name order its ServiceAccount, ConfigMap, ValidatingAdmissionPolicy and
// its binding, when a restore phase restores CustomResourceDefinitions a
// second ValidatingAdmissionPolicy (.crds) and its binding, the reader
// ClusterRole of its restored namespaces, its own ClusterRole and
// binding, Role and binding in the Velero namespace, and CronJob. The
// admission policies come before the roles because they narrow what the
// drill's ClusterRole grants (creating RoleBindings, deleting CRDs):
// applied in this order, those grants are never in force without them.
// It validates o first.
func Objects(o Options) ([]Object, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	out := []Object{{
		Comment: "Drills run here. The pods meet the restricted Pod Security Standard.",
		Object: &corev1.Namespace{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: o.Namespace, Labels: map[string]string{
				LabelName: appName, LabelPartOf: appName, LabelComponent: ComponentNamespace,
				"pod-security.kubernetes.io/enforce": "restricted",
			}},
		},
	}}
	out = append(out, Object{
		Comment: "Hardened clusters admit no pod in a namespace without a NetworkPolicy. The drill pods take no traffic; " +
			"they reach the API server, the buckets and what the checks name, so egress stays open.",
		Object: &networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: o.Namespace, Labels: map[string]string{LabelName: appName, LabelPartOf: appName, LabelComponent: ComponentNamespace}},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
			},
		},
	})
	for i, sc := range o.Scenarios {
		objs, err := scenarioObjects(o, i, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// Render writes the manifests as multi-document YAML: see Objects.
func Render(o Options) ([]byte, error) {
	objs, err := Objects(o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("# Rendered by 'firedrill schedule render'. Apply to the scratch cluster the drills restore into,\n" +
		"# the namespace first (a server-side dry run creates nothing, so the rest needs it to exist):\n" +
		"#   kubectl apply -f FILE -l " + NamespaceSelector + "\n" +
		"#   kubectl apply -f FILE --dry-run=server && kubectl apply -f FILE\n")
	for _, obj := range objs {
		data, err := marshal(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("write %T as YAML: %w", obj.Object, err)
		}
		buf.WriteString("---\n")
		for _, line := range strings.Split(strings.TrimSpace(obj.Comment), "\n") {
			for _, l := range wrap(line, 100) {
				buf.WriteString("# " + l + "\n")
			}
		}
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// marshal writes an object as YAML without the empty "spec: {}" and
// "status: {}" that Go's zero values leave: they are noise in a file
// people review, and the API server fills status itself.
func marshal(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"spec", "status"} {
		if v, ok := m[k].(map[string]any); ok && len(v) == 0 {
			delete(m, k)
		}
	}
	return yaml.Marshal(m)
}

func scenarioObjects(o Options, i int, orig *scenarios.Scenario) ([]Object, error) {
	name := orig.Metadata.Name
	if err := checkTargets(o, orig); err != nil {
		return nil, err
	}
	ps, err := forPod(orig, o.ReadFile)
	if err != nil {
		return nil, err
	}
	for _, e := range ps.credentialEnvs {
		if !isEnvName(e) {
			return nil, fmt.Errorf("scenario %s: credentials variable %s cannot be a Secret key", name, envname.Display(e))
		}
	}
	schedule := o.Cron
	if schedule == "" {
		schedule, _ = o.Cadence.Cron(i)
	}
	sc := ps.sc
	veleroNS := sc.Spec.Backups.VeleroNamespace
	// Cluster-scoped objects and those in the Velero namespace are shared
	// with other installs: the namespace keeps their names apart.
	n := namesOf(o.Namespace, name)
	local, shared := n.local, n.shared
	labels := map[string]string{LabelName: appName, LabelPartOf: appName, LabelComponent: component, LabelScenario: name}
	meta := func(n, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: n, Namespace: ns, Labels: copyMap(labels)}
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: local, Namespace: o.Namespace}}
	cRules, vRules, rRules := clusterRules(sc, n), veleroRules(sc, n), readerRules()
	targets := strings.Join(targetNamespaces(sc), ", ")
	policy, validations := readerPolicy(sc, n, o.Namespace, meta(n.policy, ""))

	out := []Object{
		{Comment: fmt.Sprintf("The identity of the drill %s; RBAC below grants it what the drill needs, nothing more.", name),
			Object: &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(local, o.Namespace)}},
		{Comment: fmt.Sprintf("The scenario %s and the files it names. No credentials: only the names of the variables that hold them.", name),
			Object: &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta(local, o.Namespace), Data: ps.files}},
		{Comment: validationsComment(fmt.Sprintf("Admits the drill %s's RoleBindings only as the drill needs them: %s in its namespaces (%s), binding itself alone to ClusterRole %s. "+
			"RBAC lets the drill create RoleBindings (its ClusterRole below) but cannot narrow create by name or namespace; this policy does, for that ServiceAccount's requests only. "+
			"It comes before the roles, so that applying the file in order creates it before the grant. Kubernetes 1.30 or later (admissionregistration.k8s.io/v1).",
			name, restore.ReaderBindingName, targets, n.reader), validations),
			Object: policy},
		{Comment: "Puts the policy above in force: what it refuses is denied.",
			Object: policyBinding(meta(n.policy, ""))},
	}
	if crds := crdRestores(sc); len(crds) > 0 {
		policy, validations := crdPolicy(n, crds, meta(n.crdPolicy, ""))
		out = append(out,
			Object{Comment: validationsComment(fmt.Sprintf("Admits the drill %s's deletes of CustomResourceDefinitions only for those a drill's Restore created: "+
				"its phase %s restores the backup's CRDs, and cleanup deletes those Velero created for it. "+
				"RBAC lets the drill delete CRDs (its ClusterRole below) but cannot narrow delete to them, whose names come from the backup; this policy does, "+
				"by Velero's label, for that ServiceAccount's requests only.", name, phaseList(crds)), validations),
				Object: policy},
			Object{Comment: "Puts the policy above in force: what it refuses is denied.",
				Object: policyBinding(meta(n.crdPolicy, ""))})
	}
	if _, from := sc.RestoreFrom(); from != nil {
		policy, validations := repositoryPolicy(n, from.StorageLocation, meta(n.repositoryPolicy, ""))
		out = append(out,
			Object{Comment: validationsComment(fmt.Sprintf("Admits the drill %s's deletes of BackupRepositories only for those Velero opened on the copy's storage location %s: "+
				"cleanup deletes them with the location, or the next drill's location of that name finds its repository NotReady. "+
				"RBAC lets the drill delete BackupRepositories (its Role below) but cannot narrow delete to them, whose names Velero generates; this policy does, "+
				"by Velero's label, for that ServiceAccount's requests only.", name, from.StorageLocation), validations),
				Object: policy},
			Object{Comment: "Puts the policy above in force: what it refuses is denied.",
				Object: policyBinding(meta(n.repositoryPolicy, ""))})
	}
	out = append(out, []Object{
		{Comment: rulesComment(fmt.Sprintf("Read-only access to everything, for the drill %s in the namespaces it restored (%s), and only there: this ClusterRole is never bound cluster-wide. "+
			"Those namespaces do not exist before the drill, so the drill binds it inside them itself (RoleBinding %s) once the restore created them; the bindings go with the namespaces at cleanup, "+
			"or are deleted when cleanup keeps them. Granting these reads cluster-wide would let the drill read every Secret of the cluster. "+
			"On API servers before Kubernetes 1.35 (feature AuthorizePodWebsocketUpgradeCreatePermission), get on pods/exec, pods/attach and pods/portforward also opens them over websockets.",
			name, targets, restore.ReaderBindingName), rRules),
			Object: &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
				ObjectMeta: meta(n.reader, ""), Rules: policyRules(rRules)}},
		{Comment: rulesComment(fmt.Sprintf("What the drill %s reads and deletes outside the Velero namespace. Its namespaces (%s) do not exist before the drill and are deleted after it, so nothing can be bound inside them in advance: rules about them are cluster-wide, narrowed by resourceNames where the API allows.",
			name, targets), cRules),
			Object: &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
				ObjectMeta: meta(shared, ""), Rules: policyRules(cRules)}},
		{Object: &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: meta(shared, ""), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: shared}}},
		{Comment: rulesComment(fmt.Sprintf("What the drill %s does with Velero in namespace %s.", name, veleroNS), vRules),
			Object: &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
				ObjectMeta: meta(shared, veleroNS), Rules: policyRules(vRules)}},
		{Object: &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta(shared, veleroNS), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: shared}}},
		{Comment: fmt.Sprintf("Runs the drill %s on schedule %q (%s). A failed drill is not retried: it is a result, and its record is in %s. "+
			"Only one at a time (concurrencyPolicy Forbid). A drill still running after %s (activeDeadlineSeconds; %s) is stopped, cleans up, "+
			"and reports its RTO missed: it had not recovered within it.",
			name, schedule, o.TimeZone, o.History, drill.FormatSeconds(deadlineOf(o, orig).Seconds()), deadlineSource(o, orig)) +
			toolsCaveat(ps, n),
			Object: &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}, ObjectMeta: meta(local, o.Namespace),
				Spec: batchv1.CronJobSpec{
					Schedule: schedule,
					TimeZone: &o.TimeZone,
					// Two drills of one scenario would collide on its namespaces.
					ConcurrencyPolicy: batchv1.ForbidConcurrent,
					// A drill missed by more than an hour waits for the next
					// one rather than starting in the middle of the day.
					StartingDeadlineSeconds:    ptr(int64(time.Hour / time.Second)),
					SuccessfulJobsHistoryLimit: ptr(int32(3)),
					FailedJobsHistoryLimit:     ptr(int32(3)),
					JobTemplate: batchv1.JobTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: copyMap(labels)},
						Spec: batchv1.JobSpec{
							BackoffLimit:          ptr(int32(0)),
							ActiveDeadlineSeconds: ptr(int64(deadlineOf(o, orig) / time.Second)),
							Template: corev1.PodTemplateSpec{
								ObjectMeta: metav1.ObjectMeta{Labels: copyMap(labels)},
								Spec:       podSpec(o, ps, n),
							},
						},
					},
				}}},
	}...)
	return out, nil
}

// toolsCaveat warns, above the CronJob, about what runbook steps (sh) and
// command checks need beyond firedrill: their tools in the image (the
// runner image has sh, kubectl and velero; the firedrill image nothing
// but /firedrill), and RBAC for what they do beyond reading the restored
// namespaces, which the roles above do not grant: they cover what
// firedrill itself does.
func toolsCaveat(ps *podScenario, n names) string {
	if ps.runbookSteps == 0 && ps.commandChecks == 0 {
		return ""
	}
	return fmt.Sprintf("\nCAUTION: this scenario has %s and %s. They run sh and the programs they name "+
		"in the image, as this ServiceAccount: run them in the runner image (sh, kubectl, velero: 'make image-runner'), "+
		"or one with their tools. They may read everything in the namespaces the drill restored (ClusterRole %s); "+
		"grant anything else they do (writes, other namespaces, cluster-scoped objects) with a patch on the roles, or they fail as 'runbook out of date'.",
		plural.Count(ps.runbookSteps, "runbook step", "runbook steps"), plural.Count(ps.commandChecks, "command check", "command checks"), n.reader)
}

// Caveats lists, per scenario, what a scheduled drill needs beyond
// firedrill itself (tools and RBAC for its runbook steps and command
// checks); empty when it needs nothing more. The command line prints them
// as warnings.
func Caveats(o Options) ([]string, error) {
	o = o.withDefaults()
	var out []string
	for _, sc := range o.Scenarios {
		ps, err := forPod(sc, o.ReadFile)
		if err != nil {
			return nil, err
		}
		if c := toolsCaveat(ps, namesOf(o.Namespace, sc.Metadata.Name)); c != "" {
			out = append(out, sc.Metadata.Name+": "+strings.TrimPrefix(strings.TrimSpace(c), "CAUTION: "))
		}
	}
	return out, nil
}

// DefaultImage is the image the drills of o run when Options.Image is
// empty, tagged version: the runner image (ociimage.RunnerRepository) when
// any scenario has runbook steps or command checks, which run sh and the
// programs they name; else the firedrill image, which holds firedrill
// alone. One image for all: the drills of one render share a namespace
// and a push.
func DefaultImage(o Options, version string) (string, error) {
	o = o.withDefaults()
	for _, sc := range o.Scenarios {
		ps, err := forPod(sc, o.ReadFile)
		if err != nil {
			return "", err
		}
		if ps.runbookSteps > 0 || ps.commandChecks > 0 {
			return ociimage.RunnerRepository + ":" + version, nil
		}
	}
	return ociimage.Repository + ":" + version, nil
}

// checkTargets refuses a scenario whose drill namespaces include one the
// cluster or the drill itself depends on: the RBAC grants deleting them.
func checkTargets(o Options, sc *scenarios.Scenario) error {
	protected := map[string]bool{"default": true, kubeSystem: true, "kube-public": true, "kube-node-lease": true,
		sc.Spec.Backups.VeleroNamespace: true, o.Namespace: true}
	for _, ns := range targetNamespaces(sc) {
		if protected[ns] {
			return fmt.Errorf("scenario %s restores into namespace %s, which a scheduled drill would be allowed to delete; map it to a drill namespace with spec.target.namespaceMapping", sc.Metadata.Name, ns)
		}
	}
	return nil
}

// rulesComment is the comment above a role: what it is for, then why each
// rule exists, by index.
func rulesComment(what string, rules []rule) string {
	var b strings.Builder
	b.WriteString(what + "\n")
	for i := 0; i < len(rules); i++ {
		j := i
		for j+1 < len(rules) && rules[j+1].why == "" {
			j++
		}
		idx := fmt.Sprintf("rules[%d]", i)
		if j > i {
			idx = fmt.Sprintf("rules[%d-%d]", i, j)
		}
		fmt.Fprintf(&b, "%s: %s\n", idx, rules[i].why)
		i = j
	}
	return b.String()
}

// wrap breaks s into lines of at most width characters, at spaces; the
// lines after the first are indented, so a wrapped rule reads as one.
func wrap(s string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) > width:
			lines = append(lines, cur)
			cur = "  " + w
		default:
			cur += " " + w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ptr[T any](v T) *T { return &v }
