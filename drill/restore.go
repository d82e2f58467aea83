package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/envname"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/lease"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The environment of a scheduled drill's pod (drill/schedule renders
// it): the drill runs as a ServiceAccount that may bind itself, in the
// namespaces it restored and only there, to a ClusterRole that reads
// them. A drill run by hand has none of them, and binds nothing.
const (
	// EnvRestoredReaderRole names that ClusterRole.
	EnvRestoredReaderRole = "FIREDRILL_RESTORED_READER_ROLE"
	// EnvServiceAccountName and EnvServiceAccountNamespace are the pod's
	// ServiceAccount, from the downward API.
	EnvServiceAccountName      = "FIREDRILL_SERVICE_ACCOUNT_NAME"
	EnvServiceAccountNamespace = "FIREDRILL_SERVICE_ACCOUNT_NAMESPACE"
)

// RestoredReader reads from the environment (getenv; nil means os.Getenv)
// which identity the drill binds to which ClusterRole in the namespaces
// it restored (see restore.Reader): nil when EnvRestoredReaderRole is not
// set, an error when it is set without the ServiceAccount, which a
// manifest edited by hand can leave out.
func RestoredReader(getenv func(string) string) (*restore.Reader, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	role := getenv(EnvRestoredReaderRole)
	if role == "" {
		return nil, nil
	}
	r := &restore.Reader{ClusterRole: role, ServiceAccount: getenv(EnvServiceAccountName), Namespace: getenv(EnvServiceAccountNamespace)}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%s is set: %w (set %s and %s, as the manifests of 'firedrill schedule render' do)",
			EnvRestoredReaderRole, err, EnvServiceAccountName, EnvServiceAccountNamespace)
	}
	return r, nil
}

// RestoreOptions are how RunRestore runs.
type RestoreOptions struct {
	// DrillID names what the restore creates; empty means NewDrillID.
	DrillID string
	// Getenv reads the environment variables that hold a copy's
	// credentials, the primary bucket's (to read a backup's record, see
	// BucketRecordReader) and those of RestoredReader; nil means os.Getenv.
	// Values are never logged.
	Getenv func(string) string
	// Now is firedrill's clock; nil means time.Now.
	Now func() time.Time
	// Progress receives live progress lines.
	Progress io.Writer
	// RestoreProgress receives each change of a watched Velero Restore
	// (restore.Options.RestoreProgress); nil writes it as a line on
	// Progress.
	RestoreProgress func(restore.RestoreProgress)
	Log             *slog.Logger
	// BackupSyncWait bounds the wait for Velero's backup sync; zero means
	// restore.DefaultBackupSyncWait, negative means do not wait.
	BackupSyncWait time.Duration
	// Secrets gets the credentials of the target's and the source's
	// kubeconfig (tokens, passwords, client keys); nil takes none.
	Secrets *secret.Set
	// LockWait bounds the wait for another drill's Lease on the scratch
	// cluster (see takeLease); nil means the scenario's
	// spec.target.lockWait, zero refuses at once.
	LockWait *time.Duration
}

// RunRestore runs the restore part of a drill of sc on its own: preflight
// (scratch guard, Velero and its storage location), recovery point,
// phased restore, order proof, checks and cleanup. It is what
// `firedrill restore` runs and what the full drill calls for its restore
// and verify steps. A nil Result comes with an error that stopped the
// restore before anything was restored.
func RunRestore(ctx context.Context, sc *scenarios.Scenario, opts RestoreOptions) (*restore.Result, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if opts.DrillID == "" {
		opts.DrillID = NewDrillID(now())
	}
	spec, err := RestoreSpec(sc, opts.DrillID, opts.Getenv)
	if err != nil {
		return nil, err
	}
	reader, err := RestoredReader(opts.Getenv)
	if err != nil {
		return nil, err
	}
	t := sc.Spec.Target
	target, err := kube.New(t.Kubeconfig, t.Context)
	if err != nil {
		return nil, targetError(sc, err)
	}
	// The source is compared by its kubeconfig only: it is never contacted
	// (it may be the very cluster the scenario loses). A source that cannot
	// even be configured cannot be the target.
	var source *kube.Clients
	if src := sc.Spec.Source; src.Kubeconfig != "" || src.Context != "" {
		source, err = kube.New(src.Kubeconfig, src.Context)
		if err != nil && opts.Log != nil {
			opts.Log.Debug("source cluster not configured; not compared with the target", "err", err)
		}
	}
	if err := kube.Guard(ctx, target.Kube, target.Config, configOf(source)); err != nil {
		return nil, err
	}
	opts.Secrets.Add(credentials(opts.Secrets, target, source)...)
	held, err := takeLease(ctx, sc, target, opts.DrillID, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		// After Ctrl-C too, within a bound: an unreachable API server
		// leaves the Lease to expire on its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if rerr := held.Release(rctx); rerr != nil && opts.Log != nil {
			opts.Log.Warn("release the scratch cluster's Lease", "err", rerr)
		}
	}()
	kubeconfig, remove, err := kube.Minify(t.Kubeconfig, t.Context)
	if err != nil {
		return nil, err
	}
	defer remove()
	return restore.Run(ctx, restoreTarget(target, kubeconfig, t.Context),
		spec, restore.Options{Now: now, Progress: opts.Progress, RestoreProgress: opts.RestoreProgress, Log: opts.Log, BackupSyncWait: opts.BackupSyncWait, Reader: reader,
			BucketRecord: BucketRecordReader(sc, opts.Getenv)})
}

// BucketRecordReader reads the record of a backup in the scenario's
// primary bucket (velero-backup.json), the bucket the target's storage
// location syncs from, so that the recovery point can say at once what a
// backup Velero will never sync is. It only reads; its client carries the
// drill's write guard all the same.
func BucketRecordReader(sc *scenarios.Scenario, getenv func(string) string) restore.BucketRecordReader {
	p := sc.Spec.Storage.Primary
	return func(ctx context.Context, name string) (restore.BucketRecord, error) {
		cfg := StoreConfig(p, getenv)
		cfg.WriteGuard = WriteGuard(sc)
		st, err := objectstore.New(ctx, cfg)
		if err != nil {
			return restore.BucketRecord{}, fmt.Errorf("primary bucket %s at %s: %w", p.Bucket, secret.URL(p.Endpoint), err)
		}
		rec, err := backup.ReadBackupRecord(ctx, st, p.Bucket, p.Prefix, name)
		if err != nil {
			return restore.BucketRecord{}, err
		}
		return restore.BucketRecord{Phase: rec.Phase, Expiration: rec.Expiration, Where: rec.Where}, nil
	}
}

// credentials adds the client keys of the clusters' configurations to
// secrets and returns their tokens and passwords.
func credentials(secrets *secret.Set, clusters ...*kube.Clients) []string {
	var out []string
	for _, c := range clusters {
		values, key := kube.Credentials(configOf(c))
		out = append(out, values...)
		secrets.AddPEM(key)
	}
	return out
}

// restoreTarget is the target as the restore package takes it: its
// clients, the private kubeconfig of command checks and pods/exec for exec
// checks and file data canaries.
func restoreTarget(target *kube.Clients, kubeconfig, context string) restore.Target {
	return restore.Target{Kube: target.Kube, Dynamic: target.Dynamic, Kubeconfig: kubeconfig, Context: context,
		Exec: restore.APIExecer{Config: target.Config, Kube: target.Kube}}
}

func configOf(c *kube.Clients) *rest.Config {
	if c == nil {
		return nil
	}
	return c.Config
}

// PlanRestores is the Velero Restores a drill of sc with id drillID
// creates, in order, without their backup (chosen when the drill runs):
// restore.PlanRestores of the scenario's phases, namespaces and
// exclusions, as RestoreSpec maps them. It reads nothing: plan shows it,
// and the schedule's RBAC follows it.
func PlanRestores(sc *scenarios.Scenario, drillID string) []restore.PlannedRestore {
	return restore.PlanRestores(restoreSelection(sc, drillID), "")
}

// RestoreSpec maps a scenario to the restore package's spec. It reads the
// environment variables that hold an off-site copy's credentials (getenv,
// nil means os.Getenv) and nothing else. The scenario's values are used as
// they are: defaults are the scenarios package's, filled in by loading.
func RestoreSpec(sc *scenarios.Scenario, drillID string, getenv func(string) string) (restore.Spec, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := sc.Spec
	spec := restoreSelection(sc, drillID)
	cleanup, err := CleanupPolicy(s.Cleanup.Policy)
	if err != nil {
		return restore.Spec{}, sc.FieldError("spec.cleanup.policy", "%v", err)
	}
	spec.Cleanup = cleanup
	spec.CleanupTimeout = time.Duration(s.Cleanup.Timeout)
	spec.DisasterTime = s.Disaster.DeclaredAt
	spec.Backup = restore.BackupSelector{
		Name:                 s.Backups.BackupName,
		Schedule:             s.Backups.Schedule,
		AllowPartiallyFailed: s.Backups.AllowPartiallyFailed,
	}
	if w := s.Backups.Window; w != nil {
		spec.Backup.Window = &restore.Window{Within: time.Duration(w.Within), Random: w.Pick == scenarios.PickRandom, Seed: w.Seed}
	}
	if location, from := sc.RestoreFrom(); from != nil {
		cl, err := copyLocation(location, from, getenv)
		if err != nil {
			return restore.Spec{}, err
		}
		spec.FromCopy = cl
	}
	for _, c := range s.Checks {
		rc := restore.Check{Name: c.Name, Timeout: time.Duration(c.Timeout)}
		switch {
		case c.Workloads != nil:
			rc.Workloads = &restore.WorkloadsCheck{Namespace: s.Target.TargetNamespace(c.Workloads.Namespace)}
		case c.HTTP != nil:
			st := c.HTTP.ExpectStatus
			rc.HTTP = &restore.HTTPCheck{URL: c.HTTP.URL, Path: c.HTTP.Path, MinStatus: st.Min, MaxStatus: st.Max, BodyContains: c.HTTP.BodyContains}
			if svc := c.HTTP.Service; svc != nil {
				rc.HTTP.Service = &restore.ServiceRef{Namespace: s.Target.TargetNamespace(svc.Namespace), Name: svc.Name, Port: svc.Port.String()}
			}
		case c.TCP != nil:
			rc.TCP = &restore.TCPCheck{Address: c.TCP.Address}
		case c.Command != nil:
			rc.Command = &restore.CommandCheck{Run: c.Command.Run}
		case c.Exec != nil:
			e := c.Exec
			rc.Exec = &restore.ExecCheck{Command: e.Command, ExpectOutput: e.ExpectOutput, ExpectRegexp: e.ExpectRegexp,
				PodChoice: restore.PodChoice{Namespace: s.Target.TargetNamespace(e.Namespace), Pod: e.Pod, Selector: e.Selector, Container: e.Container}}
		case c.DataCanary != nil:
			dc := c.DataCanary
			ns := s.Target.TargetNamespace(dc.Namespace)
			rc.DataCanary = &restore.DataCanaryCheck{Namespace: ns, ConfigMap: dc.ConfigMap, Key: dc.Key, File: dc.File, Command: dc.Command,
				Pod: restore.PodChoice{Namespace: ns, Pod: dc.Pod, Selector: dc.Selector, Container: dc.Container}}
		case c.ServiceAccount != nil:
			rc.ServiceAccount = &restore.ServiceAccountCheck{Namespace: s.Target.TargetNamespace(c.ServiceAccount.Namespace),
				Name: c.ServiceAccount.Name, TokenSecret: c.ServiceAccount.TokenSecret}
		}
		spec.Checks = append(spec.Checks, rc)
	}
	return spec, spec.Validate()
}

// restoreSelection is what a drill of sc restores, and how: namespaces,
// mapping, phases, exclusions and the phase timeout. The plan hands it to
// restore.PlanRestores as the run does, so the two show the same Restores.
func restoreSelection(sc *scenarios.Scenario, drillID string) restore.Spec {
	s := sc.Spec
	r := s.Target.Restore
	spec := restore.Spec{
		DrillID:            drillID,
		VeleroNamespace:    s.Backups.VeleroNamespace,
		StorageLocation:    s.Backups.StorageLocation,
		IncludedNamespaces: s.Backups.IncludedNamespaces,
		NamespaceMapping:   s.Target.NamespaceMapping,
		ExcludedResources:  r.ExcludedResources,
		PhaseTimeout:       time.Duration(r.Timeout),
	}
	for _, ph := range r.Phases {
		spec.Phases = append(spec.Phases, restore.Phase{Name: ph.Name, IncludedResources: ph.IncludedResources, ExcludedResources: ph.ExcludedResources})
	}
	return spec
}

// copyLocation describes the off-site copy as a Velero location for the
// aws plugin, with the copy's credentials read from the environment.
func copyLocation(location string, c *scenarios.Copy, getenv func(string) string) (*restore.CopyLocation, error) {
	cfg := map[string]string{"region": c.Region, "s3Url": c.Endpoint}
	if c.PathStyle {
		cfg["s3ForcePathStyle"] = "true"
	}
	cl := &restore.CopyLocation{Name: c.Name, StorageLocation: location, Provider: "aws",
		Bucket: c.Bucket.Bucket, Prefix: c.Prefix, Config: cfg}
	cr := c.Credentials
	switch {
	case cr == nil:
		// Velero's own default credentials apply.
	case cr.AccessKeyIDEnv != "":
		id, secret := getenv(cr.AccessKeyIDEnv), getenv(cr.SecretAccessKeyEnv)
		var missing []string
		if id == "" {
			missing = append(missing, envname.Display(cr.AccessKeyIDEnv))
		}
		if secret == "" {
			missing = append(missing, envname.Display(cr.SecretAccessKeyEnv))
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("credentials of copy %q: environment variable %s not set", c.Name, strings.Join(missing, " and "))
		}
		token := ""
		if cr.SessionTokenEnv != "" {
			token = getenv(cr.SessionTokenEnv)
		}
		cl.Credentials = restore.AWSCredentialsFile(id, secret, token)
	case cr.File != "":
		data, err := safefile.ReadFile(cr.File, safefile.Credentials)
		if err != nil {
			return nil, fmt.Errorf("credentials of copy %q: %w", c.Name, err)
		}
		cl.Credentials = restore.Secret(data)
		if cr.Profile != "" {
			cfg["profile"] = cr.Profile
		}
	default:
		if cr.Profile != "" {
			cfg["profile"] = cr.Profile
		}
	}
	return cl, nil
}

// NewRecovery returns the Recovery of a drill of sc backed by the restore
// package: what Run uses for the preflight, recovery-point, restore and
// verify steps and for cleanup. Nothing is contacted until Preflight.
func NewRecovery(sc *scenarios.Scenario, opts RestoreOptions) Recovery {
	return &recovery{sc: sc, opts: opts, progress: &switchWriter{w: opts.Progress}}
}

type recovery struct {
	sc       *scenarios.Scenario
	opts     RestoreOptions
	progress *switchWriter
	target   *kube.Clients
	session  *restore.Session
	// lease is the scratch cluster's Lease, held from preflight to the
	// end of cleanup.
	lease *lease.Held
	spec  restore.Spec
	// reported counts the findings already handed to the drill.
	reported int
	// kubeconfig has the target's context as current context, for
	// command checks and runbook steps; removeKubeconfig deletes it.
	kubeconfig       string
	removeKubeconfig func()
}

var _ Recovery = (*recovery)(nil)

// switchWriter lets each step send progress where the drill asks.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) {
	if s.w == nil {
		return len(p), nil
	}
	return s.w.Write(p)
}

func (r *recovery) Preflight(ctx context.Context, disasterAt time.Time) error {
	now := r.opts.Now
	if now == nil {
		now = time.Now
	}
	id := r.opts.DrillID
	if id == "" {
		id = NewDrillID(now())
	}
	spec, err := RestoreSpec(r.sc, id, r.opts.Getenv)
	if err != nil {
		return err
	}
	reader, err := RestoredReader(r.opts.Getenv)
	if err != nil {
		return err
	}
	t := r.sc.Spec.Target
	target, err := kube.New(t.Kubeconfig, t.Context)
	if err != nil {
		return targetError(r.sc, err)
	}
	var source *kube.Clients
	if src := r.sc.Spec.Source; src.Kubeconfig != "" || src.Context != "" {
		source, _ = kube.New(src.Kubeconfig, src.Context)
	}
	if err := kube.Guard(ctx, target.Kube, target.Config, configOf(source)); err != nil {
		return err
	}
	r.opts.Secrets.Add(credentials(r.opts.Secrets, target, source)...)
	// One drill at a time: before preflight refuses namespaces that
	// another drill's restore created, and before anything is created.
	if r.lease, err = takeLease(ctx, r.sc, target, id, r.opts); err != nil {
		return err
	}
	// Steps and command checks get a private kubeconfig of the checked
	// target alone, written now: not the user's file, its other contexts
	// or whatever its current context becomes mid-drill.
	kubeconfig, remove, err := kube.Minify(t.Kubeconfig, t.Context)
	if err != nil {
		return err
	}
	r.kubeconfig, r.removeKubeconfig = kubeconfig, remove
	r.target = target
	return r.startSession(ctx, restoreTarget(target, kubeconfig, t.Context), spec, disasterAt,
		restore.Options{Now: now, Progress: r.progress, RestoreProgress: r.opts.RestoreProgress, Log: r.opts.Log, BackupSyncWait: r.opts.BackupSyncWait, Reader: reader,
			BucketRecord: BucketRecordReader(r.sc, r.opts.Getenv)})
}

// startSession prepares the restore session into target and runs its
// preflight. The session measures its RPOs (the recovery point's, each
// data canary's application_rpo_seconds in checks.json) from disasterAt,
// the drill's own disaster time, never from its own start: report.json
// and checks.json then give the same figures.
func (r *recovery) startSession(ctx context.Context, target restore.Target, spec restore.Spec, disasterAt time.Time, opts restore.Options) error {
	spec.DisasterTime = disasterAt
	s, err := restore.NewSession(target, spec, opts)
	if err != nil {
		return err
	}
	r.session, r.spec = s, spec
	return s.Preflight(ctx)
}

func (r *recovery) RecoveryPoint(ctx context.Context) (*BackupRef, error) {
	if r.session == nil {
		return nil, fmt.Errorf("recovery point before a successful preflight")
	}
	rp, err := r.session.RecoveryPoint(ctx)
	if err != nil {
		return nil, err
	}
	b := &BackupRef{Name: rp.Backup, StorageLocation: rp.StorageLocation, Started: rp.Started, Completed: rp.Completed,
		Phase: string(rp.Phase), Warnings: rp.Warnings, Errors: rp.Errors, ResultsError: rp.ResultsError}
	if rp.Results != nil {
		b.ErrorMessages, b.WarningMessages = rp.Results.Errors.Lines(), rp.Results.Warnings.Lines()
	}
	b.Skipped = rp.Skipped
	b.Chosen = &Choice{Why: rp.Why, Candidates: rp.Candidates, Seed: rp.Seed}
	return b, nil
}

func (r *recovery) Restore(ctx context.Context, _ *BackupRef, progress io.Writer) (RestoreOutcome, error) {
	if r.session == nil {
		return RestoreOutcome{}, fmt.Errorf("restore before a successful preflight")
	}
	if progress != nil {
		r.progress.w = progress
	}
	err := r.session.Restore(ctx)
	res := r.session.Result()
	out := RestoreOutcome{Details: res, SecretValues: r.session.SecretValues(), Incomplete: !res.Restored}
	for _, p := range res.Restores {
		out.Restores = append(out.Restores, RestoreRef{Name: p.Name, Phase: p.Phase, VeleroPhase: string(p.Status), Start: p.Started, End: p.Finished,
			ItemsRestored: int(p.ItemsRestored), TotalItems: int(p.TotalItems), Warnings: int(p.Warnings), Errors: int(p.Errors),
			PodVolumeRestores: p.PodVolumeRestores})
	}
	if res.Order != nil {
		v := res.OrderVerified
		out.OrderVerified = &v
	}
	out.Findings = res.Findings[r.reported:]
	r.reported = len(res.Findings)
	return out, err
}

func (r *recovery) Verify(ctx context.Context) (VerifyOutcome, error) {
	if r.session == nil {
		return VerifyOutcome{}, fmt.Errorf("verify before a successful preflight")
	}
	err := r.session.Verify(ctx)
	res := r.session.Result()
	out := VerifyOutcome{Details: res.Checks}
	for _, c := range res.Checks {
		out.Checks = append(out.Checks, CheckRef{Name: c.Name, Kind: c.Kind, Passed: c.Passed, DurationSeconds: c.DurationSeconds, Message: c.Message})
		if c.CanaryTime != nil && out.DataTime.IsZero() {
			out.DataTime, out.DataCheck = *c.CanaryTime, c.Name
		}
	}
	out.Findings = res.Findings[r.reported:]
	r.reported = len(res.Findings)
	return out, err
}

// RunbookEnv gives runbook steps the private kubeconfig of the target
// and the runbook contract's variables (see package runbooks). Before a
// preflight wrote that kubeconfig, KUBECONFIG is empty (/dev/null): a
// step never falls back to the user's own file.
func (r *recovery) RunbookEnv() []string {
	t := r.sc.Spec.Target
	kc := r.kubeconfig
	if kc == "" {
		kc = os.DevNull
	}
	env := PassedEnv(r.sc, r.opts.Getenv)
	env = append(env, "KUBECONFIG="+kc, "FIREDRILL_SCENARIO="+r.sc.Metadata.Name,
		"FIREDRILL_VELERO_NAMESPACE="+r.sc.Spec.Backups.VeleroNamespace)
	var nss []string
	for _, ns := range r.sc.Spec.Backups.IncludedNamespaces {
		nss = append(nss, t.TargetNamespace(ns))
	}
	env = append(env, "FIREDRILL_NAMESPACES="+strings.Join(nss, " "))
	if r.session != nil && r.session.Result().Backup != nil {
		env = append(env, "FIREDRILL_BACKUP="+r.session.Result().Backup.Backup)
	}
	return env
}

// PassedEnv is what the scenario passes to its runbook's steps
// (spec.runbook.passEnv): NAME=value for each of those variables set in
// the environment (getenv; nil means os.Getenv), in the scenario's order.
func PassedEnv(sc *scenarios.Scenario, getenv func(string) string) []string {
	if sc.Spec.Runbook == nil {
		return nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	var out []string
	for _, name := range sc.Spec.Runbook.PassEnv {
		if v := getenv(name); v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// Evidence reads the Velero objects and what was restored into
// velero/backup.json, velero/restores.json and restored/objects.json.
func (r *recovery) Evidence(ctx context.Context) (Collected, error) {
	if r.session == nil {
		return Collected{}, nil
	}
	ev, err := r.session.Evidence(ctx)
	c := Collected{Files: map[string]any{}, Problems: ev.Errors, SecretValues: ev.SecretValues}
	if ev.Backup != nil {
		c.Files["velero/backup.json"] = ev.Backup.Object
	}
	restores := make([]map[string]any, 0, len(ev.Restores))
	for _, o := range ev.Restores {
		restores = append(restores, o.Object)
	}
	c.Files["velero/restores.json"] = restores
	objects := make([]map[string]any, 0, len(ev.Objects))
	for _, o := range ev.Objects {
		objects = append(objects, o.Object)
	}
	c.Files["restored/objects.json"] = objects
	return c, err
}

func (r *recovery) Cleanup(ctx context.Context, passed bool) error {
	if r.removeKubeconfig != nil {
		r.removeKubeconfig()
		r.removeKubeconfig = nil
	}
	var err error
	if r.session != nil {
		err = r.session.Cleanup(ctx, passed)
	}
	if r.lease != nil {
		// Last: until the scratch cluster is clean, it is this drill's.
		err = errors.Join(err, r.lease.Release(ctx))
	}
	return err
}

// targetError says that the target cluster could not be configured, at
// the scenario's field: "target cluster (FILE:LINE: spec.target.kubeconfig): ...".
func targetError(sc *scenarios.Scenario, err error) error {
	const field = "spec.target.kubeconfig"
	return fmt.Errorf("target cluster (%s:%d: %s): %w", sc.Origin.File, sc.Line(field), field, err)
}
