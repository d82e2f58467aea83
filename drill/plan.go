package drill

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/lease"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Plan is what a drill of one scenario would do, in order.
type Plan struct {
	Scenario   string     `json:"scenario"`
	File       string     `json:"file"`
	Source     string     `json:"source"`
	Summary    string     `json:"summary"`
	Lost       []string   `json:"lost"`
	Objectives Objectives `json:"objectives"`
	// Warnings are what a drill would do that is likely a mistake,
	// although the scenario is valid, each "FILE:LINE: field: message":
	// the scenario's warnings (scenarios.Scenario.Warnings: custom
	// resources restored before their CRDs, a check naming an unmapped
	// namespace, ...), then the runbook's (a step hidden in HTML, not run;
	// manual estimates that alone exceed or nearly use up the RTO).
	Warnings []string   `json:"warnings,omitempty"`
	Steps    []PlanStep `json:"steps"`
}

// Objectives are the scenario's objectives as the plan shows them, in
// seconds.
type Objectives struct {
	RTOSeconds float64 `json:"rto_seconds"`
	RPOSeconds float64 `json:"rpo_seconds"`
	Tier       string  `json:"tier,omitempty"`
	// RetentionSeconds and MaxRetentionSeconds are objectives.retention
	// and maxRetention (the recovery window); absent when not set.
	RetentionSeconds    float64 `json:"retention_seconds,omitempty"`
	MaxRetentionSeconds float64 `json:"max_retention_seconds,omitempty"`
}

// PlanStep is one step of a Plan.
type PlanStep struct {
	Name            StepName `json:"name"`
	CountsTowardRTO bool     `json:"counts_toward_rto"`
	// Summary is one line on what the step is for.
	Summary string `json:"summary"`
	// Actions are what the step does, in order, in words.
	Actions []string `json:"actions"`
	// Phases are set on the restore step.
	Phases []RestorePhase `json:"phases,omitempty"`
	// Checks are set on the verify step.
	Checks []PlannedCheck `json:"checks,omitempty"`
	// Runbook is set on the runbook step when the scenario has one.
	Runbook *PlannedRunbook `json:"runbook,omitempty"`
	// Findings are the findings the step records in the report, by ID:
	// what a reader of the plan can look for in the report, and what the
	// run is held to (TestPlan_ClaimsMatchTheRun).
	Findings []PlannedFinding `json:"findings,omitempty"`
}

// PlannedFinding is a finding a step records, and the evidence it rests on.
type PlannedFinding struct {
	ID string `json:"id"`
	// When says when the step records it; empty means every time it runs.
	When string `json:"when,omitempty"`
	// Evidence is what the verdict rests on: which object, field or request.
	Evidence string `json:"evidence"`
}

func (s *PlanStep) finding(id, when, evidence string) {
	s.Findings = append(s.Findings, PlannedFinding{ID: id, When: when, Evidence: evidence})
}

// RestorePhase is one Velero Restore the drill would create.
type RestorePhase struct {
	Name               string   `json:"name"`
	StorageLocation    string   `json:"storage_location"`
	IncludedNamespaces []string `json:"included_namespaces"`
	// IncludedResources is empty when the phase restores every resource.
	IncludedResources []string          `json:"included_resources,omitempty"`
	ExcludedResources []string          `json:"excluded_resources"`
	NamespaceMapping  map[string]string `json:"namespace_mapping,omitempty"`
	// IncludeClusterResources is set on a phase that restores
	// CustomResourceDefinitions (restore.RestoresCRDs).
	IncludeClusterResources bool    `json:"include_cluster_resources,omitempty"`
	TimeoutSeconds          float64 `json:"timeout_seconds"`
}

// PlannedCheck is one check the verify step would run.
type PlannedCheck struct {
	Name           string              `json:"name"`
	Kind           scenarios.CheckKind `json:"kind"`
	Does           string              `json:"does"`
	TimeoutSeconds float64             `json:"timeout_seconds"`
}

// PlannedRunbook is the runbook the runbook step would follow.
type PlannedRunbook struct {
	Name  string               `json:"name,omitempty"`
	File  string               `json:"file"`
	Title string               `json:"title,omitempty"`
	Steps []PlannedRunbookStep `json:"steps"`
}

// PlannedRunbookStep is one step of the runbook: a command step with its
// timeout, or a manual step (manual: true) with its declared estimate.
type PlannedRunbookStep struct {
	Name           string  `json:"name"`
	TimeoutSeconds float64 `json:"timeout_seconds,omitempty"`
	Manual         bool    `json:"manual,omitempty"`
	// EstimateSeconds is a manual step's estimate: counted toward RTO
	// when nobody times the step.
	EstimateSeconds float64 `json:"estimate_seconds,omitempty"`
}

// NewPlan computes the plan of a drill of sc. It reads the scenario's
// runbook (embedded, or a local file) and nothing else: no cluster, bucket
// or network. It fails when the runbook is missing or invalid.
func NewPlan(sc *scenarios.Scenario) (*Plan, error) {
	rb, err := ScenarioRunbook(sc)
	if err != nil {
		return nil, err
	}
	s := sc.Spec
	p := &Plan{
		Scenario: sc.Metadata.Name,
		File:     sc.Origin.File,
		Source:   sc.Origin.Source.String(),
		Summary:  s.Disaster.Summary,
		Objectives: Objectives{RTOSeconds: time.Duration(s.Objectives.RTO).Seconds(), RPOSeconds: time.Duration(s.Objectives.RPO).Seconds(), Tier: s.Objectives.Tier,
			RetentionSeconds: time.Duration(s.Objectives.Retention).Seconds(), MaxRetentionSeconds: time.Duration(s.Objectives.MaxRetention).Seconds()},
	}
	for _, l := range s.Disaster.Lost {
		p.Lost = append(p.Lost, string(l))
	}
	for _, w := range sc.Warnings() {
		p.Warnings = append(p.Warnings, w.Error())
	}
	for _, w := range RunbookWarnings(sc, rb) {
		p.Warnings = append(p.Warnings, w.Error())
	}
	for _, st := range steps() {
		step := PlanStep{Name: st.name, CountsTowardRTO: st.countsTowardRTO}
		st.plan(&step, sc, rb)
		p.Steps = append(p.Steps, step)
	}
	return p, nil
}

// ScenarioRunbook returns the scenario's runbook, built-in or from its
// file, or nil when it has none. Errors name the scenario's field.
func ScenarioRunbook(sc *scenarios.Scenario) (*runbooks.Runbook, error) {
	ref := sc.Spec.Runbook
	switch {
	case ref == nil:
		return nil, nil
	case ref.Name != "":
		rb, err := runbooks.Builtin(ref.Name)
		if errors.Is(err, runbooks.ErrNotFound) {
			return nil, sc.FieldError("spec.runbook.name", "no built-in runbook named %q", ref.Name)
		}
		return rb, err
	default:
		data, err := safefile.ReadFile(ref.File, safefile.Runbook)
		if err != nil {
			return nil, sc.FieldError("spec.runbook.file", "read runbook %s: %v", sc.DisplayPath(ref.File), unwrapPath(err))
		}
		return runbooks.Parse(sc.DisplayPath(ref.File), data)
	}
}

// unwrapPath drops the absolute path os and safefile errors carry; the
// caller names the file as the user knows it.
func unwrapPath(err error) error {
	var se *safefile.Error
	if errors.As(err, &se) {
		err = se.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *PlanStep) add(format string, args ...any) {
	s.Actions = append(s.Actions, fmt.Sprintf(format, args...))
}

func planLoad(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	step.Summary = "find the scenario and validate it strictly"
	step.add("read scenario %q from %s (%s)", sc.Metadata.Name, sc.Origin.File, sc.Origin.Source)
	step.add("validate it: unknown fields, wrong types, missing fields and contradictions stop the drill here")
}

func planPreflight(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	step.Summary = "reach the target and make sure it is a scratch cluster, never the source"
	src := "source cluster: only read (get and list requests), for the backup's scope in the recovery-point step; never written to"
	if s.Disaster.Loses(scenarios.LossSourceCluster) {
		src = "source cluster: not contacted (the scenario loses it)"
	}
	if s.Source.Kubeconfig != "" || s.Source.Context != "" {
		step.add("%s; the API server URL and CA of its kubeconfig (%s) are compared with the target's, and a target that is the source is refused", src, clusterText(s.Source))
	} else {
		step.add("source cluster: never contacted; the scenario names no source kubeconfig to compare the target with")
	}
	step.add("reach the target cluster (%s) and stop unless its namespace kube-system carries the label %s=%s",
		clusterText(scenarios.ClusterRef{Kubeconfig: s.Target.Kubeconfig, Context: s.Target.Context}), kube.ScratchLabel, kube.ScratchValue)
	ns, name := leaseRef(sc)
	wait := "stop at once, naming the drill that holds it"
	if w := s.Target.LockWait; w > 0 {
		wait = fmt.Sprintf("wait up to %s (spec.target.lockWait) for the drill that holds it, then stop, naming it", durText(scenarios.Duration(w)))
	}
	step.add("take Lease %s/%s (coordination.k8s.io/v1) in the target, one drill at a time: renewed every %s, held until the end of cleanup, free %s after the last renewal if the drill dies; %s",
		ns, name, FormatSeconds(lease.DefaultRenewEvery.Seconds()), FormatSeconds(lease.DefaultDuration.Seconds()), wait)
	step.add("namespace %q (Velero's) exists in the target", s.Backups.VeleroNamespace)
	var nss []string
	for _, ns := range s.Backups.IncludedNamespaces {
		nss = append(nss, s.Target.TargetNamespace(ns))
	}
	step.add("namespaces %s do not exist yet in the target: the drill deletes what it restores, so it restores only into namespaces it creates", strings.Join(nss, ", "))
	location, from := sc.RestoreFrom()
	if from == nil {
		step.add("BackupStorageLocation %q (%s) is Available in the target (its status.phase)", location, bucketText(s.Storage.Primary))
		return
	}
	step.add("create read-only BackupStorageLocation %q for copy %q (%s) in the target and wait until it is Available (its status.phase)",
		location, from.Name, bucketText(from.Bucket))
}

func planProtection(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	primary := s.Storage.Primary
	step.Summary = "prove the backups are protected: object lock and off-site copies"
	step.add("primary: %s; %s", bucketText(primary), lockText(primary.ObjectLock))
	step.add("every object of the chosen backup is under a retention that has not expired")
	step.add("every object version of the repositories the backup's volume data is in (%s: those its PodVolumeBackups name, and the kopia repositories of the namespaces it includes) is retained, the latest version of each object until the backup expires", repoText(primary))
	step.add("a canary object under the drill's own prefix proves a locked version can be neither deleted nor have its retention shortened")
	if s.Disaster.Loses(scenarios.LossPrimaryStorage) {
		step.add("the scenario loses primaryStorage: these checks prove the lock held; the restore does not read the primary bucket")
	}
	for _, c := range s.Storage.Copies {
		lock := "no object lock required"
		if c.ObjectLock != nil {
			lock = lockText(c.ObjectLock)
		}
		step.add("%s copy %q: %s holds the same objects as the primary, compared by %s; %s",
			c.Kind, c.Name, bucketText(c.Bucket), compareText(c.Compare), lock)
	}
	if len(s.Storage.Copies) == 0 {
		step.add("no off-site or off-cloud copies are declared")
	}
	if o := s.Objectives; o.Retention > 0 || o.MaxRetention > 0 {
		missed := "no run of the schedule's cron expression missed, "
		if s.Backups.Schedule == "" {
			missed = ""
		}
		step.add("the recovery window, from the bucket's backups/*/velero-backup.json%s: reaches back retention %s, no backup failed, %sthe worst gap within the RPO %s, every backup in it locked until it expires (window.*)",
			windowScheduleText(s.Backups), orDash(o.Retention), missed, durText(o.RPO))
		if s.Backups.Schedule == "" {
			step.add("missed runs are not looked for: no spec.backups.schedule is named, so the window holds every backup in the bucket, of any schedule")
		}
		if o.MaxRetention > 0 {
			step.add("nothing kept past maxRetention %s: backups, volume-data repository objects, Velero TTLs, bucket and object lock periods", durText(o.MaxRetention))
		}
	}
}

func windowScheduleText(b scenarios.Backups) string {
	if b.Schedule == "" {
		return ""
	}
	return fmt.Sprintf(" of Schedule %q", b.Schedule)
}

func orDash(d scenarios.Duration) string {
	if d == 0 {
		return "(not declared)"
	}
	return durText(d)
}

// durText writes a duration of the scenario as every report and message
// writes durations (internal/durfmt): "1h00m" and "1d" whether the
// scenario says 60m or 24h, so the plan's RPO objective reads as the
// report's and the finding's that measure against it.
func durText(d scenarios.Duration) string { return FormatSeconds(time.Duration(d).Seconds()) }

// repoText is where the repositories of a bucket's backups are.
func repoText(b scenarios.Bucket) string {
	return path.Join(b.Prefix, "kopia") + "/NAMESPACE/"
}

func planRecoveryPoint(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	b := s.Backups
	location, from := sc.RestoreFrom()
	step.Summary = "choose the backup to restore and measure the RPO"
	step.add("read the Velero Backup objects in namespace %q of the target (Velero's backup sync brings them from the bucket)", b.VeleroNamespace)
	restorable := "Completed"
	if b.AllowPartiallyFailed {
		restorable = "Completed or PartiallyFailed (allowPartiallyFailed)"
	}
	switch {
	case b.BackupName != "":
		step.add("use Backup %q; its status.phase must be %s", b.BackupName, restorable)
	case b.Window != nil && b.Window.Pick == scenarios.PickRandom:
		seed := "a seed chosen at run time, recorded in the report as recovery_point_choice.seed; run --pick-seed replays it"
		if b.Window.Seed != nil {
			seed = fmt.Sprintf("seed %d", *b.Window.Seed)
		}
		step.add("pick at random (%s) one of the %s Backups%s started within %s before the disaster", seed, restorable, windowScheduleText(b), durText(b.Window.Within))
	case b.Window != nil:
		step.add("use the latest %s Backup%s started within %s before the disaster", restorable, windowScheduleText(b), durText(b.Window.Within))
	case b.Schedule != "":
		step.add("use the latest %s Backup of Schedule %q (label velero.io/schedule-name)", restorable, b.Schedule)
	}
	if from != nil {
		step.add("point the chosen Backup at storage location %q (its spec.storageLocation), so Velero reads the copy; put back at cleanup", location)
	}
	if s.Disaster.DeclaredAt.IsZero() {
		step.add("disaster time: the start of the drill")
	} else {
		step.add("disaster time: %s (declaredAt)", s.Disaster.DeclaredAt.UTC().Format(time.RFC3339))
	}
	step.add("RPO = disaster time - the backup's status.startTimestamp; objective %s", durText(s.Objectives.RPO))
	// The first data canary in check order that reads a time gives
	// rpo_data (recovery.Verify keeps the first CanaryTime).
	var first string
	for _, c := range s.Checks {
		if c.DataCanary == nil {
			continue
		}
		if first == "" {
			first = c.Name
			step.add("after the restore, check %q gives the RPO the application sees (rpo_data): disaster time - %s",
				c.Name, canaryText(c.DataCanary, s.Target))
			continue
		}
		step.add("after the restore, check %q reads %s as well; it gives rpo_data only when no data canary before it (%q first) reads a time",
			c.Name, canaryText(c.DataCanary, s.Target), first)
	}
	planScope(step, sc)
	step.finding("recovery-point.backup", "", "the chosen Backup's status.phase and status.startTimestamp")
	step.finding("recovery-point.skipped", "newer backups of the selector are not restorable", "each newer Backup's status.phase, status.errors and status.warnings")
	if b.AllowPartiallyFailed {
		step.finding("recovery-point.partially-failed", "the chosen backup is PartiallyFailed",
			"its status.errors and status.warnings, and its results (backups/NAME/NAME-results.gz, through a DownloadRequest)")
	}
}

// planScope is what the recovery-point step says of the backup's scope:
// which PersistentVolumeClaims of the source it holds (drill.Scope).
func planScope(step *PlanStep, sc *scenarios.Scenario) {
	s := sc.Spec
	b := s.Backups
	if why := ScopeSkipped(sc); why != "" {
		step.add("backup scope, from the backup's files alone (the source is not read: %s): every PersistentVolumeClaim of namespaces %s in backups/NAME/NAME-resource-list.json.gz "+
			"without a Completed PodVolumeBackup (NAME-podvolumebackups.json.gz), DataUpload or snapshot (NAME-volumeinfo.json.gz, NAME-volumesnapshots.json.gz, NAME-csi-volumesnapshots.json.gz) is restored without its data; "+
			"why not cannot be told without the source", why, strings.Join(b.IncludedNamespaces, ", "))
		if len(b.AcceptedOutOfScope) > 0 {
			step.add("accepted out of scope (a warning, not a failure): %s", strings.Join(b.AcceptedOutOfScope, ", "))
		}
		step.finding("scope.claim", "a claim of the backup has no volume data in it (fails the step unless the scenario accepts it)", "the backup's resource list, PodVolumeBackups, volume information and snapshot files in the bucket")
		step.finding("scope.claims", "every claim of the backup has its data in it", "the same")
		step.finding("scope.source", "the backup's files could not be read", "the failed bucket read")
		return
	}
	step.add("backup scope, read-only in the source (%s): list the PersistentVolumeClaims of namespaces %s and say for each whether the chosen backup holds its data: "+
		"a Completed PodVolumeBackup (label velero.io/backup-name in namespace %q, and backups/NAME/NAME-podvolumebackups.json.gz), DataUpload, native snapshot (NAME-volumesnapshots.json.gz) or CSI snapshot (NAME-csi-volumesnapshots.json.gz); "+
		"else why not: namespace or resource excluded by the backup, created after it, mounted by no pod, opted out (backup.velero.io/backup-volumes-excludes), no opt-in (defaultVolumesToFsBackup false and no backup.velero.io/backup-volumes), or its volume backup failed",
		clusterText(s.Source), strings.Join(b.IncludedNamespaces, ", "), b.VeleroNamespace)
	if len(b.AcceptedOutOfScope) > 0 {
		step.add("accepted out of scope (a warning, not a failure): %s", strings.Join(b.AcceptedOutOfScope, ", "))
	}
	step.add("list the source's Velero Schedules in namespace %q and every PersistentVolumeClaim of the source: name the namespaces with claims that no Schedule covers", b.VeleroNamespace)
	step.finding("scope.claim", "a claim's data is not in the backup (fails the step unless the scenario accepts it)", "the claim, the pods that mount it and their annotations, the backup's spec and its PodVolumeBackups, DataUploads and snapshot files")
	step.finding("scope.claims", "every claim's data is in the backup", "the same")
	step.finding("scope.uncovered-namespaces", "a namespace with claims is in no Schedule", "the Schedules' template includedNamespaces and excludedNamespaces, and the source's claims")
	step.finding("scope.source", "part of the source or the bucket could not be read", "the failed list or get request, or the bucket read")
}

func planRestore(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	r := s.Target.Restore
	location, from := sc.RestoreFrom()
	step.Summary = plural.Count(len(r.Phases), "Velero Restore", "Velero Restores") + " in the target, one after the other, each watched until it completes"
	if from != nil {
		step.add("restore from copy %q (storage location %q), because the scenario loses primaryStorage", from.Name, location)
	}
	// The Restores the run creates, from the same function (names aside).
	for _, pr := range PlanRestores(sc, "plan") {
		step.Phases = append(step.Phases, RestorePhase{
			Name:                    pr.Phase,
			StorageLocation:         location,
			IncludedNamespaces:      pr.IncludedNamespaces,
			IncludedResources:       pr.IncludedResources,
			ExcludedResources:       pr.ExcludedResources,
			NamespaceMapping:        pr.NamespaceMapping,
			IncludeClusterResources: pr.IncludeClusterResources,
			TimeoutSeconds:          time.Duration(r.Timeout).Seconds(),
		})
	}
	step.add("each Restore must end Completed; Velero's warnings and errors, item by item, are read from its results (restores/NAME/restore-NAME-results.gz, through a DownloadRequest) when it has any")
	for _, w := range sc.RestoreOrderWarnings() {
		step.add("warning: %s", w.Error())
	}
	// The order is watched while the phases run, so it is proven (and its
	// finding recorded) in this step.
	order := "order: in each restored namespace a NetworkPolicy was created before every workload (Deployment, StatefulSet, DaemonSet, Job, CronJob), by resourceVersion as a watch saw them during the restore"
	if i := networkPoliciesPhase(r.Phases); i >= 0 && i < len(r.Phases)-1 {
		step.add("%s (phase %q runs first)", order, r.Phases[i].Name)
	} else {
		step.add("%s; no phase restores NetworkPolicies before the workloads, so expect this to fail", order)
	}
	for _, ph := range step.Phases {
		step.finding("restore.phase."+ph.Name, "", "the Restore's status.phase, status.progress and, when it did not complete, its results")
	}
	for _, ph := range step.Phases {
		step.finding("restore.results."+ph.Name, "the Restore ended Completed with warnings or errors beyond kube-root-ca.crt",
			"its results (restores/NAME/restore-NAME-results.gz, through a DownloadRequest)")
	}
	step.add("set the chosen backup's items (status.progress and backups/NAME/NAME-resource-list.json.gz) against what the Restores created (restores/NAME/restore-NAME-resource-list.json.gz), kind by kind, read from the bucket the restore reads")
	step.finding("scope.counts", "every Restore completed", "the resource lists of the backup and of each Restore in the bucket")
	step.finding("restore.reader", "a scheduled drill binds its ServiceAccount to read the restored namespaces ("+EnvRestoredReaderRole+" set)",
		"the RoleBinding create requests in each restored namespace")
	step.finding("restore.order", "", "a watch of NetworkPolicies, Deployments, StatefulSets, DaemonSets, Jobs and CronJobs in the restored namespaces, ordered by resourceVersion")
	step.add("volume data: each Restore's PodVolumeRestores (node-agent writing a file-system backup into the pod Velero restored) must end Completed within the phase's timeout; " +
		"every volume the backup's PodVolumeBackups hold data of, in the restored namespaces, must have one (a pod not restored gets an empty volume)")
	step.finding("restore.volume-data", "", "the backup's PodVolumeBackups (velero.io/backup-name) and the Restores' PodVolumeRestores (velero.io/restore-name) in Velero's namespace")
}

func planVerify(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	step.Summary = "prove the restore worked"
	for _, c := range s.Checks {
		step.Checks = append(step.Checks, PlannedCheck{Name: c.Name, Kind: c.Kind(), Does: checkText(c, s.Target), TimeoutSeconds: time.Duration(c.Timeout).Seconds()})
		step.finding("verify."+c.Name, "", "what check "+c.Name+" read or requested, in its message")
	}
	if len(s.Checks) == 0 {
		step.add("no checks are declared: only the Velero Restores' own status and the order (restore step) are verified")
	}
}

func networkPoliciesPhase(phases []scenarios.Phase) int {
	return slices.IndexFunc(phases, func(p scenarios.Phase) bool {
		return slices.Contains(p.IncludedResources, scenarios.NetworkPolicies) || slices.Contains(p.IncludedResources, "networkpolicies")
	})
}

func planRunbook(step *PlanStep, sc *scenarios.Scenario, rb *runbooks.Runbook) {
	step.Summary = "follow the runbook mechanically and time each step"
	if rb == nil {
		step.add("the scenario has no runbook: nothing to follow")
		return
	}
	pr := &PlannedRunbook{Name: rb.Name, File: rb.File, Title: rb.Title}
	for _, st := range rb.Steps {
		if st.Manual {
			pr.Steps = append(pr.Steps, PlannedRunbookStep{Name: st.Name, Manual: true, EstimateSeconds: st.Estimate.Seconds()})
			continue
		}
		pr.Steps = append(pr.Steps, PlannedRunbookStep{Name: st.Name, TimeoutSeconds: st.Timeout.Seconds()})
	}
	step.Runbook = pr
	commands, manual := rb.Commands(), len(rb.Steps)-rb.Commands()
	if manual == 0 {
		step.add("run the %s of %s in order, each within its timeout, against the target", plural.Count(commands, "step", "steps"), rb.File)
	} else {
		step.add("run the %s of %s in order, each within its timeout, against the target", plural.Count(commands, "command step", "command steps"), rb.File)
		// FormatSeconds, as the warning on the same figure and the plan's
		// list of the steps' estimates write it: days for days.
		m := manualTimeOf(sc, rb)
		what := fmt.Sprintf("%s, estimated at %s%s%s", plural.Count(manual, "manual step", "manual steps"), FormatSeconds(m.total.Seconds()), plural.Of(manual, "", " in all"), m.againstRTO())
		step.add("%s: at a terminal each is shown and timed until the operator confirms it (inside the measured RTO); without one (CI, a scheduled pod, --yes) the estimates are declared and added to the measured RTO", what)
	}
	step.add("a failing step stops the runbook: the runbook is out of date")
	step.finding("runbook.out-of-date", "a step fails or times out", "the step's exit status and last output line")
	if manual > 0 {
		step.finding("runbook.manual-step-not-done", "the operator declines a manual step", "the operator's answer")
	}
}

func planReport(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	d := sc.Spec.Disaster
	step.Summary = "measure against the objectives and write the report"
	step.add("timeline of every step; RTO (the restore, verify and runbook steps) against %s, RPO against %s", durText(sc.Spec.Objectives.RTO), durText(sc.Spec.Objectives.RPO))
	step.add("per-phase breakdown and findings, as JSON, Markdown and HTML")
	people := d.Lead
	if len(d.Observers) > 0 {
		people += "; observers: " + strings.Join(d.Observers, ", ")
	}
	step.add("retrospective template (what went well, what to improve, action items) for %s", people)
	step.finding("history.upload", "a shared history (--history) is set and an upload to it fails", "the upload request to the history bucket")
}

func planEvidence(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	step.Summary = "keep evidence an auditor accepts"
	step.add("before cleanup, keep the Velero Backup and Restores and every object of the restored namespaces (Secret values redacted)")
	step.add("remove credentials and restored Secret values from every file of the drill")
	step.add("with a signing key (--evidence-key), sign a bundle of it all: SHA-256 of every file, Ed25519 signature, controls supported")
	if e := sc.Spec.Evidence; e != nil && e.Push != nil {
		step.add("upload the bundle to s3://%s/%s at %s, locked %s for %s, and read its retention back (spec.evidence.push)",
			e.Push.Bucket.Bucket, e.Push.Prefix, e.Push.Endpoint, e.Push.LockMode, durText(e.Push.Retention))
	} else {
		step.add("with --evidence-push, upload the bundle to an object-locked bucket and read its retention back")
	}
	step.finding("evidence.collect", "part of the evidence could not be read", "the reads of the Velero objects and the restored namespaces")
}

func planCleanup(step *PlanStep, sc *scenarios.Scenario, _ *runbooks.Runbook) {
	s := sc.Spec
	step.Summary = "remove what the drill created in the target"
	switch s.Cleanup.Policy {
	case scenarios.CleanupAlways:
		step.add("policy always: delete what the drill created, whether it passed or failed")
	case scenarios.CleanupNever:
		step.add("policy never: keep everything for inspection; remove it by hand")
	default:
		step.add("policy onSuccess: delete what the drill created if it passed; keep it for investigation if it failed")
	}
	var nss []string
	for _, ns := range s.Backups.IncludedNamespaces {
		nss = append(nss, s.Target.TargetNamespace(ns))
	}
	created := "namespaces " + strings.Join(nss, ", ") + ", the Velero Restores"
	// The Restores that restore CRDs, as the restore planner decides.
	if slices.ContainsFunc(restore.PlanRestores(restoreSelection(sc, "plan"), ""), func(p restore.PlannedRestore) bool { return p.IncludeClusterResources }) {
		created += ", the CustomResourceDefinitions Velero created for them (label velero.io/restore-name)"
	}
	if _, from := sc.RestoreFrom(); from != nil {
		created += fmt.Sprintf(", BackupStorageLocation %q with its credentials Secret, and the chosen Backup's storage location is put back", from.StorageLocation)
	}
	step.add("what the drill created: %s", created)
	step.add("within %s, even after Ctrl-C", durText(s.Cleanup.Timeout))
	step.add("never written to: the source cluster; in the backup buckets only the protection canary, under its own prefix " +
		"(locked, so it stays until its retention ends), and Velero's record of each Restore (restores/NAME/)")
	step.finding("cleanup", "cleanup did not finish", "the delete requests and the watches that saw each object gone")
}

func clusterText(c scenarios.ClusterRef) string {
	kc := c.Kubeconfig
	if kc == "" {
		kc = "$KUBECONFIG or ~/.kube/config"
	}
	ctx := c.Context
	if ctx == "" {
		ctx = "the current context"
	} else {
		ctx = fmt.Sprintf("context %q", ctx)
	}
	return fmt.Sprintf("kubeconfig %s, %s", kc, ctx)
}

func bucketText(b scenarios.Bucket) string {
	s := fmt.Sprintf("bucket %q", b.Bucket)
	if b.Prefix != "" {
		s += fmt.Sprintf(" prefix %q", b.Prefix)
	}
	return s + " at " + b.Endpoint
}

func lockText(l *scenarios.ObjectLock) string {
	if l == nil {
		return "object lock not declared"
	}
	s := fmt.Sprintf("object lock enabled, mode %s", l.Mode)
	if l.MinRetention > 0 {
		s += fmt.Sprintf(", default retention at least %s", durText(l.MinRetention))
	}
	return s
}

func compareText(c scenarios.Compare) string {
	switch c.Mode {
	case scenarios.CompareExistence:
		return "existence"
	case scenarios.CompareSize:
		return "existence and size"
	case scenarios.CompareChecksum:
		return "checksum"
	case scenarios.CompareContent:
		return "full content"
	case scenarios.CompareSampled:
		seed := "a seed chosen at run time"
		if c.Seed != nil {
			seed = fmt.Sprintf("seed %d", *c.Seed)
		}
		return fmt.Sprintf("checksum, and the content of %d%% of the objects (%s)", c.SamplePercent, seed)
	}
	return string(c.Mode)
}

// podText names the container a check runs in: "pod P" or "the first
// Running pod of selector S", and the container when one is named.
// canaryText is where a data canary reads its time, in the target.
func canaryText(dc *scenarios.DataCanaryCheck, t scenarios.Target) string {
	ns := t.TargetNamespace(dc.Namespace)
	switch {
	case dc.File != "":
		return fmt.Sprintf("the newest time in file %s of %s in namespace %s", dc.File, podText(dc.Pod, dc.Selector, dc.Container), ns)
	case len(dc.Command) > 0:
		return fmt.Sprintf("the newest time %s prints in %s in namespace %s", strings.Join(dc.Command, " "), podText(dc.Pod, dc.Selector, dc.Container), ns)
	}
	return fmt.Sprintf("the time in ConfigMap %s/%s (key %s)", ns, dc.ConfigMap, dc.Key)
}

func podText(pod, selector, container string) string {
	s := "pod " + pod
	if selector != "" {
		s = "the first Running pod of " + selector
	}
	if container != "" {
		s += " (container " + container + ")"
	}
	return s
}

func checkText(c scenarios.Check, t scenarios.Target) string {
	ns := func(n string) string {
		if to := t.TargetNamespace(n); to != n {
			return fmt.Sprintf("%s (%s in the backup)", to, n)
		}
		return n
	}
	switch c.Kind() {
	case scenarios.CheckWorkloads:
		return fmt.Sprintf("Deployments, StatefulSets and DaemonSets Available and Jobs complete in namespace %s", ns(c.Workloads.Namespace))
	case scenarios.CheckHTTP:
		s := fmt.Sprintf("GET %s answers %s", c.HTTP.URL, c.HTTP.ExpectStatus)
		if svc := c.HTTP.Service; svc != nil {
			s = fmt.Sprintf("GET %s from Service %s port %s in namespace %s, through the target API server's service proxy with the target's credentials, answers %s",
				cmp.Or(c.HTTP.Path, scenarios.DefaultServicePath), svc.Name, svc.Port, ns(svc.Namespace), c.HTTP.ExpectStatus)
		}
		if c.HTTP.BodyContains != "" {
			s += fmt.Sprintf(" with %q in the body", c.HTTP.BodyContains)
		}
		return s
	case scenarios.CheckTCP:
		return "TCP connection to " + c.TCP.Address
	case scenarios.CheckCommand:
		return fmt.Sprintf("run %s against the target; it must exit 0", strings.Join(c.Command.Run, " "))
	case scenarios.CheckExec:
		e := c.Exec
		s := fmt.Sprintf("run %s in %s of namespace %s, through the API server's pods/exec; it must exit 0",
			strings.Join(e.Command, " "), podText(e.Pod, e.Selector, e.Container), ns(e.Namespace))
		switch {
		case e.ExpectOutput != nil:
			s += fmt.Sprintf(" and print %q", *e.ExpectOutput)
		case e.ExpectRegexp != "":
			s += fmt.Sprintf(" with output that %q matches", e.ExpectRegexp)
		}
		return s
	case scenarios.CheckDataCanary:
		dc := c.DataCanary
		if dc.File != "" {
			return fmt.Sprintf("file %s in %s of namespace %s (read with cat through pods/exec) holds RFC 3339 times: the newest is the newest data of the restored volume",
				dc.File, podText(dc.Pod, dc.Selector, dc.Container), ns(dc.Namespace))
		}
		if len(dc.Command) > 0 {
			return fmt.Sprintf("%s in %s of namespace %s (through pods/exec) prints RFC 3339 times: the newest is the newest data of the restored volume",
				strings.Join(dc.Command, " "), podText(dc.Pod, dc.Selector, dc.Container), ns(dc.Namespace))
		}
		return fmt.Sprintf("ConfigMap %s in namespace %s holds an RFC 3339 time under %q: the newest data in the backup",
			dc.ConfigMap, ns(dc.Namespace), dc.Key)
	case scenarios.CheckServiceAccount:
		sa := c.ServiceAccount
		user := "system:serviceaccount:" + t.TargetNamespace(sa.Namespace) + ":" + sa.Name
		token := fmt.Sprintf("a token requested for it (TokenRequest, valid %s)", FormatSeconds(restore.ServiceAccountTokenExpiry.Seconds()))
		if sa.TokenSecret != "" {
			token = fmt.Sprintf("the long-lived token in Secret %s (type %s, annotated for it)", sa.TokenSecret, corev1.SecretTypeServiceAccountToken)
		}
		return fmt.Sprintf("ServiceAccount %s in namespace %s authenticates: %s passes a TokenReview as %s; the token is never printed",
			sa.Name, ns(sa.Namespace), token, user)
	}
	return ""
}
