package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/internal/endpoint"
)

// APIVersion and Kind identify a scenario document.
const (
	APIVersion = "firedrill.dev/v1alpha1"
	Kind       = "Scenario"
)

// Scenario is one disaster-recovery drill, as written in a scenario file.
// After loading, defaults are filled in (see each field) and relative paths
// are resolved against the scenario file's directory, with "~" expanded.
type Scenario struct {
	// APIVersion must be "firedrill.dev/v1alpha1".
	APIVersion string `yaml:"apiVersion"`
	// Kind must be "Scenario".
	Kind string `yaml:"kind"`
	// Metadata names the scenario.
	Metadata Metadata `yaml:"metadata"`
	// Spec is the drill.
	Spec Spec `yaml:"spec"`

	// Origin says where the scenario was loaded from; it is not part of the file.
	Origin Origin `yaml:"-"`

	// lines maps field paths ("spec.checks[2].http.url") to the line they
	// were written on, for errors found after loading.
	lines map[string]int
	// warnings are what Warnings returns.
	warnings ValidationErrors
	// files is where CheckFiles finds the AWS SDK's shared files.
	files fileEnv
	// written are the file paths as the file wrote them (defaults filled
	// in), in the order of pathFields, for AsWritten.
	written []string
}

// Metadata names a scenario.
type Metadata struct {
	// Name is required, a DNS-1123 label (lowercase letters, digits and
	// "-", at most 63 characters): the name `firedrill run NAME` uses.
	Name string `yaml:"name"`
	// Description is an optional one-line description.
	Description string `yaml:"description,omitempty"`
}

// Spec is what the drill simulates, what it must achieve and where things are.
type Spec struct {
	// Disaster is required: what happened.
	Disaster Disaster `yaml:"disaster"`
	// Objectives is required: the RTO and RPO the organisation decided on.
	Objectives Objectives `yaml:"objectives"`
	// Source is the cluster that is lost; firedrill only ever reads it.
	Source ClusterRef `yaml:"source,omitempty"`
	// Backups is required: which Velero backups to recover from.
	Backups Backups `yaml:"backups"`
	// Storage is required: the buckets holding the backups.
	Storage Storage `yaml:"storage"`
	// Target is required: the scratch cluster to restore into.
	Target Target `yaml:"target"`
	// Checks run after the restore; optional.
	Checks []Check `yaml:"checks,omitempty"`
	// Runbook is followed and timed after the checks; optional.
	Runbook *RunbookRef `yaml:"runbook,omitempty"`
	// Cleanup says what happens to what the drill created in the target.
	Cleanup Cleanup `yaml:"cleanup"`
	// Compliance names the frameworks the scenario's drills serve (one of
	// Frameworks each); `firedrill due` applies their testing cadence.
	// Optional.
	Compliance []string `yaml:"compliance,omitempty"`
	// Evidence says where the drill's signed evidence bundle is kept;
	// optional. The command line (--evidence-push) overrides it.
	Evidence *Evidence `yaml:"evidence,omitempty"`
}

// Evidence is where a drill's evidence goes.
type Evidence struct {
	// Push uploads every drill's signed bundle to an object-locked bucket.
	Push *EvidencePush `yaml:"push,omitempty"`
}

// EvidencePush is an object-locked bucket for evidence bundles. Bundles
// go to PREFIX/SCENARIO/DRILL.evidence.tar.gz, each version locked for
// Retention in LockMode.
type EvidencePush struct {
	// Bucket says where, as for the primary bucket; objectLock is not
	// used here (see LockMode and Retention).
	Bucket `yaml:",inline"`
	// Retention is how long each bundle is locked; default 2555d (seven
	// years of 365 days).
	Retention Duration `yaml:"retention,omitempty"`
	// LockMode is COMPLIANCE (default) or GOVERNANCE.
	LockMode LockMode `yaml:"lockMode,omitempty"`
	// AllowUnlockedBucket pushes even to a bucket without object lock,
	// where the bundle could be deleted; without it such a bucket is
	// refused.
	AllowUnlockedBucket bool `yaml:"allowUnlockedBucket,omitempty"`
}

// BackupBucket reports whether bucket at ep holds the scenario's backups
// (the primary bucket or a copy), and names which; the endpoints are
// compared as the drill's write guard compares them (endpoint.SameServer:
// an empty endpoint, AWS, matches any).
func (sc *Scenario) BackupBucket(ep, bucket string) (string, bool) {
	same := func(b Bucket) bool {
		return b.Bucket == bucket && endpoint.SameServer(ep, b.Endpoint)
	}
	if same(sc.Spec.Storage.Primary) {
		return "spec.storage.primary", true
	}
	for i, c := range sc.Spec.Storage.Copies {
		if same(c.Bucket) {
			return fmt.Sprintf("spec.storage.copies[%d] (%s)", i, c.Name), true
		}
	}
	return "", false
}

// DefaultEvidenceRetention is seven years, counted as S3 counts years.
const DefaultEvidenceRetention = Duration(7 * 365 * day)

// Disaster describes what happened, as the team would learn it.
type Disaster struct {
	// Summary is required: one line, e.g. "Complete loss of data-center eu-west-1a".
	Summary string `yaml:"summary"`
	// Narrative is an optional multi-line story read out at the start of the drill.
	Narrative string `yaml:"narrative,omitempty"`
	// Lost is required and non-empty: what the disaster takes away.
	Lost []Loss `yaml:"lost"`
	// LostNamespaces is required if and only if Lost contains "namespace";
	// every entry must be in Spec.Backups.IncludedNamespaces.
	LostNamespaces []string `yaml:"lostNamespaces,omitempty"`
	// Detection is required: how the team found out.
	Detection string `yaml:"detection"`
	// Lead is required: who leads the recovery.
	Lead string `yaml:"lead"`
	// Observers optionally lists who observes and helps.
	Observers []string `yaml:"observers,omitempty"`
	// Goals optionally list what the drill is meant to show, one line
	// each ("restore the shop within the 1h RTO"); the report and the
	// retrospective repeat them.
	Goals []string `yaml:"goals,omitempty"`
	// DeclaredAt is an optional RFC 3339 time the disaster was declared; RPO
	// is measured from it. Zero means the drill's start.
	DeclaredAt time.Time `yaml:"declaredAt,omitempty"`
}

// Loses reports whether the disaster takes l away.
func (d Disaster) Loses(l Loss) bool { return slices.Contains(d.Lost, l) }

// Loss is one thing a disaster takes away.
type Loss string

// The values of Disaster.Lost.
const (
	// LossSourceCluster: the source cluster is gone; firedrill does not contact it.
	LossSourceCluster Loss = "sourceCluster"
	// LossPrimaryStorage: the primary backup bucket cannot be trusted; the
	// restore reads an off-site copy (a Copy with a StorageLocation).
	LossPrimaryStorage Loss = "primaryStorage"
	// LossRegion: the whole region or data-center is gone.
	LossRegion Loss = "region"
	// LossNamespace: the namespaces in Disaster.LostNamespaces are gone.
	LossNamespace Loss = "namespace"
)

var losses = []Loss{LossSourceCluster, LossPrimaryStorage, LossRegion, LossNamespace}

// Objectives are the recovery objectives the drill measures against.
type Objectives struct {
	// RTO is required: the longest acceptable time from the disaster to recovery.
	RTO Duration `yaml:"rto"`
	// RPO is required: the largest acceptable amount of lost data, as time.
	RPO Duration `yaml:"rpo"`
	// Tier is optional free text, e.g. "gold".
	Tier string `yaml:"tier,omitempty"`
	// Retention is optional: how far back a restore must be possible,
	// e.g. 7d. The protection step checks that the schedule's usable
	// backups in the bucket reach back that far (backup.Window).
	Retention Duration `yaml:"retention,omitempty"`
	// MaxRetention is optional: the longest any backup or its data may be
	// kept, e.g. 30d. Backups, repository objects, Velero TTLs and object
	// lock periods that keep data longer are findings. At least Retention.
	MaxRetention Duration `yaml:"maxRetention,omitempty"`
	// ErrorBudget sets the share of drills that must meet both objectives
	// (see ErrorBudget); optional.
	ErrorBudget *ErrorBudget `yaml:"errorBudget,omitempty"`
}

// ErrorBudget is the scenario's service-level objective for its drills:
// the share of drills within Window that must meet both RTO and RPO.
type ErrorBudget struct {
	// Target is the share, greater than 0 and at most 1 (1: every drill
	// must meet both, no miss is budgeted); default
	// DefaultErrorBudgetTarget. 1 - Target is the budget: the share of
	// drills that may miss an objective.
	Target float64 `yaml:"target,omitempty"`
	// Window is how far back drills count; default
	// DefaultErrorBudgetWindow (four quarters).
	Window Duration `yaml:"window,omitempty"`
}

// The defaults of ErrorBudget: 0.75 tolerates one miss in a year of
// quarterly drills (firedrill's choice, not a regulation's); the window is
// the last four quarters.
const (
	DefaultErrorBudgetTarget = 0.75
	DefaultErrorBudgetWindow = Duration(365 * 24 * time.Hour)
)

// Budget is the scenario's error budget with the defaults filled in.
func (o Objectives) Budget() ErrorBudget {
	b := ErrorBudget{Target: DefaultErrorBudgetTarget, Window: DefaultErrorBudgetWindow}
	if o.ErrorBudget != nil {
		if o.ErrorBudget.Target > 0 {
			b.Target = o.ErrorBudget.Target
		}
		if o.ErrorBudget.Window > 0 {
			b.Window = o.ErrorBudget.Window
		}
	}
	return b
}

// Frameworks are the values of Spec.Compliance: the regulations and
// standards whose testing cadence a drill of the scenario serves (the
// cadence itself is drill.Cadences).
var Frameworks = []string{"dora", "pci-dss", "soc2", "iso27001", "nis2", "hipaa"}

// ClusterRef points at a cluster through a kubeconfig.
type ClusterRef struct {
	// Kubeconfig is the kubeconfig file. Empty means client-go's default
	// rules ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string `yaml:"kubeconfig,omitempty"`
	// Context is the kubeconfig context; empty means the current context.
	Context string `yaml:"context,omitempty"`
}

// Backups says which Velero backups the drill recovers from: BackupName,
// Schedule or Window, or Schedule with Window (the window's pick among
// that Schedule's backups only).
type Backups struct {
	// VeleroNamespace is where Velero runs; default "velero".
	VeleroNamespace string `yaml:"veleroNamespace"`
	// StorageLocation is the Velero BackupStorageLocation of the primary
	// bucket; default "default".
	StorageLocation string `yaml:"storageLocation"`
	// BackupName restores this Velero Backup.
	BackupName string `yaml:"backupName,omitempty"`
	// Schedule restores the latest completed backup of this Velero
	// Schedule; with Window, the window holds only its backups.
	Schedule string `yaml:"schedule,omitempty"`
	// ScheduleCron is optional: the Schedule's spec.schedule, a cron
	// expression as Velero parses it (robfig/cron's standard syntax,
	// CRON_TZ=Europe/Berlin allowed), so the recovery window check finds
	// the runs that left no backup even when the source cluster is gone.
	// Without it the drill reads the Schedule from the source cluster.
	ScheduleCron string `yaml:"scheduleCron,omitempty"`
	// Window restores a completed backup taken within a window before the disaster.
	Window *Window `yaml:"window,omitempty"`
	// AllowPartiallyFailed accepts a PartiallyFailed backup (Velero backed
	// up some items and failed on others) as the recovery point, as
	// `velero restore create --from-schedule --allow-partially-failed`
	// does; the report then shows its warnings and errors. Default false:
	// only a Completed backup is restored. Applies to backupName too.
	AllowPartiallyFailed bool `yaml:"allowPartiallyFailed,omitempty"`
	// IncludedNamespaces is required: the scope to restore and verify.
	IncludedNamespaces []string `yaml:"includedNamespaces"`
	// AcceptedOutOfScope are PersistentVolumeClaims, "namespace/name" of
	// an included namespace, whose data the team knowingly keeps out of
	// the backup (a cache, say): the drill's scope check names them as a
	// warning instead of a failure.
	AcceptedOutOfScope []string `yaml:"acceptedOutOfScope,omitempty"`
}

// Window selects a backup among those taken shortly before the disaster.
type Window struct {
	// Within is how far back from the disaster to look; default
	// objectives.retention (required when that is not set). At most
	// objectives.maxRetention.
	Within Duration `yaml:"within"`
	// Pick is "latest" (default) or "random": random draws among the
	// Completed backups within the window, with Seed.
	Pick Pick `yaml:"pick"`
	// Seed makes a random pick repeatable; only with pick: random. Nil means
	// the drill chooses a seed and records it in the report.
	Seed *int64 `yaml:"seed,omitempty"`
}

// Pick chooses a backup within a Window.
type Pick string

// The values of Window.Pick.
const (
	PickLatest Pick = "latest"
	PickRandom Pick = "random"
)

// Storage is the object storage holding the backups.
type Storage struct {
	// Primary is required: the bucket Velero writes to.
	Primary Bucket `yaml:"primary"`
	// Copies are optional off-site and off-cloud copies of the primary bucket.
	Copies []Copy `yaml:"copies,omitempty"`
}

// Bucket is an S3 bucket (or a prefix of one) and how to reach it.
type Bucket struct {
	// Endpoint is required: the S3 endpoint URL, http or https.
	Endpoint string `yaml:"endpoint"`
	// Region defaults to "us-east-1".
	Region string `yaml:"region"`
	// Bucket is required and follows S3 bucket-name rules.
	Bucket string `yaml:"bucket"`
	// Prefix is the Velero BackupStorageLocation prefix, if any.
	Prefix string `yaml:"prefix,omitempty"`
	// PathStyle forces path-style addressing (most S3-compatible servers).
	PathStyle bool `yaml:"pathStyle,omitempty"`
	// Credentials references the credentials; nil means the AWS SDK's
	// default chain.
	Credentials *Credentials `yaml:"credentials,omitempty"`
	// ObjectLock is the object lock the bucket must have: required for the
	// primary bucket, optional for copies.
	ObjectLock *ObjectLock `yaml:"objectLock,omitempty"`
	// CAFile is an optional PEM bundle to trust for the endpoint.
	CAFile string `yaml:"caFile,omitempty"`
}

// Credentials references S3 credentials; it never holds them. Either
// AccessKeyIDEnv and SecretAccessKeyEnv (optionally SessionTokenEnv), or
// Profile and/or File.
type Credentials struct {
	// AccessKeyIDEnv names the environment variable holding the access key ID.
	AccessKeyIDEnv string `yaml:"accessKeyIDEnv,omitempty"`
	// SecretAccessKeyEnv names the environment variable holding the secret key.
	SecretAccessKeyEnv string `yaml:"secretAccessKeyEnv,omitempty"`
	// SessionTokenEnv optionally names the environment variable holding a session token.
	SessionTokenEnv string `yaml:"sessionTokenEnv,omitempty"`
	// Profile is a profile of the shared AWS credentials file; default "default" when File is set.
	Profile string `yaml:"profile,omitempty"`
	// File is a shared AWS credentials file; empty means the SDK's default.
	File string `yaml:"file,omitempty"`
}

// ObjectLock is the object lock a bucket must have.
type ObjectLock struct {
	// Mode is required: COMPLIANCE or GOVERNANCE.
	Mode LockMode `yaml:"mode"`
	// MinRetention is the minimum default retention the bucket must have; optional.
	MinRetention Duration `yaml:"minRetention,omitempty"`
	// AllowGovernance accepts GOVERNANCE mode, which privileged users can
	// bypass; without it GOVERNANCE is an error.
	AllowGovernance bool `yaml:"allowGovernance,omitempty"`
}

// LockMode is an S3 object lock retention mode.
type LockMode string

// The values of ObjectLock.Mode.
const (
	LockCompliance LockMode = "COMPLIANCE"
	LockGovernance LockMode = "GOVERNANCE"
)

// Copy is an off-site or off-cloud copy of the primary bucket.
type Copy struct {
	// Name is required and unique among copies.
	Name string `yaml:"name"`
	// Kind is required: "offsite" (another site, same provider) or
	// "offcloud" (another provider).
	Kind CopyKind `yaml:"kind"`
	// Bucket says where the copy is, as for the primary bucket.
	Bucket `yaml:",inline"`
	// Compare says how the copy is compared with the primary bucket.
	Compare Compare `yaml:"compare"`
	// StorageLocation is the Velero BackupStorageLocation name firedrill
	// creates in the target to restore from this copy. A scenario that
	// loses primaryStorage restores from the first copy that has one.
	StorageLocation string `yaml:"storageLocation,omitempty"`
	// MaxReplicationLag is how long an object may wait for bucket
	// replication (PENDING or FAILED on the primary, where the server
	// reports it, as MinIO does) before the copy fails; optional, greater
	// than zero, default DefaultMaxReplicationLag. Objects waiting for
	// less are reported as not yet replicated, not as missing.
	MaxReplicationLag Duration `yaml:"maxReplicationLag,omitempty"`
}

// DefaultMaxReplicationLag is one hour: S3 Replication Time Control
// promises 99.99% of objects within 15 minutes; MinIO replicates in
// seconds when its target is reachable.
const DefaultMaxReplicationLag = Duration(time.Hour)

// CopyKind says how far a copy is from the primary bucket.
type CopyKind string

// The values of Copy.Kind.
const (
	CopyOffsite  CopyKind = "offsite"
	CopyOffcloud CopyKind = "offcloud"
)

// Compare says how thoroughly a copy is compared with the primary bucket.
type Compare struct {
	// Mode is existence, size, checksum (default), content or sampled.
	Mode CompareMode `yaml:"mode"`
	// SamplePercent is the share of objects whose content is compared;
	// required (1-100) with mode sampled, not allowed otherwise.
	SamplePercent int `yaml:"samplePercent,omitempty"`
	// Seed makes the sample repeatable; only with mode sampled.
	Seed *int64 `yaml:"seed,omitempty"`
}

// CompareMode is how a copy's objects are compared with the primary's.
type CompareMode string

// The values of Compare.Mode, cheapest first.
const (
	CompareExistence CompareMode = "existence"
	CompareSize      CompareMode = "size"
	CompareChecksum  CompareMode = "checksum"
	CompareContent   CompareMode = "content"
	CompareSampled   CompareMode = "sampled"
)

// Target is the scratch cluster the drill restores into.
type Target struct {
	// Kubeconfig is the scratch cluster's kubeconfig file. Empty means
	// client-go's default rules ($KUBECONFIG, then ~/.kube/config), as
	// kubectl; firedrill's --kubeconfig replaces it. Whatever selects the
	// cluster, it must carry the scratch marker.
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means the current context.
	Context string `yaml:"context,omitempty"`
	// NamespaceMapping renames namespaces on restore; every key must be in
	// Spec.Backups.IncludedNamespaces.
	NamespaceMapping map[string]string `yaml:"namespaceMapping,omitempty"`
	// Restore says how the restore is split into Velero Restores.
	Restore Restore `yaml:"restore"`
	// LockWait bounds the wait for another drill that holds the scratch
	// cluster's Lease (Velero's namespace, firedrill-drill); 0 refuses at
	// once, naming that drill. Default DefaultLockWait.
	LockWait Wait `yaml:"lockWait"`
}

// TargetNamespace is the name namespace ns has in the target after mapping.
func (t Target) TargetNamespace(ns string) string {
	if m, ok := t.NamespaceMapping[ns]; ok {
		return m
	}
	return ns
}

// Restore is the sequence of Velero Restores the drill creates.
type Restore struct {
	// Phases run in order, each one Velero Restore. Default: DefaultPhases,
	// NetworkPolicies (with their namespaces) first, because hardened
	// clusters reject workloads no NetworkPolicy selects and Velero restores
	// Deployments before NetworkPolicies; then CustomResourceDefinitions,
	// before any custom resource. A phase whose includedResources name
	// CustomResourceDefinitions is created with includeClusterResources.
	Phases []Phase `yaml:"phases"`
	// ExcludedResources are excluded from every phase. Default:
	// DefaultExcludedResources; an explicit empty list excludes nothing.
	ExcludedResources []string `yaml:"excludedResources"`
	// Timeout bounds each phase; default 10m.
	Timeout Duration `yaml:"timeout"`
}

// Phase is one Velero Restore.
type Phase struct {
	// Name is required and unique among phases.
	Name string `yaml:"name"`
	// IncludedResources limits the phase to these resources; empty means all.
	IncludedResources []string `yaml:"includedResources,omitempty"`
	// ExcludedResources are excluded from this phase, in addition to
	// Restore.ExcludedResources.
	ExcludedResources []string `yaml:"excludedResources,omitempty"`
}

// Check is one verification after the restore. Exactly one of Workloads,
// HTTP, TCP, Command, Exec, DataCanary and ServiceAccount is set.
type Check struct {
	// Name is required and unique among checks.
	Name string `yaml:"name"`
	// Timeout bounds the check, retries included; default 2m.
	Timeout Duration `yaml:"timeout"`
	// Workloads waits for the workloads of a namespace.
	Workloads *WorkloadsCheck `yaml:"workloads,omitempty"`
	// HTTP requests a URL.
	HTTP *HTTPCheck `yaml:"http,omitempty"`
	// TCP connects to an address.
	TCP *TCPCheck `yaml:"tcp,omitempty"`
	// Command runs a program.
	Command *CommandCheck `yaml:"command,omitempty"`
	// Exec runs a command inside a container of a restored pod.
	Exec *ExecCheck `yaml:"exec,omitempty"`
	// DataCanary reads a timestamp the application wrote before the backup.
	DataCanary *DataCanaryCheck `yaml:"dataCanary,omitempty"`
	// ServiceAccount proves that a restored ServiceAccount can authenticate.
	ServiceAccount *ServiceAccountCheck `yaml:"serviceAccount,omitempty"`
}

// CheckKind names the kind of a Check.
type CheckKind string

// The kinds of Check, named as their fields.
const (
	CheckWorkloads  CheckKind = "workloads"
	CheckHTTP       CheckKind = "http"
	CheckTCP        CheckKind = "tcp"
	CheckCommand    CheckKind = "command"
	CheckExec       CheckKind = "exec"
	CheckDataCanary CheckKind = "dataCanary"
	// CheckServiceAccount is written serviceAccount.
	CheckServiceAccount CheckKind = "serviceAccount"
)

// checkKinds lists every kind, in the order messages name them.
var checkKinds = []CheckKind{CheckWorkloads, CheckHTTP, CheckTCP, CheckCommand, CheckExec, CheckDataCanary, CheckServiceAccount}

// Kind is the kind of check c is; empty for an invalid check.
func (c Check) Kind() CheckKind {
	kinds := c.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

func (c Check) kinds() []CheckKind {
	var ks []CheckKind
	if c.Workloads != nil {
		ks = append(ks, CheckWorkloads)
	}
	if c.HTTP != nil {
		ks = append(ks, CheckHTTP)
	}
	if c.TCP != nil {
		ks = append(ks, CheckTCP)
	}
	if c.Command != nil {
		ks = append(ks, CheckCommand)
	}
	if c.Exec != nil {
		ks = append(ks, CheckExec)
	}
	if c.DataCanary != nil {
		ks = append(ks, CheckDataCanary)
	}
	if c.ServiceAccount != nil {
		ks = append(ks, CheckServiceAccount)
	}
	return ks
}

// WorkloadsCheck passes when every Deployment, StatefulSet and DaemonSet of
// a namespace is Available and every Job has completed.
type WorkloadsCheck struct {
	// Namespace is required, as named in Spec.Backups.IncludedNamespaces;
	// the drill applies Target.NamespaceMapping.
	Namespace string `yaml:"namespace"`
}

// HTTPCheck passes when a GET answers an expected status (and body).
// Exactly one of URL and Service is set.
type HTTPCheck struct {
	// URL is requested directly, http or https.
	URL string `yaml:"url,omitempty"`
	// Service is requested through the target API server's service proxy,
	// with the target kubeconfig's credentials, as `kubectl get --raw
	// /api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH` does: it reaches
	// a restored Service from outside the cluster, without an Ingress.
	Service *ServiceRef `yaml:"service,omitempty"`
	// Path is the path requested from Service; default "/". Only with Service.
	Path string `yaml:"path,omitempty"`
	// ExpectStatus is a status code or range, e.g. 200 or "200-299" (default).
	ExpectStatus StatusRange `yaml:"expectStatus"`
	// BodyContains, if set, must occur in the response body.
	BodyContains string `yaml:"bodyContains,omitempty"`
}

// ServiceRef names a port of a Service.
type ServiceRef struct {
	// Namespace is required, as named in Spec.Backups.IncludedNamespaces;
	// the drill applies Target.NamespaceMapping.
	Namespace string `yaml:"namespace"`
	// Name is required: the Service.
	Name string `yaml:"name"`
	// Port is required: the Service's port, by number or name.
	Port ServicePort `yaml:"port"`
}

// TCPCheck passes when a TCP connection to Address succeeds.
type TCPCheck struct {
	// Address is required, "host:port".
	Address string `yaml:"address"`
}

// CommandCheck passes when a program exits 0. It runs with KUBECONFIG set
// to the target cluster.
type CommandCheck struct {
	// Run is required: the program and its arguments, not run through a shell.
	Run []string `yaml:"run"`
}

// ExecCheck passes when a command run inside a container of a restored
// pod exits 0 and, if asked, prints the expected output. It runs through
// the target API server (pods/exec, as `kubectl exec` does, over WebSocket
// or SPDY), so nothing but firedrill is needed on the machine: it reads
// what the restored application sees, such as the files Velero restored
// into its volumes. Stdout is read up to 64 KiB; more fails the check.
// The check retries while the pod is missing, not running or not Ready,
// or the API server unreachable; it ends at once on what waiting cannot
// fix (a program not in the image, a container not in the pod, too much
// output, pods/exec forbidden), and on a command that fails twice in a
// row in a Ready pod (see restore.ExecCheck).
type ExecCheck struct {
	// Namespace is required, as named in Spec.Backups.IncludedNamespaces;
	// the drill applies Target.NamespaceMapping.
	Namespace string `yaml:"namespace"`
	// Pod names the pod; Selector is a label selector ("app=backend")
	// whose first Ready pod (by name), else first Running one, is used
	// instead. Exactly one.
	Pod      string `yaml:"pod,omitempty"`
	Selector string `yaml:"selector,omitempty"`
	// Container is the container; empty means the pod's only (or
	// default) container.
	Container string `yaml:"container,omitempty"`
	// Command is required: the program and its arguments, run as given
	// (no shell; write ["sh", "-c", "..."] for one).
	Command []string `yaml:"command"`
	// ExpectOutput, when set, must equal stdout with its trailing
	// newlines removed (as a shell's $(...) removes them).
	ExpectOutput *string `yaml:"expectOutput,omitempty"`
	// ExpectRegexp, when set, is a regular expression (Go RE2 syntax)
	// that must match somewhere in stdout; anchor it with ^ and $ (and
	// (?m) for lines) to match all of it. Not with ExpectOutput.
	ExpectRegexp string `yaml:"expectRegexp,omitempty"`
}

// DataCanaryCheck reads a time (RFC 3339) that the application writes
// regularly: after the restore, it is the newest data the backup holds,
// which gives the RPO the application sees (the disaster time minus that
// canary). The canary is either a ConfigMap key (ConfigMap and Key) or a
// file in a restored volume (File, read inside a restored pod through the
// exec path of ExecCheck: Pod or Selector, and Container), which proves
// the volume's data came back, not just the manifests; Command replaces
// `cat FILE` for a container without cat. A file may hold one time or one
// per line; the newest counts.
type DataCanaryCheck struct {
	// Namespace is required, as named in Spec.Backups.IncludedNamespaces.
	Namespace string `yaml:"namespace"`
	// ConfigMap and Key name the ConfigMap canary; both or neither.
	ConfigMap string `yaml:"configMap,omitempty"`
	Key       string `yaml:"key,omitempty"`
	// File is the absolute path of the canary file inside the container,
	// read with `cat FILE`; not with ConfigMap.
	File string `yaml:"file,omitempty"`
	// Command, instead of File, is the program (and arguments, no shell)
	// whose stdout is the canary, for a container without cat: e.g.
	// ["/shop", "cat", "/data/canary"].
	Command []string `yaml:"command,omitempty"`
	// Pod or Selector (exactly one, with File or Command) and Container
	// choose the container that reads it, as for ExecCheck.
	Pod       string `yaml:"pod,omitempty"`
	Selector  string `yaml:"selector,omitempty"`
	Container string `yaml:"container,omitempty"`
}

// ServiceAccountCheck passes when a ServiceAccount restored into the target
// can authenticate to the target's API server. Velero restores
// ServiceAccounts, but their tokens may not come back usable (legacy token
// Secrets are bound to the old cluster's ServiceAccount UID and signing
// key), which breaks the CI/CD integrations that use them.
//
// Without TokenSecret the drill requests a short-lived token for the
// ServiceAccount (TokenRequest) and has the API server review it
// (TokenReview); with TokenSecret it reviews the long-lived token kept in
// that Secret. The token itself is never printed or kept.
type ServiceAccountCheck struct {
	// Namespace is required, as named in Spec.Backups.IncludedNamespaces;
	// the drill applies Target.NamespaceMapping.
	Namespace string `yaml:"namespace"`
	// Name is required: the ServiceAccount.
	Name string `yaml:"name"`
	// TokenSecret optionally names a Secret of type
	// kubernetes.io/service-account-token in Namespace, annotated for the
	// ServiceAccount, whose token is reviewed instead of a requested one.
	TokenSecret string `yaml:"tokenSecret,omitempty"`
}

// RunbookRef names the runbook to follow: exactly one of Name (a built-in
// runbook) or File (a Markdown file, relative to the scenario file).
type RunbookRef struct {
	Name string `yaml:"name,omitempty"`
	File string `yaml:"file,omitempty"`
	// PassEnv names variables of firedrill's environment its steps get
	// beside the step contract's (see package runbooks); nothing else of
	// that environment reaches them. Never FIREDRILL_*, AWS_*, KUBECONFIG
	// or a variable the scenario's credentials name.
	PassEnv []string `yaml:"passEnv,omitempty"`
}

// Cleanup says what happens to what the drill created in the target.
type Cleanup struct {
	// Policy is onSuccess (default: delete when the drill passes, keep for
	// investigation when it fails), always or never.
	Policy CleanupPolicy `yaml:"policy"`
	// Timeout bounds the cleanup; default 5m.
	Timeout Duration `yaml:"timeout"`
}

// CleanupPolicy says when the drill removes what it created.
type CleanupPolicy string

// The values of Cleanup.Policy.
const (
	CleanupOnSuccess CleanupPolicy = "onSuccess"
	CleanupAlways    CleanupPolicy = "always"
	CleanupNever     CleanupPolicy = "never"
)

// Defaults filled in by loading (applyDefaults). They are firedrill's only
// defaults for a drill: the restore and backup packages receive every
// value filled in and default nothing.
const (
	DefaultVeleroNamespace = "velero"
	DefaultStorageLocation = "default"
	DefaultRegion          = "us-east-1"
	DefaultPhaseTimeout    = Duration(10 * time.Minute)
	DefaultCheckTimeout    = Duration(2 * time.Minute)
	DefaultCleanupTimeout  = Duration(5 * time.Minute)
	// DefaultLockWait is long enough for a scheduled drill to outlast a
	// lab-sized drill that overlaps its window, and shorter than the step
	// timeout (30 minutes) that also bounds it.
	DefaultLockWait = Wait(15 * time.Minute)
)

// NetworkPolicies is the resource name Velero uses for NetworkPolicies.
const NetworkPolicies = "networkpolicies.networking.k8s.io"

// CustomResourceDefinitions is the resource name Velero uses for CRDs.
const CustomResourceDefinitions = "customresourcedefinitions.apiextensions.k8s.io"

// DefaultPhases are the default restore phases: namespaces and
// NetworkPolicies first, then the backup's CustomResourceDefinitions, then
// everything else, pods and their volume data included (see
// DefaultExcludedResources; custom resources after their CRDs; see
// RestoreOrderWarnings). CRDs get a phase of their own before any custom
// resource: a Restore limited to namespaces restores no cluster-scoped
// resource unless includeClusterResources is set (Velero's restore.go,
// getOrderedResourceCollection), so without it a custom resource whose CRD
// the target lacks cannot be restored.
func DefaultPhases() []Phase {
	return []Phase{
		{Name: "network-policies", IncludedResources: []string{"namespaces", NetworkPolicies}},
		{Name: "crds", IncludedResources: []string{CustomResourceDefinitions}},
		{Name: "workloads", ExcludedResources: []string{NetworkPolicies}},
	}
}

// DefaultExcludedResources are resources that controllers recreate, so
// restoring them only gets in the way. Pods are not among them: with
// Velero's file-system backup (node-agent, kopia) a volume's data comes
// back only through a pod Velero restores itself. When Velero creates a
// restored pod that has PodVolumeBackups, it adds the velero-restore-helper
// init container and creates one PodVolumeRestore per volume, which
// node-agent fills while the init container waits (Velero v1.18
// pkg/restore/restore.go restorePodVolumeBackups,
// pkg/podvolume/restorer.go, pkg/restore/actions/pod_volume_restore_action.go);
// a pod its controller recreates gets an empty volume. A Restore cannot
// select pods by whether they have volume backups, so the workloads phase
// restores every pod of the backup: Velero skips pods that had ended,
// and a restored pod of a Deployment or StatefulSet is adopted by it (the
// same labels and pod-template-hash), so no extra replica runs.
func DefaultExcludedResources() []string {
	return []string{"replicasets.apps", "endpoints", "endpointslices.discovery.k8s.io"}
}

// DefaultServicePath is the path an HTTP check of a Service requests when
// it names none.
const DefaultServicePath = "/"

// DefaultExpectStatus is any 2xx status.
func DefaultExpectStatus() StatusRange { return StatusRange{Min: 200, Max: 299} }

// RestoreFrom says which storage location the restore reads: the primary
// bucket's (from is nil), or, when the disaster loses primaryStorage, that
// of the first copy that has one.
func (s *Scenario) RestoreFrom() (storageLocation string, from *Copy) {
	if !s.Spec.Disaster.Loses(LossPrimaryStorage) {
		return s.Spec.Backups.StorageLocation, nil
	}
	for i, c := range s.Spec.Storage.Copies {
		if c.StorageLocation != "" {
			return c.StorageLocation, &s.Spec.Storage.Copies[i]
		}
	}
	// Validation rejects a scenario that loses primaryStorage without a
	// copy to restore from, so this is only reached for hand-built values.
	return s.Spec.Backups.StorageLocation, nil
}
