package schedule

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// withPhases is the catalog's region-loss with its restore phases replaced.
func withPhases(t *testing.T, phases ...scenarios.Phase) *scenarios.Scenario {
	t.Helper()
	sc := find(t, "region-loss")
	sc.Spec.Target.Restore.Phases = phases
	return sc
}

var (
	nsAndPolicies = scenarios.Phase{Name: "network-policies", IncludedResources: []string{"namespaces", "networkpolicies.networking.k8s.io"}}
	theRest       = scenarios.Phase{Name: "workloads", ExcludedResources: []string{"networkpolicies.networking.k8s.io"}}
	// 50 characters: the Restore's name, drill id and all, is cut at 63.
	longCRDPhase = scenarios.Phase{Name: "custom-resource-definitions-of-the-shop-and-others", IncludedResources: []string{"crd"}}
)

// A drill whose restore brings CRDs may list them and delete them, and a
// second admission policy admits the delete only of a CRD Velero created
// for a drill's Restore of CRDs (Velero's label velero.io/restore-name).
// A drill that restores no CRDs gets neither.
func TestRender_CRDsTheDrillRestored(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sc      *scenarios.Scenario
		pattern string // "" when no phase restores CRDs
		shapes  string
	}{
		{"default phases", find(t, "region-loss"), `^fd-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}(-crds)$`, "fd-YYYYMMDD-HHMMSS-XXXX-crds"},
		{"phases of its own, by Velero's short name, the Restore's name cut at 63 characters",
			withPhases(t, nsAndPolicies, scenarios.Phase{Name: "definitions", IncludedResources: []string{"customresourcedefinitions"}}, longCRDPhase, theRest),
			`^fd-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}(-definitions|-custom-resource-definitions-of-the-shop)$`,
			"fd-YYYYMMDD-HHMMSS-XXXX-definitions or fd-YYYYMMDD-HHMMSS-XXXX-custom-resource-definitions-of-the-shop"},
		{"no phase restores CRDs", withPhases(t, nsAndPolicies, theRest), "", ""},
		{"CRDs excluded from the phase that restores everything else", withPhases(t, nsAndPolicies,
			scenarios.Phase{Name: "workloads", ExcludedResources: []string{"networkpolicies.networking.k8s.io", "customresourcedefinitions.apiextensions.k8s.io"}}), "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := objectsOf(t, options(tt.sc))
			const user = "system:serviceaccount:firedrill:firedrill-region-loss"
			own := m["ClusterRole/firedrill:firedrill:region-loss"].(*rbacv1.ClusterRole)
			var crdRules []rbacv1.PolicyRule
			for _, r := range own.Rules {
				if slices.Contains(r.Resources, "customresourcedefinitions") {
					crdRules = append(crdRules, r)
				}
			}
			policy, hasPolicy := m["ValidatingAdmissionPolicy/firedrill.firedrill.region-loss.crds"].(*admissionv1.ValidatingAdmissionPolicy)
			_, hasBinding := m["ValidatingAdmissionPolicyBinding/firedrill.firedrill.region-loss.crds"]
			if tt.pattern == "" {
				assert.Empty(t, crdRules, "no right on CRDs for a drill that restores none")
				assert.False(t, hasPolicy)
				assert.False(t, hasBinding)
				return
			}
			assert.Equal(t, []rbacv1.PolicyRule{
				{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{"list", "watch"}},
				{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{"delete"}},
			}, crdRules, "cleanup lists by label and deletes what it listed: no get, no watch, nothing else")

			require.True(t, hasPolicy, "the delete is narrowed by an admission policy")
			require.NotNil(t, policy.Spec.FailurePolicy)
			assert.Equal(t, admissionv1.Fail, *policy.Spec.FailurePolicy, "fails closed")
			assert.Nil(t, policy.Spec.ParamKind)
			require.Len(t, policy.Spec.MatchConstraints.ResourceRules, 1)
			rule := policy.Spec.MatchConstraints.ResourceRules[0]
			assert.Equal(t, []string{"apiextensions.k8s.io"}, rule.APIGroups)
			assert.Equal(t, []string{"customresourcedefinitions"}, rule.Resources)
			assert.Equal(t, []admissionv1.OperationType{"DELETE"}, rule.Operations)
			require.NotNil(t, rule.Scope)
			assert.Equal(t, admissionv1.ClusterScope, *rule.Scope)
			assert.Equal(t, []admissionv1.MatchCondition{{Name: "the-drills-serviceaccount",
				Expression: "request.userInfo.username == '" + user + "'"}}, policy.Spec.MatchConditions, "this drill's requests, no one else's")
			require.Len(t, policy.Spec.Validations, 1)
			v := policy.Spec.Validations[0]
			assert.Equal(t, "has(oldObject.metadata.labels) && 'velero.io/restore-name' in oldObject.metadata.labels && "+
				"oldObject.metadata.labels['velero.io/restore-name'].matches('"+tt.pattern+"')", v.Expression)
			require.NotNil(t, v.Reason)
			assert.Equal(t, "Forbidden", string(*v.Reason))
			assert.Equal(t, user+" may only delete CustomResourceDefinitions a drill's Restore created (label velero.io/restore-name="+tt.shapes+")", v.Message)
			b := m["ValidatingAdmissionPolicyBinding/firedrill.firedrill.region-loss.crds"].(*admissionv1.ValidatingAdmissionPolicyBinding)
			assert.Equal(t, "firedrill.firedrill.region-loss.crds", b.Spec.PolicyName)
			assert.Equal(t, []admissionv1.ValidationAction{admissionv1.Deny}, b.Spec.ValidationActions)

			out, err := Render(options(tt.sc))
			require.NoError(t, err)
			text := string(out)
			assert.Contains(t, text, "Residual risk", "the ClusterRole's comment says what the label cannot tell apart")
			assert.Contains(t, text, "firedrill.firedrill.region-loss.crds admits this ServiceAccount's delete", "the rule names the policy that narrows it")
			policyAt := strings.Index(text, "name: firedrill.firedrill.region-loss.crds")
			roleAt := strings.Index(text, "name: firedrill:firedrill:region-loss\n")
			require.Positive(t, policyAt)
			require.Positive(t, roleAt)
			assert.Less(t, policyAt, roleAt, "applied in order, the policy is in force before the grant")
		})
	}
}

// The pattern in the policy, run by Go's regexp as CEL's matches runs it
// (both RE2), accepts the names of the Restores of CRDs the drill creates
// whatever its id, and nothing else: not another phase's Restore, not a
// name a person gives, not one with more around it.
func TestCRDRestoreNamePattern(t *testing.T) {
	sc := withPhases(t, nsAndPolicies, scenarios.Phase{Name: "crds", IncludedResources: []string{"customresourcedefinitions.apiextensions.k8s.io"}}, longCRDPhase, theRest)
	re := regexp.MustCompile(crdRestoreNamePattern(crdRestores(sc)))
	var accepted, refused []string
	for _, at := range []time.Time{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Date(2031, 7, 31, 23, 59, 59, 0, time.FixedZone("x", -7*3600))} {
		for range 20 {
			id := drill.NewDrillID(at)
			for _, pr := range drill.PlanRestores(sc, id) {
				if pr.IncludeClusterResources {
					accepted = append(accepted, pr.Name)
				} else {
					refused = append(refused, pr.Name)
				}
			}
		}
	}
	require.Len(t, accepted, 80)
	require.Len(t, refused, 80)
	for _, n := range accepted {
		assert.Regexp(t, re, n)
	}
	id := drill.NewDrillID(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	refused = append(refused, "crds", "my-restore", id, id+"-crds-again", "x"+id+"-crds", id+"-crd", "fd-20261201-090000-3F9A-crds",
		"fd-2026121-090000-3f9a-crds", id+"-custom-resource-definitions-of-the-shop-and-others", "fd-20261201-090000-3f9a-crds\n")
	for _, n := range refused {
		assert.NotRegexp(t, re, n)
	}
}
