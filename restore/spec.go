package restore

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Spec is one restore of a drill, independent of the scenario format. Every
// field is used as given: defaults are the scenarios package's, filled in
// when a scenario is loaded, and Validate rejects a spec that lacks a value
// the restore needs.
type Spec struct {
	// DrillID names everything the drill creates; restores are named
	// DrillID-phase. Required, a DNS-1123 label of at most 40 characters.
	DrillID string
	// VeleroNamespace is where Velero runs in the target. Required.
	VeleroNamespace string
	// StorageLocation is the BackupStorageLocation Velero reads backups
	// from in the target. Required. With FromCopy set, the copy's location
	// is used instead.
	StorageLocation string
	// Backup selects the recovery point.
	Backup BackupSelector
	// IncludedNamespaces are the namespaces of the backup to restore.
	IncludedNamespaces []string
	// NamespaceMapping renames namespaces (backup name -> target name).
	NamespaceMapping map[string]string
	// Phases run in order, each one Velero Restore. At least one.
	Phases []Phase
	// ExcludedResources are excluded from every phase.
	ExcludedResources []string
	// PhaseTimeout bounds each phase. Required (more than zero).
	PhaseTimeout time.Duration
	// FromCopy, when set, restores from an off-site copy: the drill creates
	// a read-only BackupStorageLocation for it.
	FromCopy *CopyLocation
	// Checks run after the restore, in order, each within its Timeout
	// (more than zero).
	Checks []Check
	// Cleanup says when what the drill created is removed: one of the
	// CleanupPolicy values.
	Cleanup CleanupPolicy
	// CleanupTimeout bounds the cleanup. Required (more than zero).
	CleanupTimeout time.Duration
	// DisasterTime is when the disaster happened; zero means the start of
	// the restore (firedrill's clock). RPO is measured from it.
	DisasterTime time.Time
}

// BackupSelector chooses the Velero Backup: exactly one of Name, Schedule
// and Window.
type BackupSelector struct {
	Name     string
	Schedule string
	Window   *Window
	// AllowPartiallyFailed accepts a PartiallyFailed backup as the recovery
	// point, as `velero restore create --from-schedule
	// --allow-partially-failed` does; otherwise only a Completed one is.
	AllowPartiallyFailed bool
}

// Window selects among the Completed backups started within Within before
// the disaster: the latest, or one at random.
type Window struct {
	Within time.Duration
	Random bool
	// Seed makes a random pick repeatable; nil lets the restore choose one
	// and record it in the result.
	Seed *int64
}

// Phase is one Velero Restore.
type Phase struct {
	Name              string
	IncludedResources []string
	ExcludedResources []string
}

// NetworkPolicies is Velero's name for NetworkPolicies.
const NetworkPolicies = "networkpolicies.networking.k8s.io"

// CustomResourceDefinitions is Velero's name for CustomResourceDefinitions.
const CustomResourceDefinitions = "customresourcedefinitions.apiextensions.k8s.io"

// RestoresCRDs reports whether a phase's includedResources name
// CustomResourceDefinitions (by Velero's full or short resource name).
// Such a phase is created with includeClusterResources: true, the only way
// a Restore limited to namespaces restores them.
func RestoresCRDs(includedResources []string) bool {
	return slices.ContainsFunc(includedResources, func(r string) bool {
		return r == CustomResourceDefinitions || r == "customresourcedefinitions" || r == "crd" || r == "crds"
	})
}

// CopyLocation is an off-site copy of the backups, as a read-only
// BackupStorageLocation the drill creates in the target.
type CopyLocation struct {
	// Name is the copy's name, for messages.
	Name string
	// StorageLocation is the BackupStorageLocation name to create.
	StorageLocation string
	// Provider is the Velero object store plugin ("aws"). Required.
	Provider string
	Bucket   string
	Prefix   string
	// Config is the location's config (region, s3Url, s3ForcePathStyle).
	Config map[string]string
	// Credentials is the content of the credentials Secret (for the aws
	// plugin, an AWS credentials file); empty means none.
	Credentials Secret
}

// Secret holds a credential. It prints as "[redacted]" so that it cannot
// end up in logs, reports or errors by accident.
type Secret []byte

// String, GoString, MarshalJSON and Format print "[redacted]": a Secret
// never shows its value through fmt, %v of a struct holding it, or JSON.
func (Secret) String() string { return "[redacted]" }

// GoString is String for %#v.
func (Secret) GoString() string { return "[redacted]" }

// MarshalJSON writes "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Format prints "[redacted]" whatever the verb (%x and %q included).
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// AWSCredentialsFile renders an AWS shared credentials file, the format
// velero-plugin-for-aws reads.
func AWSCredentialsFile(accessKey, secretKey, sessionToken string) Secret {
	s := "[default]\naws_access_key_id=" + accessKey + "\naws_secret_access_key=" + secretKey + "\n"
	if sessionToken != "" {
		s += "aws_session_token=" + sessionToken + "\n"
	}
	return Secret(s)
}

// Check is one verification after the restore: exactly one of the kinds.
type Check struct {
	Name    string
	Timeout time.Duration
	// Workloads waits for the workloads of Namespace (a target namespace).
	Workloads *WorkloadsCheck
	HTTP      *HTTPCheck
	TCP       *TCPCheck
	Command   *CommandCheck
	// Exec runs a command in a container of a restored pod.
	Exec *ExecCheck
	// DataCanary reads a time the application wrote before the backup.
	DataCanary *DataCanaryCheck
	// ServiceAccount proves that a ServiceAccount can authenticate.
	ServiceAccount *ServiceAccountCheck
}

// WorkloadsCheck passes when every Deployment, StatefulSet and DaemonSet of
// Namespace is Available and every Job has completed.
type WorkloadsCheck struct{ Namespace string }

// HTTPCheck passes when GET URL answers a status in [MinStatus, MaxStatus]
// with BodyContains (if set) in the body. With Service set instead of URL,
// it GETs Path of the Service through the target API server's service
// proxy, with the target's credentials.
type HTTPCheck struct {
	URL string
	// Service is a Service of the target (its namespace as named there).
	Service *ServiceRef
	// Path is requested from Service; default "/".
	Path                 string
	MinStatus, MaxStatus int
	BodyContains         string
}

// ServiceRef names a port of a Service: Port is a number or a port name.
type ServiceRef struct{ Namespace, Name, Port string }

// TCPCheck passes when a connection to Address succeeds.
type TCPCheck struct{ Address string }

// CommandCheck passes when Run exits 0; it runs with KUBECONFIG pointing
// at the target.
type CommandCheck struct{ Run []string }

// PodChoice chooses a container of a restored pod: pod Pod of Namespace (a
// target namespace), or with Selector (a label selector) the first Ready
// pod by name it selects, else the first Running one; Container empty
// means the pod's default one.
type PodChoice struct{ Namespace, Pod, Selector, Container string }

// ExecCheck passes when Command, run in the chosen container through the
// API server's pods/exec, exits 0 and its stdout (at most MaxExecOutput
// bytes) is as expected: equal to *ExpectOutput once its trailing newlines
// are removed, or matched by ExpectRegexp (Go RE2, unanchored); either
// unset means any output.
//
// A check runs the command again, every second until its timeout, while
// the pod is not there, not Running or not Ready, its container not
// started, or the API server unreachable or answering 5xx. It ends at
// once on what waiting cannot fix: a program the container runtime could
// not start (not in the image, not executable), a container no chosen
// pod has, stdout past MaxExecOutput, pods/exec forbidden. A command that
// ran and failed (exited non-zero, printed other than expected) is
// retried while the pod is not Ready, since the application may still be
// starting; in a Ready pod (its readiness probe passed: the application
// says it is up) the second such failure in a row ends the check, the
// first retry covering a read that met a file being rewritten. The
// check's time counts toward the drill's RTO, so a typo costs a second,
// not the timeout.
type ExecCheck struct {
	PodChoice
	Command      []string
	ExpectOutput *string
	ExpectRegexp string
}

// DataCanaryCheck reads an RFC 3339 time: ConfigMap Namespace/ConfigMap
// key Key, or with File or Command set the stdout of `cat File` (or of
// Command) run inside the container Pod chooses (Pod.Namespace is
// Namespace): the newest time of its lines. One read in a pod is retried
// as ExecCheck's command is, a file without a time as output not as
// expected; `cat` missing from the image ends the check with the advice
// to give Command.
type DataCanaryCheck struct {
	Namespace, ConfigMap, Key string
	File                      string
	Command                   []string
	Pod                       PodChoice
}

// inPod reports whether the canary is read inside a restored pod.
func (c DataCanaryCheck) inPod() bool { return c.File != "" || len(c.Command) > 0 }

// reader is the command that prints the canary in the pod.
func (c DataCanaryCheck) reader() []string {
	if len(c.Command) > 0 {
		return c.Command
	}
	return []string{"cat", c.File}
}

// ServiceAccountCheck passes when ServiceAccount Namespace/Name (a target
// namespace) authenticates to the target's API server: a token requested
// for it, or with TokenSecret set the token kept in that Secret, passes a
// TokenReview as system:serviceaccount:NAMESPACE:NAME.
type ServiceAccountCheck struct{ Namespace, Name, TokenSecret string }

// CleanupPolicy says when the drill removes what it created.
type CleanupPolicy string

// The cleanup policies.
const (
	CleanupOnSuccess CleanupPolicy = "onSuccess"
	CleanupAlways    CleanupPolicy = "always"
	CleanupNever     CleanupPolicy = "never"
)

// Validate reports the first problem of a spec that cannot be run: a
// value missing (the spec gets no defaults here) or out of range.
func (s Spec) Validate() error {
	if s.DrillID == "" || len(s.DrillID) > 40 {
		return fmt.Errorf("invalid drill id %q: want 1 to 40 characters", s.DrillID)
	}
	n := 0
	for _, set := range []bool{s.Backup.Name != "", s.Backup.Schedule != "", s.Backup.Window != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("choose the backup by exactly one of name, schedule and window (got %d)", n)
	}
	if len(s.IncludedNamespaces) == 0 {
		return fmt.Errorf("no namespaces to restore")
	}
	if s.VeleroNamespace == "" || s.StorageLocation == "" {
		return fmt.Errorf("the Velero namespace and storage location must be set, got %q and %q", s.VeleroNamespace, s.StorageLocation)
	}
	if len(s.Phases) == 0 {
		return fmt.Errorf("no restore phases")
	}
	if s.PhaseTimeout <= 0 || s.CleanupTimeout <= 0 {
		return fmt.Errorf("the phase and cleanup timeouts must be more than zero, got %s and %s", s.PhaseTimeout, s.CleanupTimeout)
	}
	switch s.Cleanup {
	case CleanupOnSuccess, CleanupAlways, CleanupNever:
	default:
		return fmt.Errorf("unknown cleanup policy %q: want %s, %s or %s", s.Cleanup, CleanupOnSuccess, CleanupAlways, CleanupNever)
	}
	for _, c := range s.Checks {
		if c.Timeout <= 0 {
			return fmt.Errorf("check %q: timeout must be more than zero, got %s", c.Name, c.Timeout)
		}
		if e := c.Exec; e != nil {
			if len(e.Command) == 0 {
				return fmt.Errorf("check %q: no command", c.Name)
			}
			if _, err := regexp.Compile(e.ExpectRegexp); err != nil {
				return fmt.Errorf("check %q: expected output: %w", c.Name, err)
			}
		}
	}
	var names []string
	for _, p := range s.Phases {
		if p.Name == "" || slices.Contains(names, p.Name) {
			return fmt.Errorf("restore phase names must be set and unique, got %q", p.Name)
		}
		names = append(names, p.Name)
	}
	if s.FromCopy != nil && (s.FromCopy.StorageLocation == "" || s.FromCopy.Bucket == "" || s.FromCopy.Provider == "") {
		return fmt.Errorf("copy %q needs a storage location name, a bucket and a provider", s.FromCopy.Name)
	}
	return nil
}

// TargetNamespace is the name namespace ns has in the target.
func (s Spec) TargetNamespace(ns string) string {
	if to, ok := s.NamespaceMapping[ns]; ok && to != "" {
		return to
	}
	return ns
}

// TargetNamespaces are the restored namespaces as named in the target.
func (s Spec) TargetNamespaces() []string {
	out := make([]string, 0, len(s.IncludedNamespaces))
	for _, ns := range s.IncludedNamespaces {
		out = append(out, s.TargetNamespace(ns))
	}
	return out
}
