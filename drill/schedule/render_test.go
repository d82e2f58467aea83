package schedule

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/firedrill-dev/firedrill/internal/ociimage"
	"github.com/firedrill-dev/firedrill/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func find(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	// The package directory has no scenarios/: names are the catalog's.
	wd, err := os.Getwd()
	require.NoError(t, err)
	sc, err := scenarios.Find(context.Background(), scenarios.Env{WorkDir: wd, HomeDir: "/home/drill"}, name)
	require.NoError(t, err)
	return sc
}

func options(scs ...*scenarios.Scenario) Options {
	return Options{
		Scenarios: scs,
		Cadence:   Quarterly,
		Image:     "registry.example.com/firedrill-runner:v1.0.0",
		History:   "s3://dr-drills/team-shop",
	}
}

// decode reads every document of a render with the Kubernetes scheme,
// strictly: what the API server would get.
func decode(t *testing.T, out []byte) []runtime.Object {
	t.Helper()
	var objs []runtime.Object
	for _, doc := range strings.Split(string(out), "\n---\n")[1:] {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		require.NoError(t, err, "document:\n%s", doc)
		objs = append(objs, obj)
	}
	return objs
}

func TestRender_GoldenRegionLoss(t *testing.T) {
	out, err := Render(options(find(t, "region-loss")))
	require.NoError(t, err)
	path := filepath.Join("testdata", "region-loss.golden.yaml")
	if *update {
		require.NoError(t, os.WriteFile(path, out, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run 'go test ./drill/schedule -update' to create %s", path)
	assert.Equal(t, string(want), string(out))

	again, err := Render(options(find(t, "region-loss")))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(out, again), "the same options render the same bytes")

	var kinds []string
	for _, o := range decode(t, out) {
		kinds = append(kinds, o.GetObjectKind().GroupVersionKind().Kind)
	}
	// The admission policy before the roles: applied in order, the grant
	// it narrows (creating RoleBindings) never comes first.
	// The second policy guards the deletes of the CRDs its "crds" phase
	// restores.
	assert.Equal(t, []string{"Namespace", "NetworkPolicy", "ServiceAccount", "ConfigMap",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"ClusterRole", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "CronJob"}, kinds)
}

// objectsOf renders o and returns the typed objects by kind/name.
func objectsOf(t *testing.T, o Options) map[string]any {
	t.Helper()
	objs, err := Objects(o)
	require.NoError(t, err)
	m := map[string]any{}
	for _, obj := range objs {
		switch v := obj.Object.(type) {
		case *corev1.ConfigMap:
			m["ConfigMap/"+v.Name] = v
		case *rbacv1.ClusterRole:
			m["ClusterRole/"+v.Name] = v
		case *rbacv1.ClusterRoleBinding:
			m["ClusterRoleBinding/"+v.Name] = v
		case *admissionv1.ValidatingAdmissionPolicy:
			m["ValidatingAdmissionPolicy/"+v.Name] = v
		case *admissionv1.ValidatingAdmissionPolicyBinding:
			m["ValidatingAdmissionPolicyBinding/"+v.Name] = v
		case *rbacv1.Role:
			m["Role/"+v.Name] = v
		case *batchv1.CronJob:
			m["CronJob/"+v.Name] = v
		}
	}
	return m
}

func verbsOf(rules []rbacv1.PolicyRule, resource string) (verbs, names []string) {
	for _, r := range rules {
		for _, res := range r.Resources {
			if res == resource {
				verbs = append(verbs, r.Verbs...)
				names = append(names, r.ResourceNames...)
			}
		}
	}
	return verbs, names
}

// The pod runs a scenario that loads as it is, aimed at the cluster it runs
// in, with the files it names next to it and credentials as references.
func TestRender_ScenarioForThePod(t *testing.T) {
	sc := find(t, "testdata/shop-drill.yaml")
	m := objectsOf(t, options(sc))
	cm := m["ConfigMap/firedrill-shop-drill"].(*corev1.ConfigMap)
	assert.Contains(t, cm.Data["shop-drill.ca-0.pem"], "BEGIN CERTIFICATE")
	assert.Contains(t, cm.Data["shop-drill.runbook.md"], `firedrill-step name="pods"`)

	dir := t.TempDir()
	for k, v := range cm.Data {
		require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
	}
	inPod, err := scenarios.LoadFile(context.Background(), scenarios.Env{}, filepath.Join(dir, "shop-drill.yaml"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, inClusterKubeconfig), inPod.Spec.Target.Kubeconfig)
	assert.Empty(t, inPod.Spec.Target.Context)
	assert.Equal(t, filepath.Join(dir, "shop-drill.ca-0.pem"), inPod.Spec.Storage.Primary.CAFile)
	assert.Equal(t, filepath.Join(dir, "shop-drill.runbook.md"), inPod.Spec.Runbook.File)
	assert.Equal(t, "SHOP_S3_KEY", inPod.Spec.Storage.Primary.Credentials.AccessKeyIDEnv)
	assert.Equal(t, map[string]string{"shop": "shop-drill"}, inPod.Spec.Target.NamespaceMapping)
	assert.Empty(t, inPod.Spec.Source, "the scenario names no source cluster")

	kc, err := clientcmd.Load([]byte(cm.Data[inClusterKubeconfig]))
	require.NoError(t, err)
	ctx := kc.Contexts[kc.CurrentContext]
	require.NotNil(t, ctx)
	assert.Equal(t, "https://kubernetes.default.svc", kc.Clusters[ctx.Cluster].Server)
	assert.Equal(t, serviceAccountDir+"/ca.crt", kc.Clusters[ctx.Cluster].CertificateAuthority)
	assert.Equal(t, serviceAccountDir+"/token", kc.AuthInfos[ctx.AuthInfo].TokenFile)
	assert.Empty(t, kc.AuthInfos[ctx.AuthInfo].Token, "no token value, only the file the kubelet keeps")

	cj := m["CronJob/firedrill-shop-drill"].(*batchv1.CronJob)
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	c := pod.Containers[0]
	assert.Equal(t, []string{"--log-format=json", "run", "shop-drill", "--history", "s3://dr-drills/team-shop"}, c.Args)
	var fromSecret []string
	for _, e := range c.Env {
		assert.False(t, e.Value != "" && strings.Contains(e.Name, "KEY"), "credential %s has a value", e.Name)
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			fromSecret = append(fromSecret, e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key)
		}
	}
	assert.Equal(t, []string{"firedrill-credentials/SHOP_S3_KEY", "firedrill-credentials/SHOP_S3_SECRET",
		"firedrill-history/FIREDRILL_HISTORY_ACCESS_KEY_ID", "firedrill-history/FIREDRILL_HISTORY_SECRET_ACCESS_KEY",
		"firedrill-evidence/FIREDRILL_EVIDENCE_KEY", "firedrill-evidence/FIREDRILL_EVIDENCE_ACCESS_KEY_ID",
		"firedrill-evidence/FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY", "firedrill-notify/FIREDRILL_NOTIFY_WEBHOOK",
		"firedrill-notify/FIREDRILL_NOTIFY_FORMAT", "firedrill-notify/FIREDRILL_PUSHGATEWAY"}, fromSecret)
	for _, e := range c.Env {
		if e.Name == "FIREDRILL_EVIDENCE_KEY" {
			require.NotNil(t, e.ValueFrom.SecretKeyRef.Optional)
			assert.True(t, *e.ValueFrom.SecretKeyRef.Optional, "without the Secret the drill signs no evidence")
		}
	}
	var vols []string
	for _, v := range pod.Volumes {
		vols = append(vols, v.Name)
	}
	assert.Equal(t, []string{"scenario", "state", "tmp"}, vols, "no source kubeconfig or AWS file to mount")

	role := m["Role/firedrill:firedrill:shop-drill"].(*rbacv1.Role)
	assert.Equal(t, "backup-system", role.Namespace, "the scenario's Velero namespace")
	cr := m["ClusterRole/firedrill:firedrill:shop-drill"].(*rbacv1.ClusterRole)
	_, names := verbsOf(cr.Rules, "namespaces")
	assert.Equal(t, []string{"backup-system", "kube-system", "shop-drill"}, names)
	verbs, _ := verbsOf(cr.Rules, "configmaps")
	assert.Empty(t, verbs, "no data canary check, no ConfigMap access")

	caveats, err := Caveats(options(sc))
	require.NoError(t, err)
	require.Len(t, caveats, 1)
	assert.Contains(t, caveats[0], "shop-drill: this scenario has 1 runbook step and 1 command check")
}

// The RBAC follows what each drill does: only a scenario that restores
// from a copy creates a location and its Secret and repoints a Backup;
// deleting namespaces is limited to the drill's own.
func TestRender_RBACFollowsTheScenario(t *testing.T) {
	m := objectsOf(t, options(find(t, "region-loss"), find(t, "ransomware-backup-storage")))

	plain := m["Role/firedrill:firedrill:region-loss"].(*rbacv1.Role)
	verbs, _ := verbsOf(plain.Rules, "secrets")
	assert.Empty(t, verbs)
	verbs, _ = verbsOf(plain.Rules, "backups")
	assert.Equal(t, []string{"get", "list", "watch"}, verbs)
	verbs, _ = verbsOf(plain.Rules, "backupstoragelocations")
	assert.Equal(t, []string{"list", "watch"}, verbs)
	verbs, _ = verbsOf(plain.Rules, "restores")
	assert.Equal(t, []string{"create", "get", "list", "watch", "delete"}, verbs)

	fromCopy := m["Role/firedrill:firedrill:ransomware-backup-storage"].(*rbacv1.Role)
	verbs, names := verbsOf(fromCopy.Rules, "secrets")
	assert.Equal(t, []string{"create", "delete"}, verbs)
	assert.Equal(t, []string{"offsite-copy-firedrill-credentials"}, names, "delete names the copy's Secret, never Velero's own")
	verbs, _ = verbsOf(fromCopy.Rules, "backups")
	assert.Contains(t, verbs, "patch")
	verbs, names = verbsOf(fromCopy.Rules, "backupstoragelocations")
	assert.Equal(t, []string{"list", "watch", "create", "get", "delete"}, verbs)
	assert.Equal(t, []string{"offsite-copy"}, names, "get and delete name the copy's location, never the default one")
	for _, r := range fromCopy.Rules {
		// The drill's own Restores and DownloadRequests are named after the
		// drill; anything that existed before it is deleted only by name.
		if slices.Contains(r.Verbs, "delete") && !slices.Contains(r.Resources, "restores") && !slices.Contains(r.Resources, "downloadrequests") && !admitted(r) {
			assert.NotEmpty(t, r.ResourceNames, "delete of %v is narrowed by name", r.Resources)
		}
	}

	cr := m["ClusterRole/firedrill:firedrill:region-loss"].(*rbacv1.ClusterRole)
	for _, r := range cr.Rules {
		if len(r.ResourceNames) == 0 && !admitted(r) {
			assert.Subset(t, []string{"list", "watch"}, r.Verbs, "a rule without resourceNames only lists and watches: %+v", r)
		}
		switch {
		case contains(r.Verbs, "delete") && contains(r.Resources, "namespaces"):
			assert.Equal(t, []string{"shop", "shop-data"}, r.ResourceNames, "delete only the drill's namespaces")
		case contains(r.Verbs, "delete") && contains(r.Resources, "customresourcedefinitions"):
			assert.True(t, admitted(r), "the CRDs the drill deletes are narrowed by its admission policy: %+v", r)
		case contains(r.Verbs, "delete"):
			assert.Equal(t, []string{"rolebindings"}, r.Resources, "%+v", r)
			assert.Equal(t, []string{"firedrill-drill-reader"}, r.ResourceNames, "delete only the drill's own RoleBinding")
		}
		assert.NotContains(t, r.Resources, "secrets", "no Secret is read outside the Velero namespace")
	}
	verbs, names = verbsOf(cr.Rules, "configmaps")
	assert.Equal(t, []string{"list", "watch"}, verbs)
	assert.Equal(t, []string{"data-canary"}, names)

	// Cadence drills of one render start an hour apart.
	assert.Equal(t, "0 6 1 1,4,7,10 *", m["CronJob/firedrill-ransomware-backup-storage"].(*batchv1.CronJob).Spec.Schedule)
	assert.Equal(t, "0 7 1 1,4,7,10 *", m["CronJob/firedrill-region-loss"].(*batchv1.CronJob).Spec.Schedule)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRender_RefusesADrillThatWouldDeleteAClusterNamespace(t *testing.T) {
	_, err := Render(options(find(t, "testdata/protected-target.yaml")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "restores into namespace default")
}

func TestValidate(t *testing.T) {
	rl := find(t, "region-loss")
	long := find(t, "region-loss")
	long.Metadata.Name = "a-scenario-name-that-is-far-too-long-for-a-cronjob"
	fixed := find(t, "region-loss")
	fixed.Metadata.Name = "fixed-time"
	fixed.Spec.Disaster.DeclaredAt = time.Date(2026, 3, 1, 3, 10, 0, 0, time.UTC)
	tests := []struct {
		name string
		edit func(*Options)
		want string // "" for valid
	}{
		{"cadence", func(o *Options) {}, ""},
		{"cron", func(o *Options) { o.Cadence, o.Cron = "", "*/15 6-18 * JAN-MAR,OCT MON-FRI" }, ""},
		{"cron question mark", func(o *Options) { o.Cadence, o.Cron = "", "0 0 ? * 0" }, ""},
		{"neither", func(o *Options) { o.Cadence = "" }, "one of --cron or --cadence is required"},
		{"cluster", func(o *Options) { o.Cluster = "eu-1" }, ""},
		{"bad cluster", func(o *Options) { o.Cluster = "EU/1" }, `--cluster: cluster name "EU/1"`},
		{"both", func(o *Options) { o.Cron = "0 6 * * *" }, "give one, not both"},
		{"unknown cadence", func(o *Options) { o.Cadence = "daily" }, `unknown cadence "daily"`},
		{"four fields", func(o *Options) { o.Cadence, o.Cron = "", "0 6 * *" }, "has 4 fields; want 5"},
		{"macro", func(o *Options) { o.Cadence, o.Cron = "", "@daily" }, "has 1 fields"},
		{"minute out of range", func(o *Options) { o.Cadence, o.Cron = "", "60 6 * * *" }, `"60" is not a valid minute (0-59)`},
		{"backwards range", func(o *Options) { o.Cadence, o.Cron = "", "0 18-6 * * *" }, "goes backwards"},
		{"bad step", func(o *Options) { o.Cadence, o.Cron = "", "*/0 * * * *" }, `step "0"`},
		{"bad month name", func(o *Options) { o.Cadence, o.Cron = "", "0 6 1 JANUARY *" }, "is not a valid month"},
		{"no history", func(o *Options) { o.History = "" }, "--history: a drill in a pod keeps nothing"},
		{"history not s3", func(o *Options) { o.History = "https://bucket" }, "want s3://BUCKET/PREFIX"},
		{"no image", func(o *Options) { o.Image = "" }, "--image: the image the drills run is required"},
		{"no scenario", func(o *Options) { o.Scenarios = nil }, "at least one scenario"},
		{"twice", func(o *Options) { o.Scenarios = append(o.Scenarios, rl) }, "region-loss is named twice"},
		{"long name", func(o *Options) { o.Scenarios = append(o.Scenarios, long) }, "may have at most 42"},
		{"fixed disaster time", func(o *Options) { o.Scenarios = append(o.Scenarios, fixed) },
			"fixed-time sets spec.disaster.declaredAt (2026-03-01T03:10:00Z): every scheduled run would measure RTO and RPO from that fixed time"},
		{"namespace", func(o *Options) { o.Namespace = "Drills" }, `--namespace "Drills"`},
		{"time zone", func(o *Options) { o.TimeZone = "Mars/Olympus" }, `--time-zone "Mars/Olympus"`},
		{"secret name", func(o *Options) { o.CredentialsSecret = "no_underscores" }, `--credentials-secret "no_underscores"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(rl)
			tt.edit(&o)
			err := o.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			_, rerr := Render(o)
			assert.Error(t, rerr, "Render validates too")
		})
	}
}

// A drill that keeps its evidence needs the signing key; the evidence
// bucket's credentials are references like the others.
func TestRender_Cluster(t *testing.T) {
	o := options(find(t, "testdata/shop-drill.yaml"))
	o.Cluster = "eu-1"
	c := objectsOf(t, o)["CronJob/firedrill-shop-drill"].(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	assert.Equal(t, []string{"--log-format=json", "run", "shop-drill", "--history", "s3://dr-drills/team-shop", "--cluster", "eu-1"}, c.Args)
}

func TestRender_Evidence(t *testing.T) {
	env := func(c corev1.Container, name string) *corev1.EnvVar {
		for i := range c.Env {
			if c.Env[i].Name == name {
				return &c.Env[i]
			}
		}
		return nil
	}
	o := options(find(t, "testdata/shop-drill.yaml"))
	o.EvidencePush, o.EvidencePushEndpoint, o.EvidencePushPathStyle = "s3://dr-evidence/shop", "https://minio.example.com", true
	c := objectsOf(t, o)["CronJob/firedrill-shop-drill"].(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	assert.Equal(t, []string{"--log-format=json", "run", "shop-drill", "--history", "s3://dr-drills/team-shop",
		"--evidence-push", "s3://dr-evidence/shop", "--evidence-push-endpoint", "https://minio.example.com", "--evidence-push-path-style"}, c.Args)
	key := env(c, "FIREDRILL_EVIDENCE_KEY")
	require.NotNil(t, key)
	assert.Nil(t, key.ValueFrom.SecretKeyRef.Optional, "pushing evidence requires the key")

	// The scenario's own evidence bucket: its credentials and CA go to the pod.
	sc := find(t, "testdata/shop-drill.yaml")
	sc.Spec.Evidence = &scenarios.Evidence{Push: &scenarios.EvidencePush{
		Bucket: scenarios.Bucket{Endpoint: "https://evidence.example.com", Bucket: "dr-evidence", Region: "us-east-1",
			CAFile: sc.Spec.Storage.Primary.CAFile, Credentials: &scenarios.Credentials{AccessKeyIDEnv: "EV_KEY", SecretAccessKeyEnv: "EV_SECRET"}},
		LockMode: scenarios.LockCompliance, Retention: scenarios.DefaultEvidenceRetention}}
	m := objectsOf(t, options(sc))
	c = m["CronJob/firedrill-shop-drill"].(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	assert.Nil(t, env(c, "FIREDRILL_EVIDENCE_KEY").ValueFrom.SecretKeyRef.Optional)
	for _, name := range []string{"EV_KEY", "EV_SECRET"} {
		e := env(c, name)
		require.NotNil(t, e, name)
		assert.Equal(t, "firedrill-credentials", e.ValueFrom.SecretKeyRef.Name)
	}
	cm := m["ConfigMap/firedrill-shop-drill"].(*corev1.ConfigMap)
	assert.Contains(t, cm.Data, "shop-drill.ca-1.pem", "the evidence bucket's CA, next to the scenario")

	o = options(find(t, "testdata/shop-drill.yaml"))
	o.EvidencePush = "s3://user:pw@bucket/x"
	_, err := Render(o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--evidence-push")
	assert.NotContains(t, err.Error(), "pw@")
}

// The checks that read pods, tokens and services through the API server
// get exactly those rights, by name where the API allows it.
func TestRender_RBACFollowsTheChecks(t *testing.T) {
	sc := find(t, "testdata/shop-drill.yaml")
	plain := objectsOf(t, options(sc))["ClusterRole/firedrill:firedrill:shop-drill"].(*rbacv1.ClusterRole)
	for _, res := range []string{"serviceaccounts", "serviceaccounts/token", "secrets", "tokenreviews", "services/proxy"} {
		verbs, _ := verbsOf(plain.Rules, res)
		assert.Empty(t, verbs, "no check needs %s", res)
	}
	verbs, _ := verbsOf(plain.Rules, "pods")
	assert.Equal(t, []string{"list"}, verbs, "a failing workloads check lists pods to say why")
	verbs, _ = verbsOf(plain.Rules, "events")
	assert.Equal(t, []string{"list"}, verbs)

	sc.Spec.Checks = append(sc.Spec.Checks,
		scenarios.Check{Name: "api-identity", Timeout: scenarios.DefaultCheckTimeout,
			ServiceAccount: &scenarios.ServiceAccountCheck{Namespace: "shop", Name: "shop-api"}},
		scenarios.Check{Name: "legacy-token", Timeout: scenarios.DefaultCheckTimeout,
			ServiceAccount: &scenarios.ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"}},
		scenarios.Check{Name: "web", Timeout: scenarios.DefaultCheckTimeout, HTTP: &scenarios.HTTPCheck{
			Service: &scenarios.ServiceRef{Namespace: "shop", Name: "web", Port: scenarios.ServicePort{Number: 80}},
			Path:    "/healthz", ExpectStatus: scenarios.DefaultExpectStatus()}},
		scenarios.Check{Name: "admin", Timeout: scenarios.DefaultCheckTimeout, HTTP: &scenarios.HTTPCheck{
			Service: &scenarios.ServiceRef{Namespace: "shop", Name: "admin", Port: scenarios.ServicePort{Name: "http"}},
			Path:    "/", ExpectStatus: scenarios.DefaultExpectStatus()}},
	)
	cr := objectsOf(t, options(sc))["ClusterRole/firedrill:firedrill:shop-drill"].(*rbacv1.ClusterRole)
	tests := []struct {
		resource    string
		verbs, name []string
	}{
		{"serviceaccounts", []string{"get"}, []string{"ci-deployer", "shop-api"}},
		{"serviceaccounts/token", []string{"create"}, []string{"shop-api"}},
		{"secrets", []string{"get"}, []string{"ci-deployer-token"}},
		{"tokenreviews", []string{"create"}, nil},
		{"services/proxy", []string{"get"}, []string{"http:admin:http", "http:web:80"}},
	}
	for _, tt := range tests {
		verbs, names := verbsOf(cr.Rules, tt.resource)
		assert.Equal(t, tt.verbs, verbs, tt.resource)
		assert.Equal(t, tt.name, names, tt.resource)
	}
	for _, r := range cr.Rules {
		if len(r.ResourceNames) == 0 && !slices.Contains(r.Resources, "tokenreviews") && !admitted(r) {
			assert.Subset(t, []string{"list", "watch"}, r.Verbs, "a rule without resourceNames only lists and watches: %+v", r)
		}
	}
}

// admitted reports whether r is the create of RoleBindings that RBAC
// cannot narrow and the admission policy does (TestRender_ReaderOfTheRestoredNamespaces).
// admitted reports whether r is one of the grants an admission policy
// narrows, where RBAC cannot: creating RoleBindings, deleting CRDs.
func admitted(r rbacv1.PolicyRule) bool {
	return slices.Equal(r.Resources, []string{"rolebindings"}) && slices.Equal(r.Verbs, []string{"create"}) ||
		slices.Equal(r.Resources, []string{"customresourcedefinitions"}) && slices.Equal(r.Verbs, []string{"delete"}) ||
		slices.Equal(r.Resources, []string{"backuprepositories"}) && slices.Equal(r.Verbs, []string{"list", "delete"})
}

// A scheduled drill reads everything in the namespaces it restored, and
// nowhere else: the reader ClusterRole is bound by no ClusterRoleBinding,
// the drill may bind only that role, and the admission policy admits only
// its own binding to it, in its own namespaces. The pod says which role
// and which ServiceAccount.
func TestRender_ReaderOfTheRestoredNamespaces(t *testing.T) {
	m := objectsOf(t, options(find(t, "region-loss"), find(t, "testdata/shop-drill.yaml")))
	for _, tt := range []struct {
		scenario string
		targets  string
	}{
		{"region-loss", "['shop', 'shop-data']"},
		{"shop-drill", "['shop-drill']"},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			shared := "firedrill:firedrill:" + tt.scenario
			readerName := shared + ":restored"
			sa := "firedrill-" + tt.scenario
			user := "system:serviceaccount:firedrill:" + sa

			reader := m["ClusterRole/"+readerName].(*rbacv1.ClusterRole)
			assert.Equal(t, []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}, reader.Rules,
				"read-only, everything")
			for k, v := range m {
				if crb, ok := v.(*rbacv1.ClusterRoleBinding); ok {
					assert.NotEqual(t, readerName, crb.RoleRef.Name, "%s binds the reader cluster-wide", k)
				}
			}

			own := m["ClusterRole/"+shared].(*rbacv1.ClusterRole)
			verbs, names := verbsOf(own.Rules, "clusterroles")
			assert.Equal(t, []string{"bind"}, verbs)
			assert.Equal(t, []string{readerName}, names, "bind that role, no other")
			var create, byName []rbacv1.PolicyRule
			for _, r := range own.Rules {
				if slices.Contains(r.Resources, "rolebindings") {
					assert.Equal(t, []string{"rbac.authorization.k8s.io"}, r.APIGroups)
					if len(r.ResourceNames) == 0 {
						create = append(create, r)
					} else {
						byName = append(byName, r)
					}
				}
			}
			require.Len(t, create, 1)
			assert.Equal(t, []string{"create"}, create[0].Verbs, "only create is not narrowed by name")
			require.Len(t, byName, 1)
			assert.Equal(t, []string{"get", "delete"}, byName[0].Verbs)
			assert.Equal(t, []string{"firedrill-drill-reader"}, byName[0].ResourceNames)
			verbs, _ = verbsOf(own.Rules, "secrets")
			assert.Empty(t, verbs, "no Secret is read through the drill's own ClusterRole")

			policyName := "firedrill.firedrill." + tt.scenario
			p := m["ValidatingAdmissionPolicy/"+policyName].(*admissionv1.ValidatingAdmissionPolicy)
			require.NotNil(t, p.Spec.FailurePolicy)
			assert.Equal(t, admissionv1.Fail, *p.Spec.FailurePolicy, "a policy that cannot be evaluated denies")
			assert.Nil(t, p.Spec.ParamKind)
			require.Len(t, p.Spec.MatchConstraints.ResourceRules, 1)
			rule := p.Spec.MatchConstraints.ResourceRules[0]
			assert.Equal(t, []string{"rbac.authorization.k8s.io"}, rule.APIGroups)
			assert.Equal(t, []string{"rolebindings"}, rule.Resources)
			assert.Equal(t, []admissionv1.OperationType{"CREATE", "UPDATE", "DELETE"}, rule.Operations)
			assert.Equal(t, []admissionv1.MatchCondition{{Name: "the-drills-serviceaccount",
				Expression: "request.userInfo.username == '" + user + "'"}}, p.Spec.MatchConditions, "this drill's requests, no one else's")
			var exprs []string
			for _, v := range p.Spec.Validations {
				exprs = append(exprs, v.Expression)
				require.NotNil(t, v.Reason)
				assert.Equal(t, "Forbidden", string(*v.Reason))
				assert.Contains(t, v.Message, user)
			}
			assert.Equal(t, []string{
				"has(request.name) && request.name == 'firedrill-drill-reader'",
				"request.namespace in " + tt.targets,
				"request.operation == 'DELETE' || (object.roleRef.apiGroup == 'rbac.authorization.k8s.io' && object.roleRef.kind == 'ClusterRole' && object.roleRef.name == '" + readerName + "')",
				"request.operation == 'DELETE' || (has(object.subjects) && size(object.subjects) == 1 && object.subjects[0].kind == 'ServiceAccount' && object.subjects[0].name == '" + sa +
					"' && has(object.subjects[0].namespace) && object.subjects[0].namespace == 'firedrill')",
			}, exprs)
			b := m["ValidatingAdmissionPolicyBinding/"+policyName].(*admissionv1.ValidatingAdmissionPolicyBinding)
			assert.Equal(t, policyName, b.Spec.PolicyName)
			assert.Equal(t, []admissionv1.ValidationAction{admissionv1.Deny}, b.Spec.ValidationActions)
			assert.Nil(t, b.Spec.ParamRef)

			c := m["CronJob/"+sa].(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			assert.Equal(t, readerName, env["FIREDRILL_RESTORED_READER_ROLE"].Value)
			require.NotNil(t, env["FIREDRILL_SERVICE_ACCOUNT_NAME"].ValueFrom)
			assert.Equal(t, "spec.serviceAccountName", env["FIREDRILL_SERVICE_ACCOUNT_NAME"].ValueFrom.FieldRef.FieldPath)
			require.NotNil(t, env["FIREDRILL_SERVICE_ACCOUNT_NAMESPACE"].ValueFrom)
			assert.Equal(t, "metadata.namespace", env["FIREDRILL_SERVICE_ACCOUNT_NAMESPACE"].ValueFrom.FieldRef.FieldPath)
		})
	}
}

// Names of cluster-scoped objects differ per install namespace, and the
// policy's name is a DNS subdomain.
func TestNamesOf(t *testing.T) {
	n := namesOf("drills", "region-loss")
	assert.Equal(t, names{local: "firedrill-region-loss", shared: "firedrill:drills:region-loss", reader: "firedrill:drills:region-loss:restored",
		policy: "firedrill.drills.region-loss", crdPolicy: "firedrill.drills.region-loss.crds",
		repositoryPolicy: "firedrill.drills.region-loss.repositories", user: "system:serviceaccount:drills:firedrill-region-loss"}, n)
	assert.True(t, dnsSubdomain(n.policy))
	assert.True(t, dnsSubdomain(n.crdPolicy))
	assert.Equal(t, `'it\'s \\ fine'`, celString(`it's \ fine`))
}

// What a pod meets that a laptop does not: a read-only root, no home
// directory, the service account as its credentials, the image's PATH,
// the CronJob's time zone and SIGTERM at the Job's deadline.
func TestRender_WhatThePodMeets(t *testing.T) {
	podOf := func(o Options) corev1.PodSpec {
		t.Helper()
		cj := objectsOf(t, o)["CronJob/firedrill-region-loss"].(*batchv1.CronJob)
		return cj.Spec.JobTemplate.Spec.Template.Spec
	}
	envOf := func(c corev1.Container) map[string]string {
		m := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				m[e.Name] = e.Value
			}
		}
		return m
	}
	pod := podOf(options(find(t, "region-loss")))
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := envOf(c)

	// Everything written goes to an emptyDir: the record to the state
	// directory, kubectl's cache and velero's config under HOME.
	require.NotNil(t, c.SecurityContext.ReadOnlyRootFilesystem)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, "/tmp", env["HOME"])
	assert.Equal(t, "/tmp", env["TMPDIR"])
	assert.Equal(t, "/var/lib/firedrill", env["FIREDRILL_STATE_DIR"], "the state directory is named, not derived from HOME or XDG_DATA_HOME")
	assert.NotContains(t, env, "XDG_DATA_HOME")
	emptyDirs := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.EmptyDir != nil {
			emptyDirs[v.Name] = true
		}
	}
	for _, name := range []string{"HOME", "TMPDIR", "FIREDRILL_STATE_DIR"} {
		writable := false
		for _, m := range c.VolumeMounts {
			if !m.ReadOnly && emptyDirs[m.Name] && (env[name] == m.MountPath || strings.HasPrefix(env[name], m.MountPath+"/")) {
				writable = true
			}
		}
		assert.True(t, writable, "%s=%s is on no writable emptyDir", name, env[name])
	}

	// The image's user and PATH.
	require.NotNil(t, pod.SecurityContext.RunAsUser)
	assert.Equal(t, ociimage.User, fmt.Sprintf("%d:%d", *pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup))
	assert.Equal(t, ociimage.Path, env["PATH"])
	assert.Equal(t, "/usr/local/bin:/usr/bin:/bin", env["PATH"], "kubectl and velero, then busybox's applets")

	// The target's credentials are the service account's token, mounted.
	assert.Equal(t, "firedrill-region-loss", pod.ServiceAccountName)
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.True(t, *pod.AutomountServiceAccountToken)

	// The time zone of the schedule; UTC by the name every C library knows.
	assert.Equal(t, "UTC", env["TZ"])
	for zone, tz := range map[string]string{"Etc/UTC": "UTC", "UTC": "UTC", "Europe/Berlin": "Europe/Berlin", "America/New_York": "America/New_York"} {
		o := options(find(t, "region-loss"))
		o.TimeZone = zone
		assert.Equal(t, tz, envOf(podOf(o).Containers[0])["TZ"], zone)
		cj := objectsOf(t, o)["CronJob/firedrill-region-loss"].(*batchv1.CronJob)
		assert.Equal(t, zone, *cj.Spec.TimeZone)
	}

	// SIGTERM at the Job's deadline: the drill's cleanup timeout (10m for
	// region-loss), then four minutes for its report, upload and
	// notification, before the kubelet kills it.
	require.NotNil(t, pod.TerminationGracePeriodSeconds)
	assert.Equal(t, int64(10*60+4*60), *pod.TerminationGracePeriodSeconds)
	sc := find(t, "region-loss")
	sc.Spec.Cleanup.Timeout = scenarios.Duration(30 * time.Minute)
	pod = podOf(options(sc))
	assert.Equal(t, int64(30*60+4*60), *pod.TerminationGracePeriodSeconds)
}

// A render whose scenarios run programs besides firedrill (runbook steps,
// command checks) defaults to the runner image, one that runs firedrill
// alone to the firedrill image.
func TestDefaultImage(t *testing.T) {
	noPrograms := func() *scenarios.Scenario {
		sc := find(t, "testdata/shop-drill.yaml")
		sc.Spec.Runbook = nil
		sc.Spec.Checks = slices.DeleteFunc(sc.Spec.Checks, func(c scenarios.Check) bool { return c.Command != nil })
		return sc
	}
	onlyCommand := noPrograms()
	onlyCommand.Metadata.Name = "only-command"
	onlyCommand.Spec.Checks = append(onlyCommand.Spec.Checks, scenarios.Check{Name: "kubectl", Timeout: scenarios.DefaultCheckTimeout,
		Command: &scenarios.CommandCheck{Run: []string{"kubectl", "get", "pods"}}})
	tests := []struct {
		name string
		scs  []*scenarios.Scenario
		want string
	}{
		{"runbook steps", []*scenarios.Scenario{find(t, "region-loss")}, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3"},
		{"a command check", []*scenarios.Scenario{onlyCommand}, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3"},
		{"firedrill alone", []*scenarios.Scenario{noPrograms()}, "ghcr.io/firedrill-dev/firedrill:v1.2.3"},
		{"one of two", []*scenarios.Scenario{noPrograms(), find(t, "region-loss")}, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(tt.scs...)
			o.Image = ""
			got, err := DefaultImage(o, "v1.2.3")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	caveats, err := Caveats(options(noPrograms()))
	require.NoError(t, err)
	assert.Empty(t, caveats)
}

// TestRender_RBACForExecChecks: exec checks and file data canaries get
// pods/exec, narrowed to the pods they name; one that selects its pod by
// label cannot be narrowed and gets list on pods and exec in any pod.
func TestRender_RBACForExecChecks(t *testing.T) {
	named := find(t, "testdata/shop-drill.yaml")
	named.Spec.Checks = append(named.Spec.Checks,
		scenarios.Check{Name: "orders", Timeout: scenarios.DefaultCheckTimeout,
			Exec: &scenarios.ExecCheck{Namespace: "shop", Pod: "backend-0", Command: []string{"true"}}},
		scenarios.Check{Name: "volume-canary", Timeout: scenarios.DefaultCheckTimeout,
			DataCanary: &scenarios.DataCanaryCheck{Namespace: "shop", Pod: "backend-1", File: "/data/canary"}})
	objs := objectsOf(t, options(named))
	cr := objs["ClusterRole/firedrill:firedrill:shop-drill"].(*rbacv1.ClusterRole)
	verbs, names := verbsOf(cr.Rules, "pods/exec")
	assert.Equal(t, []string{"get", "create"}, verbs)
	assert.Equal(t, []string{"backend-0", "backend-1"}, names)
	for _, r := range cr.Rules {
		if len(r.ResourceNames) == 0 && !admitted(r) {
			assert.Subset(t, []string{"list", "watch"}, r.Verbs, "a rule without resourceNames only lists and watches: %+v", r)
		}
	}
	role := objs["Role/firedrill:firedrill:shop-drill"].(*rbacv1.Role)
	for _, res := range []string{"podvolumerestores", "podvolumebackups"} {
		verbs, _ := verbsOf(role.Rules, res)
		assert.Contains(t, verbs, "list", "in Velero's namespace: %s", res)
	}

	selected := find(t, "testdata/shop-drill.yaml")
	selected.Spec.Checks = append(selected.Spec.Checks, scenarios.Check{Name: "orders", Timeout: scenarios.DefaultCheckTimeout,
		Exec: &scenarios.ExecCheck{Namespace: "shop", Selector: "app=backend", Command: []string{"true"}}})
	cr = objectsOf(t, options(selected))["ClusterRole/firedrill:firedrill:shop-drill"].(*rbacv1.ClusterRole)
	verbs, names = verbsOf(cr.Rules, "pods/exec")
	assert.Equal(t, []string{"get", "create"}, verbs)
	assert.Empty(t, names, "a selector cannot be narrowed by name")
}

// A drill that restores from a copy deletes, at cleanup, the
// BackupRepositories Velero opened on the copy's location; RBAC cannot
// narrow that delete by name, so a policy admits it only for repositories
// labelled with that location. A drill restoring from the primary gets
// neither.
func TestRender_RepositoriesOfTheCopysLocation(t *testing.T) {
	m := objectsOf(t, options(find(t, "region-loss"), find(t, "ransomware-backup-storage")))
	_, plain := m["ValidatingAdmissionPolicy/firedrill.firedrill.region-loss.repositories"]
	assert.False(t, plain, "no copy, no repository policy")
	verbs, _ := verbsOf(m["Role/firedrill:firedrill:region-loss"].(*rbacv1.Role).Rules, "backuprepositories")
	assert.Empty(t, verbs)

	verbs, names := verbsOf(m["Role/firedrill:firedrill:ransomware-backup-storage"].(*rbacv1.Role).Rules, "backuprepositories")
	assert.Equal(t, []string{"list", "delete"}, verbs)
	assert.Empty(t, names)
	p, ok := m["ValidatingAdmissionPolicy/firedrill.firedrill.ransomware-backup-storage.repositories"].(*admissionv1.ValidatingAdmissionPolicy)
	require.True(t, ok, "the repository policy")
	require.Len(t, p.Spec.MatchConstraints.ResourceRules, 1)
	r := p.Spec.MatchConstraints.ResourceRules[0]
	assert.Equal(t, []admissionv1.OperationType{admissionv1.Delete}, r.Operations)
	assert.Equal(t, []string{"backuprepositories"}, r.Resources)
	assert.Equal(t, []string{"velero.io"}, r.APIGroups)
	require.Len(t, p.Spec.Validations, 1)
	assert.Equal(t, `has(oldObject.metadata.labels) && 'velero.io/storage-location' in oldObject.metadata.labels && `+
		`oldObject.metadata.labels['velero.io/storage-location'] == 'offsite-copy'`, p.Spec.Validations[0].Expression)
	assert.Equal(t, "request.userInfo.username == 'system:serviceaccount:firedrill:firedrill-ransomware-backup-storage'", p.Spec.MatchConditions[0].Expression)
	_, bound := m["ValidatingAdmissionPolicyBinding/firedrill.firedrill.ransomware-backup-storage.repositories"]
	assert.True(t, bound, "the policy is in force")
}
