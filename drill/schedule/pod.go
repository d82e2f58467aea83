package schedule

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/ociimage"
	"github.com/firedrill-dev/firedrill/internal/procenv"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Where the pod finds what the manifests give it. The scenario's own
// directory holds everything a scenario names by a relative path, so the
// scenario file stays loadable as it is.
const (
	scenarioDir          = "/etc/firedrill/scenario"
	sourceDir            = "/etc/firedrill/source"
	awsDir               = "/etc/firedrill/aws"
	stateDir             = "/var/lib/firedrill"
	tmpDir               = "/tmp"
	inClusterKubeconfig  = "in-cluster.kubeconfig"
	sourceKubeconfigKey  = "kubeconfig"
	awsCredentialsKey    = "credentials"
	serviceAccountDir    = "/var/run/secrets/kubernetes.io/serviceaccount"
	historyAccessKeyEnv  = procenv.HistoryAccessKeyID
	historySecretKeyEnv  = procenv.HistorySecretAccessKey
	evidenceKeyEnv       = procenv.EvidenceKey
	evidenceAccessKeyEnv = procenv.EvidenceAccessKeyID
	evidenceSecretKeyEnv = procenv.EvidenceSecretAccessKey
	scenarioSearchEnv    = "FIREDRILL_SCENARIOS"
	stateDirEnv          = "FIREDRILL_STATE_DIR"
)

// afterSIGTERM is what a drill stopped by SIGTERM does besides its
// cleanup, at most: the report (a minute, drill.Run's report step), its
// final upload to the shared history (30 s an attempt, three attempts),
// the metrics push (a minute) and the notification (30 s by default).
// The running step stops at once: a runbook step's process group is killed.
const afterSIGTERM = 4 * time.Minute

// podTZ is the pod's TZ for the schedule's time zone. UTC by that name:
// the C library of the runner image's shell reads "UTC" without zone
// files, and "Etc/UTC" only with them.
func podTZ(zone string) string {
	switch zone {
	case "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu":
		return "UTC"
	}
	return zone
}

// inClusterKubeconfigText points at the cluster the pod runs in through
// its service account: the token file (which the kubelet rotates and
// client-go re-reads) and the cluster's CA. It holds no secret, only paths,
// so it goes in the ConfigMap. A kubeconfig file rather than an empty
// spec.target.kubeconfig keeps scenario files meaning one thing everywhere,
// and gives command checks and runbook steps a $KUBECONFIG that works.
const inClusterKubeconfigText = `apiVersion: v1
kind: Config
clusters:
- name: in-cluster
  cluster:
    server: https://kubernetes.default.svc
    certificate-authority: ` + serviceAccountDir + `/ca.crt
users:
- name: service-account
  user:
    tokenFile: ` + serviceAccountDir + `/token
contexts:
- name: in-cluster
  context: {cluster: in-cluster, user: service-account, namespace: default}
current-context: in-cluster
`

// podScenario is a scenario as the pod runs it, and what it needs.
type podScenario struct {
	sc *scenarios.Scenario
	// files are the ConfigMap's data: the scenario file, its runbook, CA
	// bundles and the in-cluster kubeconfig.
	files map[string]string
	// credentialEnvs are the environment variables the scenario reads
	// credentials from, sorted.
	credentialEnvs []string
	// awsCredentials is set when a bucket names a profile or a file.
	awsCredentials bool
	// source is set when the scenario names a source cluster.
	source bool
	// evidencePush is set when the scenario pushes its evidence
	// (spec.evidence.push): the signing key is then required.
	evidencePush bool
	// runbookSteps and commandChecks count what runs other programs.
	runbookSteps, commandChecks int
}

// forPod rewrites what in sc points at the author's machine to what the
// pod has: the target is the cluster the pod runs in, the source's
// kubeconfig and any shared AWS credentials file come from Secrets, and
// the runbook and CA files are copied next to the scenario. Credentials
// stay references. sc itself is not changed.
func forPod(orig *scenarios.Scenario, readFile func(string) ([]byte, error)) (*podScenario, error) {
	name := orig.Metadata.Name
	data, err := scenarios.MarshalYAML(orig)
	if err != nil {
		return nil, err
	}
	// A copy to change: the scenario as written, defaults filled in.
	sc, err := scenarios.Parse(scenarios.Env{}, "", data)
	if err != nil {
		return nil, fmt.Errorf("copy scenario %s: %w", name, err)
	}
	ps := &podScenario{sc: sc, files: map[string]string{inClusterKubeconfig: inClusterKubeconfigText}}
	s := &sc.Spec
	s.Target.Kubeconfig, s.Target.Context = inClusterKubeconfig, ""
	if s.Source.Kubeconfig != "" || s.Source.Context != "" {
		// The context stays: the Secret holds a kubeconfig that has it.
		s.Source.Kubeconfig = path.Join(sourceDir, sourceKubeconfigKey)
		ps.source = true
	}
	envs := map[string]bool{}
	buckets := []struct {
		field string
		b     *scenarios.Bucket
	}{{"spec.storage.primary", &s.Storage.Primary}}
	for i := range s.Storage.Copies {
		buckets = append(buckets, struct {
			field string
			b     *scenarios.Bucket
		}{fmt.Sprintf("spec.storage.copies[%d]", i), &s.Storage.Copies[i].Bucket})
	}
	if e := s.Evidence; e != nil && e.Push != nil {
		ps.evidencePush = true
		buckets = append(buckets, struct {
			field string
			b     *scenarios.Bucket
		}{"spec.evidence.push", &e.Push.Bucket})
	}
	for i, bk := range buckets {
		b := bk.b
		if c := b.Credentials; c != nil {
			for _, e := range []string{c.AccessKeyIDEnv, c.SecretAccessKeyEnv, c.SessionTokenEnv} {
				if e != "" {
					envs[e] = true
				}
			}
			if c.Profile != "" || c.File != "" {
				c.File = path.Join(awsDir, awsCredentialsKey)
				ps.awsCredentials = true
			}
		}
		if b.CAFile != "" {
			ca, err := readFile(caFileOf(orig, i))
			if err != nil {
				return nil, fmt.Errorf("scenario %s: %s.caFile: read the CA bundle to put it in the ConfigMap: %w", name, bk.field, err)
			}
			key := fmt.Sprintf("%s.ca-%d.pem", name, i)
			ps.files[key] = string(ca)
			b.CAFile = key
		}
	}
	if rb := s.Runbook; rb != nil && rb.File != "" {
		text, err := readFile(orig.Spec.Runbook.File)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: spec.runbook.file: read the runbook to put it in the ConfigMap: %w", name, err)
		}
		parsed, err := runbooks.Parse(orig.DisplayPath(orig.Spec.Runbook.File), text)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		key := name + ".runbook.md"
		ps.files[key] = string(text)
		rb.File = key
		ps.runbookSteps = parsed.Commands()
	} else if rb != nil && rb.Name != "" {
		parsed, err := runbooks.Builtin(rb.Name)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: spec.runbook.name: %w", name, err)
		}
		ps.runbookSteps = parsed.Commands()
	}
	for _, c := range s.Checks {
		if c.Command != nil {
			ps.commandChecks++
		}
	}
	for e := range envs {
		ps.credentialEnvs = append(ps.credentialEnvs, e)
	}
	ps.credentialEnvs = uniq(ps.credentialEnvs...)
	out, err := scenarios.MarshalYAML(sc)
	if err != nil {
		return nil, err
	}
	ps.files[name+".yaml"] = "# The scenario " + name + " as the CronJob runs it (rendered by 'firedrill schedule render'):\n" +
		"# the target is the cluster the job runs in; files it names sit next to it.\n" + string(out)
	if err := loadsAsInThePod(name, ps.files); err != nil {
		return nil, err
	}
	return ps, nil
}

// loadsAsInThePod loads the scenario from a directory holding the
// ConfigMap's files, as the pod will, so that a scenario the pod could not
// load is an error now, where its author can still fix it.
func loadsAsInThePod(name string, files map[string]string) error {
	dir, err := os.MkdirTemp("", "firedrill-schedule-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			return err
		}
	}
	if _, err := scenarios.Parse(scenarios.Env{}, filepath.Join(dir, name+".yaml"), []byte(files[name+".yaml"])); err != nil {
		return fmt.Errorf("scenario %s as the pod would load it: %w", name, err)
	}
	return nil
}

// caFileOf is the CA file of the i-th bucket of sc (0 the primary, then
// the copies, then the evidence bucket).
func caFileOf(sc *scenarios.Scenario, i int) string {
	switch copies := len(sc.Spec.Storage.Copies); {
	case i == 0:
		return sc.Spec.Storage.Primary.CAFile
	case i <= copies:
		return sc.Spec.Storage.Copies[i-1].CAFile
	default:
		return sc.Spec.Evidence.Push.CAFile
	}
}

// isEnvName reports whether s can be an environment variable and a Secret
// key at once.
func isEnvName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func podSpec(o Options, ps *podScenario, n names) corev1.PodSpec {
	name := n.local
	sc := ps.sc
	args := []string{"--log-format=json", "run", sc.Metadata.Name, "--history", o.History}
	if o.HistoryEndpoint != "" {
		args = append(args, "--history-endpoint", o.HistoryEndpoint)
	}
	if o.HistoryRegion != "" {
		args = append(args, "--history-region", o.HistoryRegion)
	}
	if o.HistoryPathStyle {
		args = append(args, "--history-path-style")
	}
	if o.Cluster != "" {
		args = append(args, "--cluster", o.Cluster)
	}
	if o.EvidencePush != "" {
		args = append(args, "--evidence-push", o.EvidencePush)
		if o.EvidencePushEndpoint != "" {
			args = append(args, "--evidence-push-endpoint", o.EvidencePushEndpoint)
		}
		if o.EvidencePushRegion != "" {
			args = append(args, "--evidence-push-region", o.EvidencePushRegion)
		}
		if o.EvidencePushPathStyle {
			args = append(args, "--evidence-push-path-style")
		}
	}
	args = append(args, o.RunArgs...)
	// The root filesystem is read-only, and the image has no home
	// directory (the runtime would make HOME "/"): every path firedrill
	// and the tools it runs write to is on an emptyDir. The drill's record
	// goes to the state directory; HOME and TMPDIR take the rest
	// (kubectl's ~/.kube/cache, velero's ~/.config, temporary files).
	env := []corev1.EnvVar{
		{Name: scenarioSearchEnv, Value: scenarioDir},
		{Name: stateDirEnv, Value: stateDir},
		{Name: "HOME", Value: tmpDir},
		{Name: "TMPDIR", Value: tmpDir},
		// The image's PATH, spelled out so that runbook steps and command
		// checks find sh, kubectl and velero whatever a runtime's default.
		{Name: "PATH", Value: ociimage.Path},
		// The clock of the schedule: logs and a runbook step's date read
		// as the CronJob's timeZone does.
		{Name: "TZ", Value: podTZ(o.TimeZone)},
		// The drill binds its ServiceAccount, named by the downward API, to
		// this ClusterRole in the namespaces it restored (restore/reader.go).
		{Name: drill.EnvRestoredReaderRole, Value: n.reader},
		fieldEnv(drill.EnvServiceAccountName, "spec.serviceAccountName"),
		fieldEnv(drill.EnvServiceAccountNamespace, "metadata.namespace"),
	}
	for _, e := range ps.credentialEnvs {
		env = append(env, secretEnv(e, o.CredentialsSecret, e, false))
	}
	// Optional: without the Secret the AWS SDK's chain applies (workload identity).
	env = append(env, secretEnv(historyAccessKeyEnv, o.HistorySecret, historyAccessKeyEnv, true),
		secretEnv(historySecretKeyEnv, o.HistorySecret, historySecretKeyEnv, true))
	// The evidence signing key: with it every drill signs its evidence
	// bundle. Optional unless the drill pushes its evidence, which needs it.
	needKey := ps.evidencePush || o.EvidencePush != ""
	env = append(env, secretEnv(evidenceKeyEnv, o.EvidenceSecret, evidenceKeyEnv, !needKey),
		secretEnv(evidenceAccessKeyEnv, o.EvidenceSecret, evidenceAccessKeyEnv, true),
		secretEnv(evidenceSecretKeyEnv, o.EvidenceSecret, evidenceSecretKeyEnv, true))
	// After the drill: a notification and the Pushgateway, when the
	// Secret says where (their URLs may hold tokens).
	for _, e := range []string{"FIREDRILL_NOTIFY_WEBHOOK", "FIREDRILL_NOTIFY_FORMAT", "FIREDRILL_PUSHGATEWAY"} {
		env = append(env, secretEnv(e, o.NotifySecret, e, true))
	}
	mounts := []corev1.VolumeMount{
		{Name: "scenario", MountPath: scenarioDir, ReadOnly: true},
		{Name: "state", MountPath: stateDir},
		{Name: "tmp", MountPath: tmpDir},
	}
	volumes := []corev1.Volume{
		{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, DefaultMode: ptr(int32(0o444))}}},
		// The drill's record is written here as it goes, and uploaded to the shared history.
		{Name: "state", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	secretVolume := func(vol, dir, secret, key string) {
		mounts = append(mounts, corev1.VolumeMount{Name: vol, MountPath: dir, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secret, Items: []corev1.KeyToPath{{Key: key, Path: key}}, DefaultMode: ptr(int32(0o440))}}})
	}
	if ps.source {
		// Only read, to make sure the target is not the source cluster.
		secretVolume("source-kubeconfig", sourceDir, o.SourceKubeconfigSecret, sourceKubeconfigKey)
	}
	if ps.awsCredentials {
		secretVolume("aws-credentials", awsDir, o.AWSCredentialsSecret, awsCredentialsKey)
	}
	// Ctrl-C for a pod: on SIGTERM (the Job's deadline, a node drain) the
	// drill cleans up the scratch cluster within its cleanup timeout, and
	// keeps its record, before the kubelet's SIGKILL.
	grace := int64((time.Duration(sc.Spec.Cleanup.Timeout) + afterSIGTERM) / time.Second)
	return corev1.PodSpec{
		ServiceAccountName:            name,
		AutomountServiceAccountToken:  ptr(true),
		RestartPolicy:                 corev1.RestartPolicyNever,
		TerminationGracePeriodSeconds: &grace,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(nonRoot),
			RunAsGroup:     ptr(nonRoot),
			FSGroup:        ptr(nonRoot),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:            "firedrill",
			Image:           o.Image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            args,
			Env:             env,
			VolumeMounts:    mounts,
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				RunAsNonRoot:             ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
		Volumes: volumes,
	}
}

// fieldEnv is a variable the kubelet sets from the pod's own spec or
// metadata (the downward API).
func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

func secretEnv(name, secret, key string, optional bool) corev1.EnvVar {
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}
	if optional {
		ref.Optional = ptr(true)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}
}
