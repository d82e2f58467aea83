package scenarios

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testEnv knows one built-in runbook, so that unknown runbook names are
// checked without importing the runbooks package.
func testEnv() Env {
	return Env{RunbookExists: func(name string) bool { return name == "region-loss" }}
}

type wantErr struct {
	line int
	path string
	// msg must occur in the message.
	msg string
}

// TestLoad_Invalid loads every invalid fixture and expects exactly the
// listed errors: file, line and field path exactly, message by fragment.
func TestLoad_Invalid(t *testing.T) {
	const secretMsg = "inline secret not allowed: reference it with accessKeyIDEnv/secretAccessKeyEnv, profile or file"
	tests := map[string][]wantErr{
		"access-key-in-env-field": {{24, "spec.storage.primary.credentials.accessKeyIDEnv", "inline secret not allowed: accessKeyIDEnv takes the NAME of an environment variable that holds the secret, not the secret itself; this value looks like a credential (it is not shown): put it in an environment variable, write that variable's name here, and rotate the credential, since it was written in the file"}},
		"accepted-out-of-scope": {
			{18, "spec.backups.acceptedOutOfScope[0]", `"shop-cache" is not NAMESPACE/NAME of a PersistentVolumeClaim`},
			{18, "spec.backups.acceptedOutOfScope[1]", `namespace "billing" is not in spec.backups.includedNamespaces`},
			{18, "spec.backups.acceptedOutOfScope[3]", `"shop/cache" is listed twice`},
		},
		"allow-partially-failed":   {{18, "spec.backups.allowPartiallyFailed", "true or false"}},
		"api-version":              {{2, "apiVersion", `"firedrill.dev/v1" is not supported; use firedrill.dev/v1alpha1`}},
		"backup-name-and-schedule": {{18, "spec.backups.schedule", "set exactly one of backupName, schedule or window (or schedule with window); backupName is set too"}},
		"bucket-name":              {{22, "spec.storage.primary.bucket", `"Velero_Backups" is not a valid S3 bucket name`}},
		"check-command-empty":      {{33, "spec.checks[0].command.run", "must not be empty"}},
		"check-data-canary":        {{33, "spec.checks[0].dataCanary.key", "is required"}},
		"check-data-canary-file": {
			{36, "spec.checks[0].dataCanary.file", `"data/canary" must be an absolute path inside the container`},
			{42, "spec.checks[1].dataCanary.file", "set either configMap and key (a ConfigMap canary) or file or command (read in a restored pod), not both"},
			{48, "spec.checks[2].dataCanary.container", "applies only to a file canary"},
			{54, "spec.checks[3].dataCanary.command", "set either file (read with cat) or command (whose output is the canary), not both"},
		},
		"check-exec": {
			{36, "spec.checks[0].exec.selector", "set exactly one of pod or selector; pod is set too"},
			{42, "spec.checks[1].exec.command", "must not be empty"},
			{48, "spec.checks[2].exec.expectRegexp", `"^(2026" is not a regular expression`},
			{50, "spec.checks[3].exec", "set pod (a pod's name) or selector"},
			{54, "spec.checks[3].exec.expectRegexp", "set at most one of expectOutput or expectRegexp"},
		},
		"check-duplicate":              {{34, "spec.checks[1].name", `check "shop" is defined twice`}},
		"check-expect-status":          {{35, "spec.checks[0].http.expectStatus", `"2xx" is not a status code or range`}},
		"check-http-url":               {{34, "spec.checks[0].http.url", `"shop.example.com/healthz" is not an http or https URL`}},
		"check-namespace-mapped-name":  {{35, "spec.checks[0].dataCanary.namespace", `namespace "shop-restored" is the name spec.target.namespaceMapping gives "shop" in the target; write "shop"`}},
		"check-namespace-out-of-scope": {{34, "spec.checks[0].workloads.namespace", `namespace "billing" is not in spec.backups.includedNamespaces`}},
		"check-http-neither":           {{33, "spec.checks[0].http", "set exactly one of url (requested directly) or service (requested through the target API server's service proxy)"}},
		"check-http-path-with-url":     {{35, "spec.checks[0].http.path", "applies only to service; write the path in url"}},
		"check-http-service": {
			{34, "spec.checks[0].http.service.port", "is required"},
			{36, "spec.checks[0].http.service.name", `"1web" is not a valid Service name (it must start with a letter)`},
			{37, "spec.checks[0].http.path", `"healthz" must start with /`},
		},
		"check-http-service-port": {
			{34, "spec.checks[0].http.service.port", "70000 is not a port number (1-65535) or port name"},
			{37, "spec.checks[1].http.service.port", `"HTTP_PORT" is not a port number (1-65535) or port name`},
		},
		"check-http-url-and-service": {{35, "spec.checks[0].http.service", "set exactly one of url or service; url is set too"}},
		"check-service-account": {
			{33, "spec.checks[0].serviceAccount.name", "is required"},
			{34, "spec.checks[0].serviceAccount.namespace", `namespace "billing" is not in spec.backups.includedNamespaces`},
			{35, "spec.checks[0].serviceAccount.tokenSecret", `"Shop_Token" is not a valid Kubernetes object name`},
		},
		"check-no-kind":               {{32, "spec.checks[0]", "set exactly one of workloads, http, tcp, command, exec, dataCanary or serviceAccount"}},
		"check-tcp-address":           {{34, "spec.checks[0].tcp.address", `"db.shop.svc" is not host:port`}},
		"check-timeout":               {{34, "spec.checks[0].timeout", `"soon" is not a duration`}},
		"check-two-kinds":             {{34, "spec.checks[0].http", "set exactly one of workloads, http, tcp, command, exec, dataCanary or serviceAccount; workloads is set too"}},
		"cleanup-policy":              {{32, "spec.cleanup.policy", `"sometimes" is not one of onSuccess, always, never`}},
		"copy-compare-mode":           {{34, "spec.storage.copies[0].compare.mode", `"vibes" is not one of existence, size, checksum, content, sampled`}},
		"copy-duplicate":              {{34, "spec.storage.copies[1].name", `copy "offsite" is defined twice`}},
		"copy-is-primary":             {{33, "spec.storage.copies[0].bucket", "is the primary bucket itself"}},
		"evidence-into-backup-bucket": {{34, "spec.evidence.push.bucket", "is the backup bucket of spec.storage.primary"}},
		"evidence-push": {
			{35, "spec.evidence.push.objectLock", "not used for evidence"},
			{36, "spec.evidence.push.lockMode", `"FOREVER" is not one of COMPLIANCE, GOVERNANCE`},
		},
		"copy-kind": {{31, "spec.storage.copies[0].kind", `"tape" is not one of offsite, offcloud`}},
		"copy-missing-fields": {
			{30, "spec.storage.copies[0].endpoint", "is required"},
			{30, "spec.storage.copies[0].bucket", "is required"},
		},
		"copy-percent-not-sampled":     {{36, "spec.storage.copies[0].compare.samplePercent", "applies only to mode sampled"}},
		"copy-percent-range":           {{36, "spec.storage.copies[0].compare.samplePercent", "must be between 1 and 100"}},
		"copy-replication-lag":         {{36, "spec.storage.copies[0].maxReplicationLag", `"0s" must be greater than zero`}, {41, "spec.storage.copies[1].maxReplicationLag", `"-5m" must be greater than zero`}},
		"copy-sampled-no-percent":      {{34, "spec.storage.copies[0].compare.samplePercent", "is required with mode sampled"}},
		"copy-storage-location-clash":  {{34, "spec.storage.copies[0].storageLocation", `"default" is already the primary bucket's storage location`}},
		"credentials-env-name":         {{24, "spec.storage.primary.credentials.accessKeyIDEnv", "must name an environment variable"}},
		"credentials-half":             {{23, "spec.storage.primary.credentials.secretAccessKeyEnv", "is required"}},
		"credentials-mixed":            {{23, "spec.storage.primary.credentials", "use either accessKeyIDEnv/secretAccessKeyEnv or profile/file, not both"}},
		"declared-at":                  {{13, "spec.disaster.declaredAt", `"yesterday" is not an RFC 3339 time`}},
		"description-multiline":        {{6, "metadata.description", "must be one line"}},
		"duplicate-key":                {{16, "spec.objectives.rto", "set twice (first on line 14)"}},
		"duration":                     {{14, "spec.objectives.rto", `"4hours" is not a duration`}},
		"duration-number":              {{14, "spec.objectives.rto", "4 is not a duration"}},
		"duration-zero":                {{15, "spec.objectives.rpo", `"0s" must be greater than zero`}},
		"empty":                        {{1, "", "the file is empty"}},
		"endpoint":                     {{21, "spec.storage.primary.endpoint", `"ftp://s3.example.com" is not an http or https URL`}},
		"endpoint-userinfo":            {{21, "spec.storage.primary.endpoint", secretMsg}},
		"governance":                   {{27, "spec.storage.primary.objectLock.mode", "set allowGovernance: true to accept that"}},
		"included-namespaces-missing":  {{16, "spec.backups.includedNamespaces", "is required"}},
		"included-namespaces-wildcard": {{18, "spec.backups.includedNamespaces[1]", "list the namespaces to restore"}},
		"inline-secret": {
			{23, "spec.storage.primary.credentials.secretAccessKeyEnv", "is required"},
			{25, "spec.storage.primary.credentials.secretAccessKey", secretMsg},
		},
		"inline-secret-nested": {
			{23, "spec.storage.primary.credentials", "set accessKeyIDEnv and secretAccessKeyEnv, or profile"},
			{24, "spec.storage.primary.credentials.static", "unknown field"},
			{26, "spec.storage.primary.credentials.static.password", secretMsg},
		},
		"inline-token":                {{26, "spec.storage.primary.credentials.token", secretMsg}},
		"kind":                        {{3, "kind", `"Drill" is not supported; use Scenario`}},
		"lost-empty":                  {{9, "spec.disaster.lost", "must not be empty"}},
		"lost-namespace-out-of-scope": {{10, "spec.disaster.lostNamespaces[1]", `namespace "billing" is not in spec.backups.includedNamespaces`}},
		"lost-namespaces-missing":     {{7, "spec.disaster.lostNamespaces", "is required"}},
		"lost-namespaces-unexpected":  {{10, "spec.disaster.lostNamespaces", "set only when lost includes namespace"}},
		"lost-value":                  {{9, "spec.disaster.lost[1]", `"datacenter" is not one of sourceCluster, primaryStorage, region, namespace`}},
		"many-errors": {
			{6, "metadata.labels", "unknown field; valid fields are description, name"},
			{15, "spec.objectives.rto", `"4hours" is not a duration`},
			{23, "spec.storage.primary.bucket", "is not a valid S3 bucket name"},
			{32, "spec.target.namespaceMapping.billing", "is not in spec.backups.includedNamespaces"},
		},
		"merge-key":                   {{14, "spec.objectives", "merge keys (<<) are not supported"}},
		"missing-name":                {{4, "metadata.name", "is required"}},
		"missing-summary":             {{7, "spec.disaster.summary", "is required"}},
		"name-format":                 {{5, "metadata.name", `"Shop_Test" is not a valid name`}},
		"namespace-mapping":           {{33, "spec.target.namespaceMapping.billing", `namespace "billing" is not in spec.backups.includedNamespaces`}},
		"namespace-mapping-collision": {{32, "spec.target.namespaceMapping.shop", `maps to "shop-data", which is also restored under its own name`}},
		"no-backup-selector":          {{16, "spec.backups", "set exactly one of backupName, schedule or window"}},
		"not-mapping":                 {{2, "", "expected a mapping with apiVersion, kind, metadata and spec, got a list"}},
		"object-lock-missing":         {{20, "spec.storage.primary.objectLock", "is required"}},
		"object-lock-mode":            {{27, "spec.storage.primary.objectLock.mode", `"STRICT" is not one of COMPLIANCE, GOVERNANCE`}},
		"phase-duplicate":             {{35, "spec.target.restore.phases[1].name", `phase "first" is defined twice`}},
		"phase-includes-excluded":     {{34, "spec.target.restore.phases[0].includedResources[1]", `"replicasets.apps" is excluded from every phase`}},
		"phases-empty":                {{32, "spec.target.restore.phases", "must list at least one phase"}},
		"primary-storage-lost":        {{9, "spec.disaster.lost[1]", "primaryStorage is lost but no entry of spec.storage.copies has a storageLocation"}},
		"restore-timeout":             {{32, "spec.target.restore.timeout", `"-5m" must be greater than zero`}},
		"retention-duration":          {{28, "spec.storage.primary.objectLock.minRetention", `"a week" is not a duration`}},
		"runbook-both":                {{31, "spec.runbook.file", "set either name (a built-in runbook) or file, not both"}},
		"runbook-empty":               {{31, "spec.runbook", "set name (a built-in runbook) or file"}},
		"runbook-file-missing":        {{32, "spec.runbook.file", `runbook file "no-such-runbook.md" does not exist`}},
		"runbook-unknown-name":        {{32, "spec.runbook.name", `no built-in runbook named "no-such-runbook"`}},
		"two-documents":               {{31, "", "a scenario file holds one YAML document"}},
		"type-bool":                   {{23, "spec.storage.primary.pathStyle", "expected true or false, got a string"}},
		"type-list":                   {{18, "spec.backups.includedNamespaces", "expected a list, got a string"}},
		"type-mapping":                {{13, "spec.objectives", "expected a mapping, got a string"}},
		"type-string":                 {{12, "spec.disaster.lead", "expected a string, got an integer"}},
		"unknown-field":               {{16, "spec.objectives.tierr", `unknown field; did you mean "tier"?`}},
		"compliance": {
			{17, "spec.objectives.errorBudget.target", "1.5 is not a share greater than 0 and at most 1"},
			{18, "spec.compliance[2]", `"soc-2" is not one of dora, pci-dss, soc2, iso27001, nis2, hipaa; did you mean "soc2"?`},
			{18, "spec.compliance[3]", "dora is listed twice"},
		},
		"unknown-top-level": {{31, "status", "unknown field; valid fields are apiVersion, kind, metadata, spec"}},
		"endpoint-region": {
			{21, "spec.storage.primary.endpoint", "endpoint s3.eu-west-1.amazonaws.com is in region eu-west-1 but region is not set, so requests are signed for us-east-1, which it refuses; set spec.storage.primary.region: eu-west-1"},
			{29, "spec.storage.copies[0].region", "endpoint s3.eu-central-1.wasabisys.com is in region eu-central-1 but region is us-east-1, which it refuses; set spec.storage.copies[0].region: eu-central-1"},
		},
		"endpoint-virtual-host": {
			{21, "spec.storage.primary.endpoint", "already holds bucket velero-backups (virtual-hosted style), and bucket is set too, so requests would address it twice; set endpoint: https://s3.eu-west-1.amazonaws.com and keep bucket: velero-backups"},
			{29, "spec.storage.copies[0].endpoint", "is the address of bucket other-bucket (virtual-hosted style), but bucket is velero-copy; set endpoint: https://s3.us-west-004.backblazeb2.com and bucket to the bucket that holds the backups"},
		},
		"runbook-pass-env": {
			{35, "spec.runbook.passEnv[1]", "SHOP_S3_SECRET holds a credential of the scenario"},
			{36, "spec.runbook.passEnv[2]", "AWS_PROFILE is firedrill's own"},
			{37, "spec.runbook.passEnv[3]", "FIREDRILL_EVIDENCE_KEY_FILE is firedrill's own"},
			{38, "spec.runbook.passEnv[4]", "KUBECONFIG is firedrill's own"},
			{39, "spec.runbook.passEnv[5]", "inline secret not allowed: passEnv takes the NAME of an environment variable to pass to the runbook's steps (never one holding a credential), not the secret itself"},
			{40, "spec.runbook.passEnv[6]", "must name an environment variable"},
		},
		"goal-empty": {{13, "spec.disaster.goals[1]", "must not be empty"}},
		"max-retention": {
			{17, "spec.objectives.maxRetention", "5d is shorter than retention 7d"},
			{30, "spec.storage.primary.objectLock.minRetention", "7d locks each backup longer than objectives.maxRetention 5d"},
		},
		"max-retention-lock": {{30, "spec.storage.primary.objectLock.minRetention", "365d locks each backup longer than objectives.maxRetention 30d: a COMPLIANCE lock cannot be lifted"}},
		"schedule-cron":      {{18, "spec.backups.scheduleCron", `"CRON_TZ=Mars/Olympus 0 2 * * *" is not a cron expression Velero accepts`}},
		"window-pick":        {{19, "spec.backups.window.pick", `"oldest" is not one of latest, random`}},
		"window-seed-latest": {{17, "spec.backups.window.seed", "applies only to pick: random"}},
		"window-within":      {{17, "spec.backups.window", "within is required unless spec.objectives.retention is set (the window then reaches back that far)"}},
		"window-past-max-retention": {{20, "spec.backups.window.within",
			"30d reaches further back than objectives.maxRetention 14d: no backup may be kept that long; look back at most 14d"}},
		"yaml-syntax":         {{12, "", "invalid YAML: did not find expected key"}},
		"yaml-tab":            {{12, "", "invalid YAML: found a tab character"}},
		"yaml-unclosed-quote": {{11, "", "invalid YAML: found unexpected end of stream"}},
	}

	files, err := filepath.Glob("testdata/invalid-*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "invalid-"), ".yaml")
		assert.Contains(t, tests, name, "fixture %s has no expected errors in this test", f)
	}
	require.GreaterOrEqual(t, len(tests), 25)

	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", "invalid-"+name+".yaml")
			sc, err := LoadFile(context.Background(), testEnv(), file)
			require.Error(t, err)
			assert.Nil(t, sc)

			var verrs ValidationErrors
			require.True(t, errors.As(err, &verrs), "want ValidationErrors, got %T: %v", err, err)
			require.Len(t, verrs, len(want), "errors:\n%v", err)
			for i, w := range want {
				got := verrs[i]
				assert.Equal(t, file, got.File)
				assert.Equal(t, w.line, got.Line, "line of %q", got)
				assert.Equal(t, w.path, got.Path, "path of %q", got)
				assert.Contains(t, got.Message, w.msg)
				assert.True(t, strings.HasPrefix(got.Error(), file+":"+strconv.Itoa(w.line)+": "), "%q starts with file:line", got)
			}
		})
	}
}

// TestLoad_InlineSecretNeverEchoed makes sure no error message repeats a
// secret, wherever it was written.
func TestLoad_InlineSecretNeverEchoed(t *testing.T) {
	secrets := map[string]string{
		"invalid-inline-secret.yaml":           "wJalrXUtnFEMI",
		"invalid-inline-secret-nested.yaml":    "hunter2",
		"invalid-inline-token.yaml":            "eyJhbGciOiJIUzI1NiJ9",
		"invalid-endpoint-userinfo.yaml":       "hunter2",
		"invalid-access-key-in-env-field.yaml": "AKIAIOSFODNN7EXAMPLE",
		// issue 15, section 1: a secret key where a variable's name belongs.
		"security/secret-as-envname.yaml": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1",
		"invalid-runbook-pass-env.yaml":   "AKIAIOSFODNN7EXAMPLE",
	}
	for file, secret := range secrets {
		t.Run(file, func(t *testing.T) {
			_, err := LoadFile(context.Background(), Env{}, filepath.Join("testdata", file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "inline secret not allowed")
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestLoad_Valid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadFile(context.Background(), testEnv(), f)
			require.NoError(t, err)
			assert.Equal(t, f, sc.Origin.File)
			assert.NotEmpty(t, sc.Metadata.Name)
		})
	}
}

func TestLoad_Defaults(t *testing.T) {
	sc, err := LoadFile(context.Background(), testEnv(), "testdata/valid-minimal.yaml")
	require.NoError(t, err)
	s := sc.Spec
	assert.Equal(t, "velero", s.Backups.VeleroNamespace)
	assert.Equal(t, "default", s.Backups.StorageLocation)
	assert.Equal(t, "us-east-1", s.Storage.Primary.Region)
	assert.Equal(t, DefaultPhases(), s.Target.Restore.Phases)
	assert.Equal(t, DefaultExcludedResources(), s.Target.Restore.ExcludedResources)
	assert.Equal(t, Duration(10*time.Minute), s.Target.Restore.Timeout)
	assert.Equal(t, CleanupOnSuccess, s.Cleanup.Policy)
	assert.Equal(t, Duration(5*time.Minute), s.Cleanup.Timeout)
	assert.True(t, s.Disaster.DeclaredAt.IsZero(), "declaredAt defaults to the drill's start, decided at run time")
	assert.Nil(t, s.Runbook)
}

func TestLoad_FullScenario(t *testing.T) {
	env := testEnv()
	env.HomeDir = "/home/drill"
	sc, err := LoadFile(context.Background(), env, "testdata/valid-full.yaml")
	require.NoError(t, err)
	s := sc.Spec
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)

	assert.Equal(t, "Everything a scenario can say", sc.Metadata.Description)
	assert.Equal(t, []Loss{LossSourceCluster, LossPrimaryStorage, LossRegion, LossNamespace}, s.Disaster.Lost)
	assert.Equal(t, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), s.Disaster.DeclaredAt.UTC())
	assert.Contains(t, s.Disaster.Narrative, "second line")
	assert.Equal(t, Duration(90*time.Minute), s.Objectives.RTO)
	assert.Equal(t, Duration(14*24*time.Hour), s.Objectives.RPO, "2w is two weeks")
	assert.Equal(t, ErrorBudget{Target: 0.9, Window: Duration(180 * 24 * time.Hour)}, s.Objectives.Budget())
	assert.Equal(t, []string{"dora", "soc2"}, s.Compliance)
	assert.Equal(t, []string{"restore the shop within the 1h30m RTO", "prove the off-site copy is complete"}, s.Disaster.Goals)
	assert.Equal(t, Duration(7*24*time.Hour), s.Objectives.Retention)
	assert.Equal(t, Duration(30*24*time.Hour), s.Objectives.MaxRetention)
	assert.Equal(t, "CRON_TZ=Europe/Berlin 0 1 * * *", s.Backups.ScheduleCron)
	assert.Len(t, sc.Origin.SHA256, 64, "the SHA-256 of the file's bytes, hex")
	assert.Equal(t, ErrorBudget{Target: DefaultErrorBudgetTarget, Window: DefaultErrorBudgetWindow}, Objectives{}.Budget(), "the defaults")
	assert.Equal(t, PickRandom, s.Backups.Window.Pick)
	require.NotNil(t, s.Backups.Window.Seed)
	assert.Equal(t, int64(42), *s.Backups.Window.Seed)
	assert.True(t, s.Backups.AllowPartiallyFailed)
	assert.Equal(t, filepath.Join(dir, "ca.pem"), s.Storage.Primary.CAFile, "relative paths are relative to the scenario file")
	assert.Equal(t, "/home/drill/.aws/credentials", s.Storage.Copies[1].Credentials.File, "~ is the home directory")
	assert.Equal(t, CompareChecksum, s.Storage.Copies[1].Compare.Mode, "compare mode defaults to checksum")
	assert.Equal(t, 10, s.Storage.Copies[0].Compare.SamplePercent)
	assert.Equal(t, map[string]string{"shop": "shop-drill"}, s.Target.NamespaceMapping)
	assert.Equal(t, []string{}, s.Target.Restore.ExcludedResources, "an explicit empty list excludes nothing")
	assert.Equal(t, "shop-drill", s.Target.TargetNamespace("shop"))
	assert.Equal(t, "shop-data", s.Target.TargetNamespace("shop-data"))
	assert.Equal(t, []string{"VAULT_ADDR", "http_proxy"}, s.Runbook.PassEnv)

	kinds := make([]CheckKind, len(s.Checks))
	for i, c := range s.Checks {
		kinds[i] = c.Kind()
	}
	assert.Equal(t, []CheckKind{CheckWorkloads, CheckHTTP, CheckTCP, CheckCommand, CheckDataCanary,
		CheckServiceAccount, CheckServiceAccount, CheckHTTP, CheckHTTP}, kinds)
	assert.Equal(t, StatusRange{Min: 200, Max: 204}, s.Checks[1].HTTP.ExpectStatus)
	assert.Empty(t, s.Checks[1].HTTP.Path, "a URL carries its own path")
	assert.Equal(t, ServiceAccountCheck{Namespace: "shop", Name: "shop-api"}, *s.Checks[5].ServiceAccount)
	assert.Equal(t, "ci-deployer-token", s.Checks[6].ServiceAccount.TokenSecret)
	assert.Equal(t, HTTPCheck{Service: &ServiceRef{Namespace: "shop", Name: "web", Port: ServicePort{Number: 80}},
		Path: "/healthz", ExpectStatus: StatusRange{Min: 200, Max: 200}, BodyContains: "ok"}, *s.Checks[7].HTTP)
	assert.Equal(t, ServicePort{Name: "http"}, s.Checks[8].HTTP.Service.Port)
	assert.Equal(t, "/", s.Checks[8].HTTP.Path, "path defaults to /")
	assert.Equal(t, DefaultExpectStatus(), s.Checks[8].HTTP.ExpectStatus)
	assert.Equal(t, DefaultCheckTimeout, s.Checks[0].Timeout)
	assert.Equal(t, filepath.Join(dir, "runbook.md"), s.Runbook.File)

	require.NotNil(t, s.Evidence)
	require.NotNil(t, s.Evidence.Push)
	assert.Equal(t, "dr-evidence", s.Evidence.Push.Bucket.Bucket)
	assert.Equal(t, Duration(3650*24*time.Hour), s.Evidence.Push.Retention)
	assert.Equal(t, LockCompliance, s.Evidence.Push.LockMode, "evidence is locked in COMPLIANCE mode by default")

	location, from := sc.RestoreFrom()
	assert.Equal(t, "offsite-copy", location)
	require.NotNil(t, from)
	assert.Equal(t, "offsite", from.Name)

	assert.Equal(t, 13, sc.Line("spec.disaster.lost"), "Line finds where a field was written")
	assert.Equal(t, sc.Line("spec.checks[2]"), sc.Line("spec.checks[2].nope"), "Line falls back to the nearest written ancestor")
}

func TestLoad_AnchorsAndAliases(t *testing.T) {
	sc, err := LoadFile(context.Background(), testEnv(), "testdata/valid-anchors.yaml")
	require.NoError(t, err)
	assert.Equal(t, sc.Spec.Storage.Primary.Credentials, sc.Spec.Storage.Copies[0].Credentials)
}

func TestParse_TooManyAliases(t *testing.T) {
	// 3000 checks, each an alias of one check whose command has 3000
	// arguments: 9 million nodes once expanded, from a 30 kB file.
	var b strings.Builder
	b.WriteString("x-arg: &arg a\nx-run: &run [")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*arg")
	}
	b.WriteString("]\nx-check: &check {name: c, command: {run: *run}}\nspec:\n  checks: [")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*check")
	}
	b.WriteString("]\n")
	start := time.Now()
	_, err := Parse(Env{}, "bomb.yaml", []byte(b.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the document is too large")
	assert.Less(t, time.Since(start), 5*time.Second, "the node budget stops the expansion")
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"4h", 4 * time.Hour, false},
		{"1h30m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"7y", 7 * 365 * 24 * time.Hour, false},
		{"0d", 0, false},
		{"4hours", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"99999999999999999999d", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Duration(tt.want), got)
		})
	}
}

func TestDuration_String(t *testing.T) {
	tests := map[time.Duration]string{
		4 * time.Hour:       "4h",
		24 * time.Hour:      "24h",
		90 * time.Minute:    "1h30m",
		30 * time.Minute:    "30m",
		7 * 24 * time.Hour:  "7d",
		14 * 24 * time.Hour: "14d",
		90 * time.Second:    "1m30s",
	}
	for d, want := range tests {
		assert.Equal(t, want, Duration(d).String())
		back, err := ParseDuration(want)
		require.NoError(t, err)
		assert.Equal(t, Duration(d), back, "String reads back")
	}
}

// TestMarshalYAML_RoundTrip shows that `scenarios show` output is itself a
// valid scenario meaning the same thing.
func TestMarshalYAML_RoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadFile(context.Background(), testEnv(), f)
			require.NoError(t, err)
			data, err := MarshalYAML(sc)
			require.NoError(t, err)
			// Paths are absolute after loading, so the copy can live anywhere.
			out := filepath.Join(t.TempDir(), "copy.yaml")
			require.NoError(t, os.WriteFile(out, data, 0o600))
			again, err := LoadFile(context.Background(), testEnv(), out)
			require.NoError(t, err, "%s", data)
			assert.Equal(t, sc.Spec, again.Spec)
			assert.Equal(t, sc.Metadata, again.Metadata)
		})
	}
}

func TestMarshalJSON_KeepsFieldOrder(t *testing.T) {
	sc, err := LoadFile(context.Background(), testEnv(), "testdata/valid-minimal.yaml")
	require.NoError(t, err)
	data, err := MarshalJSON(sc)
	require.NoError(t, err)
	s := string(data)
	order := []string{`"apiVersion"`, `"kind"`, `"metadata"`, `"spec"`, `"disaster"`, `"objectives"`, `"backups"`}
	idx := make([]int, len(order))
	for i, k := range order {
		idx[i] = strings.Index(s, k)
		require.GreaterOrEqual(t, idx[i], 0, "%s in %s", k, s)
	}
	assert.True(t, slices.IsSorted(idx), "fields keep the YAML order: %v", idx)
	assert.Contains(t, s, `"rto": "1h"`)
}

// TestLoad_VolumeDataChecks reads an exec check and a file data canary as
// written: expectOutput "" is kept apart from an unset one.
// errorBudget.target: 1 says every drill must meet RTO and RPO: valid.
func TestLoad_ErrorBudgetTargetOne(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-volume-data.yaml")
	require.NoError(t, err)
	data = []byte(strings.Replace(string(data), "    rpo: 6h\n", "    rpo: 6h\n    errorBudget: {target: 1}\n", 1))
	require.Contains(t, string(data), "target: 1")
	sc, err := Parse(testEnv(), "budget.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, 1.0, sc.Spec.Objectives.Budget().Target)
}

func TestLoad_VolumeDataChecks(t *testing.T) {
	sc, err := LoadFile(context.Background(), testEnv(), "testdata/valid-volume-data.yaml")
	require.NoError(t, err)
	cs := sc.Spec.Checks
	require.Len(t, cs, 4)
	require.NotNil(t, cs[0].Exec)
	assert.Equal(t, CheckExec, cs[0].Kind())
	assert.Equal(t, ExecCheck{Namespace: "shop-data", Selector: "app=backend", Container: "backend",
		Command: []string{"sh", "-c", "wc -l < /data/orders.log"}, ExpectRegexp: `^[1-9][0-9]*\n?$`}, *cs[0].Exec)
	require.NotNil(t, cs[1].Exec.ExpectOutput)
	assert.Equal(t, "", *cs[1].Exec.ExpectOutput)
	assert.Equal(t, "backend-0", cs[1].Exec.Pod)
	assert.Equal(t, DataCanaryCheck{Namespace: "shop-data", Selector: "app=backend", File: "/data/canary"}, *cs[2].DataCanary)
	assert.Equal(t, DataCanaryCheck{Namespace: "shop-data", Pod: "db-0", Container: "db", Command: []string{"/shop", "cat", "/data/canary"}}, *cs[3].DataCanary)
}

// TestDefaultExcludedResources_RestorePods: pods are restored by default,
// since file-system backup data comes back only through pods Velero
// restores (see DefaultExcludedResources).
func TestDefaultExcludedResources_RestorePods(t *testing.T) {
	assert.NotContains(t, DefaultExcludedResources(), "pods")
	for _, ph := range DefaultPhases() {
		assert.NotContains(t, ph.ExcludedResources, "pods", ph.Name)
	}
	assert.Equal(t, []string{"namespaces", NetworkPolicies}, DefaultPhases()[0].IncludedResources, "namespaces and NetworkPolicies still come first")
}
