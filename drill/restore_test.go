package drill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

const restoreScenario = `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit-restore}
spec:
  disaster:
    summary: ransomware encrypted the primary bucket
    lost: [primaryStorage]
    detection: alerts
    lead: on-call
  objectives: {rto: 1h, rpo: 24h}
  backups:
    schedule: daily
    includedNamespaces: [shop, shop-data]
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: primary
      objectLock: {mode: COMPLIANCE}
    copies:
      - name: offsite
        kind: offsite
        endpoint: http://127.0.0.1:2
        bucket: copy
        prefix: lab
        pathStyle: true
        credentials: {accessKeyIDEnv: K, secretAccessKeyEnv: S}
        storageLocation: lab-offsite
  target:
    kubeconfig: /dev/null
    namespaceMapping: {shop: shop-dr}
  checks:
    - name: web
      workloads: {namespace: shop}
    - name: canary
      dataCanary: {namespace: shop, configMap: c, key: k}
    - name: http
      http: {url: "http://127.0.0.1:3/", expectStatus: "200-204"}
    - name: shop-api-identity
      serviceAccount: {namespace: shop, name: shop-api}
    - name: legacy-token
      serviceAccount: {namespace: shop-data, name: ci-deployer, tokenSecret: ci-deployer-token}
    - name: web-through-api
      http: {service: {namespace: shop, name: web, port: http}, path: /healthz, expectStatus: 200, bodyContains: ok}
    - name: db-admin-through-api
      http: {service: {namespace: shop-data, name: db-admin, port: 8080}}
    - name: orders
      exec: {namespace: shop, selector: app=backend, container: backend, command: [wc, -l, /data/orders.log], expectRegexp: "^[1-9]"}
    - name: volume-canary
      dataCanary: {namespace: shop, pod: backend-0, file: /data/canary}
  cleanup: {policy: always}
`

func TestRestoreSpec_MapsScenario(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(restoreScenario))
	require.NoError(t, err)
	env := map[string]string{"K": "AKIDEXAMPLE", "S": "secret-value"}
	spec, err := RestoreSpec(sc, "fd-unit", func(k string) string { return env[k] })
	require.NoError(t, err)

	assert.Equal(t, "daily", spec.Backup.Schedule)
	assert.Equal(t, []string{"shop", "shop-dr"}, []string{spec.IncludedNamespaces[0], spec.TargetNamespace("shop")})
	assert.Equal(t, []string{"shop-dr", "shop-data"}, spec.TargetNamespaces())
	require.Len(t, spec.Phases, 3, "default phases")
	assert.Equal(t, "network-policies", spec.Phases[0].Name)
	assert.Equal(t, restore.CleanupAlways, spec.Cleanup)
	assert.Equal(t, 10*time.Minute, spec.PhaseTimeout)

	require.NotNil(t, spec.FromCopy, "primary storage lost: restore from the copy")
	assert.Equal(t, "lab-offsite", spec.FromCopy.StorageLocation)
	assert.Equal(t, map[string]string{"region": "us-east-1", "s3Url": "http://127.0.0.1:2", "s3ForcePathStyle": "true"}, spec.FromCopy.Config)
	assert.Contains(t, string(spec.FromCopy.Credentials), "aws_secret_access_key=secret-value")

	require.Len(t, spec.Checks, 9)
	assert.Equal(t, "shop-dr", spec.Checks[0].Workloads.Namespace, "namespace mapped")
	assert.Equal(t, "shop-dr", spec.Checks[1].DataCanary.Namespace)
	assert.Equal(t, 200, spec.Checks[2].HTTP.MinStatus)
	assert.Equal(t, 204, spec.Checks[2].HTTP.MaxStatus)
	assert.Nil(t, spec.Checks[2].HTTP.Service)
	assert.Equal(t, &restore.ServiceAccountCheck{Namespace: "shop-dr", Name: "shop-api"}, spec.Checks[3].ServiceAccount, "namespace mapped")
	assert.Equal(t, &restore.ServiceAccountCheck{Namespace: "shop-data", Name: "ci-deployer", TokenSecret: "ci-deployer-token"}, spec.Checks[4].ServiceAccount)
	assert.Equal(t, &restore.HTTPCheck{Service: &restore.ServiceRef{Namespace: "shop-dr", Name: "web", Port: "http"}, Path: "/healthz",
		MinStatus: 200, MaxStatus: 200, BodyContains: "ok"}, spec.Checks[5].HTTP, "namespace mapped")
	assert.Equal(t, &restore.HTTPCheck{Service: &restore.ServiceRef{Namespace: "shop-data", Name: "db-admin", Port: "8080"}, Path: "/",
		MinStatus: 200, MaxStatus: 299}, spec.Checks[6].HTTP, "the default path and status")
	assert.Equal(t, &restore.ExecCheck{PodChoice: restore.PodChoice{Namespace: "shop-dr", Selector: "app=backend", Container: "backend"},
		Command: []string{"wc", "-l", "/data/orders.log"}, ExpectRegexp: "^[1-9]"}, spec.Checks[7].Exec, "namespace mapped")
	assert.Equal(t, &restore.DataCanaryCheck{Namespace: "shop-dr", File: "/data/canary", Pod: restore.PodChoice{Namespace: "shop-dr", Pod: "backend-0"}},
		spec.Checks[8].DataCanary, "the file canary is read in the mapped namespace")
	for i, pr := range restore.PlanRestores(spec, "b") {
		assert.NotContains(t, pr.ExcludedResources, "pods", "phase %d: pods are restored, with their volume data", i)
	}

	plan, err := NewPlan(sc)
	require.NoError(t, err)
	for _, st := range plan.Steps {
		if st.Name != StepRestore {
			continue
		}
		got := restore.PlanRestores(spec, "b")
		require.Len(t, got, len(st.Phases), "plan and restore agree on the phases")
		for i, ph := range st.Phases {
			assert.Equal(t, ph.Name, got[i].Phase)
			assert.Equal(t, ph.IncludedResources, got[i].IncludedResources)
			assert.ElementsMatch(t, ph.ExcludedResources, got[i].ExcludedResources)
			assert.Equal(t, ph.NamespaceMapping, got[i].NamespaceMapping)
			assert.Equal(t, "lab-offsite", ph.StorageLocation)
		}
	}
}

func TestRestoreSpec_MissingCredentials(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(restoreScenario))
	require.NoError(t, err)
	_, err = RestoreSpec(sc, "fd-unit", func(string) string { return "" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "K and S not set")
}

// Only a scheduled drill's pod names a reader role; a drill run by hand
// binds nothing. A pod spec that names the role without the
// ServiceAccount is refused before anything is restored.
func TestRestoredReader(t *testing.T) {
	pod := map[string]string{EnvRestoredReaderRole: "firedrill:firedrill:shop-drill:restored",
		EnvServiceAccountName: "firedrill-shop-drill", EnvServiceAccountNamespace: "firedrill"}
	r, err := RestoredReader(func(k string) string { return pod[k] })
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, restore.Reader{ClusterRole: "firedrill:firedrill:shop-drill:restored", ServiceAccount: "firedrill-shop-drill", Namespace: "firedrill"}, *r)
	assert.Equal(t, "system:serviceaccount:firedrill:firedrill-shop-drill", r.User())

	r, err = RestoredReader(func(string) string { return "" })
	require.NoError(t, err)
	assert.Nil(t, r, "by hand: no reader, no binding")

	delete(pod, EnvServiceAccountNamespace)
	_, err = RestoredReader(func(k string) string { return pod[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FIREDRILL_RESTORED_READER_ROLE is set: reader of the restored namespaces: the ServiceAccount's namespace not set")
	assert.Contains(t, err.Error(), "FIREDRILL_SERVICE_ACCOUNT_NAMESPACE")
}

func TestRunbookEnv_ContractAndPassedVariablesOnly(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit}
spec:
  disaster: {summary: test, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 1h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: velero-backups
      objectLock: {mode: COMPLIANCE}
  target: {kubeconfig: /home/drill/.kube/config, context: scratch}
  runbook: {name: region-loss, passEnv: [VAULT_ADDR, UNSET_ONE]}
`))
	require.NoError(t, err)
	env := map[string]string{"VAULT_ADDR": "https://vault:8200", "AWS_SECRET_ACCESS_KEY": "s"}
	rec := NewRecovery(sc, RestoreOptions{Getenv: func(k string) string { return env[k] }})
	assert.Equal(t, []string{"VAULT_ADDR=https://vault:8200", "KUBECONFIG=/dev/null", "FIREDRILL_SCENARIO=unit",
		"FIREDRILL_VELERO_NAMESPACE=velero", "FIREDRILL_NAMESPACES=shop"}, rec.RunbookEnv(),
		"before a preflight wrote the private kubeconfig, never the user's own file")
}
