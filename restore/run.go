package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Target is the scratch cluster. The caller has already passed it through
// the scratch guard (kube.Guard).
type Target struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Kubeconfig and Context are handed to command checks.
	Kubeconfig, Context string
	// Exec runs exec checks and file data canaries in restored pods
	// (APIExecer for a real target); nil fails them.
	Exec Execer
}

// Options are how a restore runs, as opposed to what it restores.
type Options struct {
	// Now is firedrill's clock; default time.Now.
	Now func() time.Time
	// Progress receives live progress lines; nil means none.
	Progress io.Writer
	// RestoreProgress receives each change of phase or item count of a
	// Velero Restore being watched, the last one Done; nil writes each
	// change as a line (RestoreProgress.String) on Progress. How it is
	// drawn (a line rewritten on a terminal) is the caller's.
	RestoreProgress func(RestoreProgress)
	// Log receives debug logs; nil means none.
	Log *slog.Logger
	// BackupSyncWait bounds the wait for Velero's backup sync to bring a
	// backup named by name; default 2m (two ticks of the sync).
	BackupSyncWait time.Duration
	// LocationWait bounds the wait for a location to be Available; default 90s.
	LocationWait time.Duration
	// HTTPClient is used by HTTP checks and to download restore results;
	// default a client with a 30s timeout.
	HTTPClient *http.Client
	// BucketRecord, when set, reads the bucket's own record of a backup
	// named by name that the target does not hold, so that a backup
	// Velero's sync will never bring is reported at once instead of after
	// BackupSyncWait.
	BucketRecord BucketRecordReader
	// Reader, when set, is bound to its ClusterRole in each restored
	// namespace right after the restore phases (see Reader); nil for a
	// drill whose identity reads them already (a person's).
	Reader *Reader
}

// DefaultBackupSyncWait is two ticks of Velero's backup sync.
const DefaultBackupSyncWait = 2 * time.Minute

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RestoreProgress == nil {
		progress := o.Progress
		o.RestoreProgress = func(p RestoreProgress) {
			if progress != nil {
				fmt.Fprintln(progress, p.String())
			}
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.BackupSyncWait == 0 {
		o.BackupSyncWait = DefaultBackupSyncWait
	}
	if o.LocationWait <= 0 {
		o.LocationWait = DefaultLocationWait
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return o
}

// Run restores per spec into target, verifies the order, runs the checks
// and cleans up per the policy: Preflight, RecoveryPoint, Restore, Verify
// and Cleanup of a Session, in order. It returns a Result whenever a
// restore was attempted, even a failed one (Result.Passed says how it
// went); an error means the restore could not be run (nothing restored, or
// an API failure): what was created by then is removed whatever the policy,
// since nothing was restored to investigate. The Result of an interrupted
// run is returned with ctx's error, and cleaned up unless the policy is never.
func Run(ctx context.Context, target Target, spec Spec, opts Options) (res *Result, err error) {
	s, err := NewSession(target, spec, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		s.finish(ctx, err, s.res.Passed)
		res = s.res
		if err != nil && len(res.Restores) == 0 {
			res = nil
		}
	}()
	if err := s.Preflight(ctx); err != nil {
		return nil, err
	}
	if _, err := s.RecoveryPoint(ctx); err != nil {
		return nil, err
	}
	if err := s.Restore(ctx); err != nil {
		return nil, err
	}
	return nil, s.Verify(ctx)
}

// Session is one restore, step by step, for callers that time the steps
// themselves (the drill): Preflight, RecoveryPoint, Restore, Verify, then
// Cleanup, which is safe to call at any point and more than once. Result
// grows as the steps run.
type Session struct {
	t        Target
	spec     Spec
	opts     Options
	tr       *tracker
	res      *Result
	disaster time.Time
	cleaned  bool
	// secretValues are the values of the restored Secrets (see
	// SecretValues); secretsErr why they could not be read.
	secretValues []string
	secretsErr   error
	// interrupted is set when a step ended because its context was
	// cancelled: Cleanup may get a fresh context and must still know.
	interrupted bool
	// pvrErr says why the PodVolumeRestores of a phase could not be read.
	pvrErr string
}

// NewSession validates spec and prepares a restore into target (which the
// caller has passed through kube.Guard). It touches nothing.
func NewSession(target Target, spec Spec, opts Options) (*Session, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if opts.Reader != nil {
		if err := opts.Reader.Validate(); err != nil {
			return nil, err
		}
	}
	opts = opts.withDefaults()
	s := &Session{t: target, spec: spec, opts: opts, tr: &tracker{}}
	s.res = &Result{DrillID: spec.DrillID, Started: opts.Now(), Checks: []CheckResult{}, Restores: []PhaseResult{}}
	s.disaster = spec.DisasterTime
	if s.disaster.IsZero() {
		s.disaster = s.res.Started
	}
	return s, nil
}

// Result is what the session did so far.
func (s *Session) Result() *Result { return s.res }

// Cleanup removes what the session created, per the policy: passed says
// whether the drill passed (for onSuccess). It runs on a context that
// survives ctx's cancellation, with the spec's cleanup timeout. It returns
// the cleanup's errors joined; a second call does nothing.
func (s *Session) Cleanup(ctx context.Context, passed bool) error {
	s.finish(ctx, nil, passed)
	if s.res.Cleanup.Error != "" {
		return errors.New(s.res.Cleanup.Error)
	}
	return nil
}

// finish cleans up once: keep per the policy, but always clean up after an
// error that came before any restore (nothing to investigate), and after
// an interruption unless the policy is never.
func (s *Session) finish(ctx context.Context, err error, passed bool) {
	if s.cleaned {
		return
	}
	s.cleaned = true
	s.res.Finished = s.opts.Now()
	keep := keepAfter(s.spec.Cleanup, passed, s.interrupted || ctx.Err() != nil, err != nil && len(s.tr.restores) == 0)
	s.res.Cleanup = s.cleanup(ctx, keep)
}

// keepAfter decides whether what the drill created stays: never keeps;
// always removes; onSuccess keeps a failed drill for investigation, except
// after an interruption or an error that came before any restore, which
// leave nothing worth investigating.
func keepAfter(policy CleanupPolicy, passed, interrupted, failedBeforeRestore bool) bool {
	switch policy {
	case CleanupNever:
		return true
	case CleanupAlways:
		return false
	}
	return !passed && !interrupted && !failedBeforeRestore
}

func (s *Session) noteInterrupt(ctx context.Context) {
	if errors.Is(ctx.Err(), context.Canceled) {
		s.interrupted = true
	}
}

func (s *Session) progressf(format string, args ...any) {
	if s.opts.Progress != nil {
		fmt.Fprintf(s.opts.Progress, format+"\n", args...)
	}
}

// Preflight checks the target and prepares the location to restore from:
// Velero's namespace exists, no target namespace exists yet, and the
// location is Available; when restoring from a copy, it creates the copy's
// read-only location and credentials Secret and waits until Available.
func (s *Session) Preflight(ctx context.Context) (err error) {
	defer s.noteInterrupt(ctx)
	if err := s.preflight(ctx); err != nil {
		return err
	}
	sp := s.spec
	if sp.FromCopy == nil {
		return nil
	}
	s.res.FromCopy = sp.FromCopy.Name
	s.progressf("creating read-only BackupStorageLocation %s for copy %s", sp.FromCopy.StorageLocation, sp.FromCopy.Name)
	if err := createCopyLocation(ctx, s.t.Kube, s.t.Dynamic, sp.VeleroNamespace, sp.DrillID, sp.FromCopy, s.tr); err != nil {
		return err
	}
	if err := waitLocationAvailable(ctx, s.t.Dynamic, sp.VeleroNamespace, sp.FromCopy.StorageLocation, s.opts.LocationWait, false); err != nil {
		return fmt.Errorf("copy %q: %w", sp.FromCopy.Name, err)
	}
	return nil
}

// RecoveryPoint chooses the backup (see SelectBackup) and, when restoring
// from a copy, points the Backup object at the copy's location.
func (s *Session) RecoveryPoint(ctx context.Context) (*RecoveryPoint, error) {
	defer s.noteInterrupt(ctx)
	sp := s.spec
	if err := s.neverSynced(ctx, sp.Backup.Name); err != nil {
		return nil, err
	}
	rp, err := SelectBackup(ctx, s.t.Dynamic, sp.VeleroNamespace, sp.Backup, s.disaster, s.opts.BackupSyncWait)
	if err != nil {
		return nil, err
	}
	s.res.Backup, s.res.RPOSeconds = rp, rp.RPOSeconds
	for _, b := range rp.Skipped {
		s.progressf("recovery point: skipped newer backup %s", b)
	}
	if rp.Phase == velerov1.BackupPhasePartiallyFailed {
		// Which items the backup lacks is what the restore will lack.
		results, err := fetchBackupResults(ctx, s.t.Dynamic, s.opts.HTTPClient, sp.VeleroNamespace, rp.Backup, sp.DrillID)
		if err != nil {
			rp.ResultsError = err.Error()
		} else {
			rp.Results = &results
		}
	}
	s.progressf("recovery point: backup %s, %s (started %s, RPO %s; %s, %s)", rp.Backup, rp.Phase, rp.Started.UTC().Format(time.RFC3339),
		time.Duration(rp.RPOSeconds*float64(time.Second)).Round(time.Second), plural.Count(rp.Errors, "error", "errors"), plural.Count(rp.Warnings, "warning", "warnings"))
	if sp.FromCopy != nil {
		if err := useCopyLocation(ctx, s.t.Dynamic, sp.VeleroNamespace, rp.Backup, sp.FromCopy.StorageLocation, sp.DrillID, s.tr); err != nil {
			return nil, err
		}
		rp.StorageLocation = sp.FromCopy.StorageLocation
	}
	return rp, nil
}

// Restore runs the phases in order, each a watched Velero Restore, while
// the order watch records NetworkPolicies and workloads appearing; then it
// binds the Reader, if any, in the restored namespaces and reads the
// restored Secrets' values (see SecretValues). A phase that does not
// complete is a result (Result.Restored false), not an error.
func (s *Session) Restore(ctx context.Context) error {
	defer s.noteInterrupt(ctx)
	if s.res.Backup == nil {
		return errors.New("restore before a recovery point was chosen")
	}
	ow, err := startOrderWatch(ctx, s.t.Kube, s.spec.TargetNamespaces(), s.opts.Now)
	if err != nil {
		return err
	}
	restored, err := s.restorePhases(ctx, s.res.Backup.Backup)
	s.afterPhases(ctx)
	seen, gaps := ow.stop()
	proof := VerifyOrder(seen).withGaps(gaps)
	s.res.Order = &proof
	if err != nil {
		return err
	}
	s.res.OrderVerified = restored && proof.Verified
	s.res.Findings = append(s.res.Findings, orderFinding(proof, restored, s.spec.TargetNamespaces()))
	if restored {
		vd := s.volumeData(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.res.VolumeData = &vd
		s.res.Findings = append(s.res.Findings, volumeDataFinding(vd, s.podVolumeRestores(), s.res.Backup.Backup))
		restored = vd.OK()
	}
	s.res.Restored = restored
	return nil
}

// podVolumeRestores are the PodVolumeRestores of every phase, in order.
func (s *Session) podVolumeRestores() []PodVolumeRestoreResult {
	var out []PodVolumeRestoreResult
	for _, ph := range s.res.Restores {
		out = append(out, ph.PodVolumeRestores...)
	}
	return out
}

// volumeData sets the backup's file-system volume backups of the restored
// namespaces against the phases' PodVolumeRestores (see VolumeData): a
// volume the backup holds data of and no PodVolumeRestore restored came
// back empty, whatever the workloads say.
func (s *Session) volumeData(ctx context.Context) VolumeData {
	backed, err := volumeBackups(ctx, s.t.Dynamic, s.spec.VeleroNamespace, s.res.Backup.Backup, s.spec.IncludedNamespaces)
	if err != nil {
		return VolumeData{Error: err.Error()}
	}
	vd := matchVolumeData(backed, s.podVolumeRestores())
	vd.Error = s.pvrErr
	return vd
}

// afterPhases makes what the phases restored readable by the drill's
// identity (a scheduled drill's, see Reader), then reads the restored
// Secrets' values, which nothing the drill writes afterwards may hold. It
// runs after a failed restore too: what came back is still read by the
// evidence.
func (s *Session) afterPhases(ctx context.Context) {
	s.bindReader(ctx)
	s.readSecretValues(ctx)
}

// Verify runs the checks in order (each within its timeout) and decides
// Result.Passed. After a restore that did not complete the checks are
// skipped (CheckResult.Skipped), with no findings of their own: the
// restore's findings say what failed.
func (s *Session) Verify(ctx context.Context) error {
	defer s.noteInterrupt(ctx)
	res := s.res
	env := checkEnv{cs: s.t.Kube, kubeconfig: s.t.Kubeconfig, context: s.t.Context, disaster: s.disaster, now: s.opts.Now, http: s.opts.HTTPClient, exec: s.t.Exec}
	for _, c := range s.spec.Checks {
		if !res.Restored {
			res.Checks = append(res.Checks, CheckResult{Name: c.Name, Kind: checkKind(c), Skipped: true, Message: SkippedNotRestored})
			continue
		}
		s.progressf("check %s ...", c.Name)
		cr := runCheck(ctx, env, c)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.Checks = append(res.Checks, cr)
		verdict := "passed"
		if !cr.Passed {
			verdict = "FAILED"
		}
		s.progressf("check %s %s in %.1fs: %s", c.Name, verdict, cr.DurationSeconds, cr.Message)
		if cr.ApplicationRPOSeconds != nil && res.ApplicationRPOSeconds == nil {
			res.ApplicationRPOSeconds = cr.ApplicationRPOSeconds
		}
	}
	for _, cr := range res.Checks {
		if !cr.Skipped {
			res.Findings = append(res.Findings, checkFinding(cr))
		}
	}
	res.Passed = res.Restored && res.OrderVerified && !slices.ContainsFunc(res.Checks, func(c CheckResult) bool { return !c.Passed })
	return nil
}

// SkippedNotRestored is why the checks and what follows the restore do
// not run after a restore that did not complete.
const SkippedNotRestored = "skipped: the restore did not complete"

func checkKind(c Check) string {
	switch {
	case c.Workloads != nil:
		return "workloads"
	case c.HTTP != nil:
		return "http"
	case c.TCP != nil:
		return "tcp"
	case c.Command != nil:
		return "command"
	case c.Exec != nil:
		return "exec"
	case c.DataCanary != nil:
		return "dataCanary"
	case c.ServiceAccount != nil:
		return "serviceAccount"
	}
	return ""
}

// preflight checks the target before anything is created: Velero's
// location is Available (unless the drill brings its own) and no target
// namespace exists yet, because cleanup deletes the target namespaces and
// must never delete something the drill did not create.
func (r *Session) preflight(ctx context.Context) error {
	s := r.spec
	if _, err := r.t.Kube.CoreV1().Namespaces().Get(ctx, s.VeleroNamespace, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("velero namespace %q does not exist in the target: is Velero installed?", s.VeleroNamespace)
		}
		return fmt.Errorf("read namespace %s of the target: %w", s.VeleroNamespace, err)
	}
	for _, ns := range s.TargetNamespaces() {
		_, err := r.t.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err == nil {
			return &NamespaceExistsError{Namespace: ns}
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("read namespace %s of the target: %w", ns, err)
		}
	}
	if s.FromCopy == nil {
		if err := waitLocationAvailable(ctx, r.t.Dynamic, s.VeleroNamespace, s.StorageLocation, r.opts.LocationWait, true); err != nil {
			return err
		}
	}
	return nil
}

// NamespaceExistsError is returned when a namespace the restore would
// create already exists in the target.
type NamespaceExistsError struct{ Namespace string }

// Error names the namespace and why it must not exist.
func (e *NamespaceExistsError) Error() string {
	return fmt.Sprintf("namespace %s already exists in the target: a drill restores into namespaces it creates, and deletes them afterwards", e.Namespace)
}

// Hint says how to get past it.
func (e *NamespaceExistsError) Hint() string {
	return fmt.Sprintf("map it to a fresh name with spec.target.namespaceMapping, or delete it if a kept drill left it: kubectl delete namespace %s", e.Namespace)
}

// restorePhases creates one Velero Restore per phase, in order, each
// watched to its end. A phase that does not complete ends the restore.
func (r *Session) restorePhases(ctx context.Context, backup string) (bool, error) {
	s := r.spec
	restores := r.t.Dynamic.Resource(restoresGVR).Namespace(s.VeleroNamespace)
	for i, pr := range PlanRestores(s, backup) {
		label := fmt.Sprintf("%d/%d %s", i+1, len(s.Phases), pr.Phase)
		ph := PhaseResult{PlannedRestore: pr, Started: r.opts.Now()}
		phaseCtx, cancel := context.WithTimeout(ctx, s.PhaseTimeout)
		obj, err := toObject(pr.object(s.VeleroNamespace, s.DrillID), "Restore")
		if err == nil {
			_, err = restores.Create(phaseCtx, obj, metav1.CreateOptions{})
		}
		if err != nil {
			cancel()
			return false, fmt.Errorf("create restore %s (phase %s): %w", pr.Name, pr.Phase, err)
		}
		r.tr.mu.Lock()
		r.tr.restores = append(r.tr.restores, pr.Name)
		if pr.IncludeClusterResources {
			r.tr.crdRestores = append(r.tr.crdRestores, pr.Name)
		}
		if i == 0 {
			// Preflight proved they did not exist: whatever appears is the drill's.
			r.tr.namespaces = append(r.tr.namespaces, s.TargetNamespaces()...)
		}
		r.tr.mu.Unlock()
		st, err := watchRestore(phaseCtx, r.t.Dynamic, s.VeleroNamespace, pr.Name, r.opts.Now, r.opts.RestoreProgress, label)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				ph.Finished = r.opts.Now()
				ph.Status = StatusTimeout
				ph.FailureReason = fmt.Sprintf("not finished within %s", s.PhaseTimeout)
				// Velero holds a Restore until its PodVolumeRestores end:
				// those that did not are the likely reason.
				lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), pvrListTimeout)
				ph.PodVolumeRestores, _ = listPodVolumeRestores(lctx, r.t.Dynamic, s.VeleroNamespace, pr.Name)
				lcancel()
				r.res.Restores = append(r.res.Restores, ph)
				r.res.Findings = append(r.res.Findings, phaseFinding(ph))
				return false, nil
			}
			return false, fmt.Errorf("phase %s: %w", pr.Phase, err)
		}
		// The volume data of the pods this Restore created: Velero ends
		// the Restore after its PodVolumeRestores, so they are usually
		// done; within the phase's time they must be.
		pvrs, perr := waitPodVolumeRestores(phaseCtx, r.t.Dynamic, s.VeleroNamespace, pr.Name)
		cancel()
		switch {
		case perr != nil && ctx.Err() != nil:
			return false, ctx.Err()
		case perr != nil && !errors.Is(perr, context.DeadlineExceeded):
			r.pvrErr = perr.Error()
		}
		ph.PodVolumeRestores = pvrs
		for _, p := range pvrs {
			r.progressf("%s: PodVolumeRestore %s, %d/%d bytes in %.0fs", p.String(), p.Phase, p.BytesDone, p.TotalBytes, p.DurationSeconds)
		}
		ph.Finished = st.seen
		fillPhase(&ph, st.restore)
		if pr.IncludeClusterResources && ph.Status == velerov1.RestorePhaseCompleted && ph.ItemsRestored == 0 {
			// The backup holds no CRDs: none to delete, and no need for
			// the right to list them.
			r.tr.mu.Lock()
			r.tr.crdRestores = slices.DeleteFunc(r.tr.crdRestores, func(n string) bool { return n == pr.Name })
			r.tr.mu.Unlock()
		}
		if ph.Warnings+ph.Errors > 0 || ph.Status != velerov1.RestorePhaseCompleted && ph.Status != velerov1.RestorePhaseFailedValidation {
			results, err := fetchResults(ctx, r.t.Dynamic, r.opts.HTTPClient, s.VeleroNamespace, pr.Name, s.DrillID)
			if err != nil {
				ph.ResultsError = err.Error()
			} else {
				ph.Results = &results
			}
		}
		r.res.Restores = append(r.res.Restores, ph)
		r.res.Findings = append(r.res.Findings, phaseFinding(ph))
		if f, ok := resultsFinding(ph); ok {
			r.res.Findings = append(r.res.Findings, f)
		}
		r.progressf("restore %s: %s in %.2fs (%s, %s)", label, ph.Status, ph.Seconds(), plural.Count(ph.Warnings, "warning", "warnings"), plural.Count(ph.Errors, "error", "errors"))
		if ph.Status != velerov1.RestorePhaseCompleted {
			return false, nil
		}
	}
	return true, nil
}

func fillPhase(ph *PhaseResult, r *velerov1.Restore) {
	st := r.Status
	ph.Status = st.Phase
	ph.FailureReason = st.FailureReason
	ph.ValidationErrors = st.ValidationErrors
	if p := st.Progress; p != nil {
		ph.ItemsRestored, ph.TotalItems = int64(p.ItemsRestored), int64(p.TotalItems)
	}
	ph.Warnings, ph.Errors = int64(st.Warnings), int64(st.Errors)
	if t := st.StartTimestamp; t != nil {
		ph.VeleroStarted = t.UTC()
	}
	if t := st.CompletionTimestamp; t != nil {
		ph.VeleroCompleted = t.UTC()
	}
	ph.DurationSeconds = ph.Finished.Sub(ph.Started).Seconds()
}

func (r *Session) cleanup(ctx context.Context, keep bool) CleanupResult {
	cr := CleanupResult{Policy: r.spec.Cleanup}
	if keep {
		// The namespaces stay for investigation; the drill's read access
		// to them does not outlive the drill.
		unbound, err := unbindReader(ctx, r.t.Kube, r.tr, r.spec.CleanupTimeout)
		cr.Deleted = unbound
		if err != nil {
			cr.Error = err.Error()
		}
		cr.Kept = r.tr.items()
		if len(cr.Kept) > 0 {
			r.progressf("cleanup: keeping %s (policy %s)", strings.Join(cr.Kept, ", "), r.spec.Cleanup)
		}
		if len(unbound) > 0 {
			r.progressf("cleanup: deleted %s", strings.Join(unbound, ", "))
		}
		return cr
	}
	cr.Done = true
	deleted, err := cleanup(ctx, r.t.Kube, r.t.Dynamic, r.spec.VeleroNamespace, r.tr, r.spec.CleanupTimeout)
	cr.Deleted = deleted
	if err != nil {
		cr.Error = err.Error()
	}
	if len(deleted) > 0 {
		r.progressf("cleanup: deleted %s", strings.Join(deleted, ", "))
	}
	return cr
}

func orderFinding(p OrderProof, restored bool, namespaces []string) finding.Finding {
	subject := "creation order in namespaces " + strings.Join(namespaces, ", ") + " (a watch of NetworkPolicies and workloads during the restore)"
	if p.Verified {
		return finding.Pass("restore.order", subject,
			fmt.Sprintf("every workload appeared after a NetworkPolicy of its namespace (%d objects, ordered by %s)", len(p.Appearances), p.Method))
	}
	msg := "not every workload appeared after a NetworkPolicy of its namespace"
	if !restored && len(p.Violations) == 0 {
		msg = "the restore failed, so the order could not be proven"
	}
	return finding.Fail("restore.order", finding.SeverityFail, subject, msg).
		With("every workload created after a NetworkPolicy of its namespace", strings.Join(p.Violations, "; "),
			"restore namespaces and NetworkPolicies in a phase before the workloads")
}

func phaseFinding(ph PhaseResult) finding.Finding {
	id := "restore.phase." + ph.Phase
	subject := "Velero restore " + ph.Name
	if ph.Status == velerov1.RestorePhaseCompleted {
		f := finding.Pass(id, subject, fmt.Sprintf("status.phase Completed, status.progress %d of %s restored, in %.2fs", ph.ItemsRestored, plural.Count(ph.TotalItems, "item", "items"), ph.DurationSeconds))
		if ph.Warnings > 0 {
			f.Actual = plural.Count(ph.Warnings, "warning", "warnings")
		}
		return f
	}
	actual := "status.phase " + string(ph.Status)
	if ph.Status == StatusTimeout {
		actual = "no terminal status.phase: " + ph.FailureReason
	}
	return finding.Fail(id, finding.SeverityFail, subject, ph.Reason()).
		With("status.phase Completed", actual, "read the errors per namespace in the restore's results (velero restore describe "+ph.Name+" --details)")
}

// expectedWarning reports whether a Velero restore warning is one every
// restore into a fresh namespace gives: the API server creates the
// kube-root-ca.crt ConfigMap in each new namespace before Velero restores
// the backed-up one. Velero v1.18 words it "could not restore,
// ConfigMap:kube-root-ca.crt already exists" (ConfigMap "kube-root-ca.crt"
// with an existingResourcePolicy of none).
func expectedWarning(line string) bool {
	return strings.Contains(line, "could not restore, ConfigMap") && strings.Contains(line, "kube-root-ca.crt") &&
		strings.Contains(line, "already exists")
}

// resultsFinding surfaces, for a phase that ended Completed, Velero's
// per-item warnings and errors from its results object: a Restore can end
// Completed while items of it were not restored as backed up. ok is false
// when there is nothing beyond the expected warnings.
func resultsFinding(ph PhaseResult) (f finding.Finding, ok bool) {
	if ph.Status != velerov1.RestorePhaseCompleted || ph.Warnings+ph.Errors == 0 {
		return finding.Finding{}, false
	}
	subject := fmt.Sprintf("Velero restore %s results (restores/%s/restore-%s-results.gz)", ph.Name, ph.Name, ph.Name)
	id := "restore.results." + ph.Phase
	hint := "read them with `velero restore describe " + ph.Name + " --details`; restore what is missing in a later phase, or exclude it on purpose"
	if ph.Results == nil {
		return finding.Warn(id, subject, fmt.Sprintf("phase %s ended Completed with %s and %s (status.warnings, status.errors), whose items could not be read: %s",
			ph.Phase, plural.Count(ph.Warnings, "warning", "warnings"), plural.Count(ph.Errors, "error", "errors"), ph.ResultsError)).With("", "", hint), true
	}
	var lines []string
	for _, l := range append(ph.Results.Errors.Lines(), ph.Results.Warnings.Lines()...) {
		if !expectedWarning(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return finding.Finding{}, false
	}
	n := len(lines)
	if len(lines) > 10 {
		lines = append(lines[:10], fmt.Sprintf("and %d more", n-10))
	}
	return finding.Warn(id, subject, fmt.Sprintf("phase %s ended Completed, but Velero reported %s it did not restore as backed up: %s",
		ph.Phase, plural.Count(n, "item", "items"), strings.Join(lines, "; "))).
		With("no warnings or errors beyond kube-root-ca.crt", plural.Count(ph.Warnings, "warning", "warnings")+", "+plural.Count(ph.Errors, "error", "errors"), hint), true
}

func checkFinding(c CheckResult) finding.Finding {
	id := "verify." + c.Name
	subject := fmt.Sprintf("%s check %s", c.Kind, c.Name)
	if c.Passed {
		return finding.Pass(id, subject, c.Message)
	}
	return finding.Fail(id, finding.SeverityFail, subject, c.Message)
}
