package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// StoreConfig turns a scenario's bucket into object-store settings. The
// credentials stay references: they are read from the environment (getenv)
// when the client is made, and never kept.
func StoreConfig(b scenarios.Bucket, getenv func(string) string) objectstore.Config {
	cfg := objectstore.Config{Endpoint: b.Endpoint, Region: b.Region, PathStyle: b.PathStyle, CAFile: b.CAFile, Getenv: getenv}
	if c := b.Credentials; c != nil {
		cfg.Credentials = &objectstore.Credentials{
			AccessKeyIDEnv: c.AccessKeyIDEnv, SecretAccessKeyEnv: c.SecretAccessKeyEnv,
			SessionTokenEnv: c.SessionTokenEnv, Profile: c.Profile, File: c.File,
		}
	}
	return cfg
}

// WriteGuard is the write guard of everything a drill of sc writes to S3
// (the shared history, the evidence push, the tamper canary): it refuses
// the scenario's primary bucket and every copy bucket, on the same server
// by endpoint.SameServer's rule. The canary's own store lets its
// prefix through (AllowPrefix); nothing else does. A nil scenario (a
// command run without one) gives a guard that protects nothing.
func WriteGuard(sc *scenarios.Scenario) *objectstore.WriteGuard {
	if sc == nil {
		return objectstore.NewWriteGuard()
	}
	st := sc.Spec.Storage
	ps := []objectstore.ProtectedBucket{{Role: "the backup bucket of scenario " + sc.Metadata.Name + " (spec.storage.primary)",
		Endpoint: st.Primary.Endpoint, Bucket: st.Primary.Bucket}}
	for i, c := range st.Copies {
		ps = append(ps, objectstore.ProtectedBucket{Role: fmt.Sprintf("copy %s of the backups of scenario %s (spec.storage.copies[%d])", c.Name, sc.Metadata.Name, i),
			Endpoint: c.Endpoint, Bucket: c.Bucket.Bucket})
	}
	return objectstore.NewWriteGuard(ps...)
}

// Secrets returns the values of the credentials a scenario references
// (the backup bucket's, each copy's, the evidence push's): those of its
// environment variables and the keys in its shared credentials files, so
// they can be redacted from anything the drill records (see
// secret.Set). A credentials file that cannot be read adds nothing; the
// store that uses it reports the error.
func Secrets(sc *scenarios.Scenario, getenv func(string) string) []string {
	var out []string
	add := func(c *scenarios.Credentials) {
		if c == nil {
			return
		}
		for _, name := range []string{c.AccessKeyIDEnv, c.SecretAccessKeyEnv, c.SessionTokenEnv} {
			if name != "" {
				if v := getenv(name); v != "" {
					out = append(out, v)
				}
			}
		}
		if c.File != "" {
			out = append(out, credentialsFileValues(c.File)...)
		}
	}
	add(sc.Spec.Storage.Primary.Credentials)
	for _, cp := range sc.Spec.Storage.Copies {
		add(cp.Credentials)
	}
	if e := sc.Spec.Evidence; e != nil && e.Push != nil {
		add(e.Push.Credentials)
	}
	return out
}

// lockRequirement is the backup package's requirement for the scenario's
// object lock at field (its path, for errors); nil when none is declared.
func lockRequirement(sc *scenarios.Scenario, field string, l *scenarios.ObjectLock) (*backup.LockRequirement, error) {
	if l == nil {
		return nil, nil
	}
	mode, err := ObjectLockMode(l.Mode)
	if err != nil {
		return nil, sc.FieldError(field+".mode", "%v", err)
	}
	return &backup.LockRequirement{
		Mode:            mode,
		AllowGovernance: l.AllowGovernance,
		MinRetention:    time.Duration(l.MinRetention),
	}, nil
}

// ProtectionOptions are the settings of a protection check that do not
// come from the scenario.
type ProtectionOptions struct {
	Getenv func(string) string
	Now    func() time.Time
	Log    *slog.Logger
	// Concurrency bounds requests in flight per store; backup's default
	// when zero.
	Concurrency int
	// WindowSample, when > 0, checks the object lock of that many backups
	// of the recovery window, drawn with WindowSeed, instead of all
	// (`--window-sample N`, `--window-seed`).
	WindowSample int
	WindowSeed   int64
}

// ProtectionSpec builds the protection check of a scenario, with clients
// for the primary bucket and each copy. The backup is the one a drill
// restores; when nil, the scenario's backup is found in the bucket itself
// (by name, or the latest Completed of its schedule), so that `firedrill
// verify` needs no cluster.
func ProtectionSpec(ctx context.Context, sc *scenarios.Scenario, b *BackupRef, opts ProtectionOptions) (backup.ProtectionSpec, error) {
	st := sc.Spec.Storage
	guard := WriteGuard(sc)
	canary := backup.DefaultCanaryPrefix(st.Primary.Prefix)
	cfg := StoreConfig(st.Primary, opts.Getenv)
	// The canary writes under its prefix of the primary bucket; the guard
	// refuses every other key, whatever the canary's own checks say.
	cfg.WriteGuard = guard.AllowPrefix(st.Primary.Endpoint, st.Primary.Bucket, canary)
	primary, err := objectstore.New(ctx, cfg)
	if err != nil {
		return backup.ProtectionSpec{}, fmt.Errorf("primary bucket %s at %s: %w", st.Primary.Bucket, secret.URL(st.Primary.Endpoint), err)
	}
	spec := backup.ProtectionSpec{
		Primary:     backup.PrimaryBucket{Store: primary, Bucket: st.Primary.Bucket, Prefix: st.Primary.Prefix},
		Canary:      backup.CanarySpec{Prefix: canary},
		Concurrency: opts.Concurrency,
		Now:         opts.Now,
		Log:         opts.Log,
	}
	l, err := lockRequirement(sc, "spec.storage.primary.objectLock", st.Primary.ObjectLock)
	if err != nil {
		return backup.ProtectionSpec{}, err
	}
	if l != nil {
		spec.Lock = *l
	}
	switch {
	case b != nil:
		spec.Backup = backup.BackupRef{Name: b.Name, Started: b.Started}
	case sc.Spec.Backups.BackupName != "":
		spec.Backup = backup.BackupRef{Name: sc.Spec.Backups.BackupName}
	default:
		ref, err := backup.LatestBackup(ctx, primary, st.Primary.Bucket, st.Primary.Prefix, sc.Spec.Backups.Schedule, sc.Spec.Backups.AllowPartiallyFailed)
		if err != nil && !errors.Is(err, backup.ErrNoBackup) {
			return backup.ProtectionSpec{}, err
		}
		// No backup at all: the bucket checks still run, and the object
		// checks say there was nothing to check.
		spec.Backup = ref
	}
	spec.Window = windowSpec(ctx, sc, opts)
	for i, cp := range st.Copies {
		field := fmt.Sprintf("spec.storage.copies[%d]", i)
		mode, err := CompareMode(cp.Compare.Mode)
		if err != nil {
			return backup.ProtectionSpec{}, sc.FieldError(field+".compare.mode", "%v", err)
		}
		lock, err := lockRequirement(sc, field+".objectLock", cp.ObjectLock)
		if err != nil {
			return backup.ProtectionSpec{}, err
		}
		cfg := StoreConfig(cp.Bucket, opts.Getenv)
		cfg.WriteGuard = guard
		store, err := objectstore.New(ctx, cfg)
		if err != nil {
			return backup.ProtectionSpec{}, fmt.Errorf("copy %s (bucket %s at %s): %w", cp.Name, cp.Bucket.Bucket, secret.URL(cp.Endpoint), err)
		}
		c := backup.CopySpec{
			Name: cp.Name, Store: store, Bucket: cp.Bucket.Bucket, Prefix: cp.Prefix,
			Mode: mode, SamplePercent: float64(cp.Compare.SamplePercent),
			Lock: lock, MaxReplicationLag: time.Duration(cp.MaxReplicationLag),
		}
		if cp.Compare.Seed != nil {
			c.Seed = *cp.Compare.Seed
		}
		spec.Copies = append(spec.Copies, c)
	}
	return spec, nil
}

// windowSpec is the recovery window check of sc, nil when the scenario
// declares neither objectives.retention nor objectives.maxRetention. The
// window holds the backups of backups.schedule (with or without
// backups.window), else every backup in the bucket; missed runs are
// looked for only with a schedule: its cron expression is the scenario's
// backups.scheduleCron, else the source cluster's Schedule (read-only)
// when the disaster does not lose it; without either, or without a
// schedule (the backups of any schedule, or none, would hide a missed
// run), they are not looked for (a finding says so).
func windowSpec(ctx context.Context, sc *scenarios.Scenario, opts ProtectionOptions) *backup.WindowSpec {
	o, b := sc.Spec.Objectives, sc.Spec.Backups
	if o.Retention == 0 && o.MaxRetention == 0 {
		return nil
	}
	w := &backup.WindowSpec{
		Schedule: b.Schedule, Retention: time.Duration(o.Retention), MaxRetention: time.Duration(o.MaxRetention),
		RPO: time.Duration(o.RPO), AllowPartiallyFailed: b.AllowPartiallyFailed,
		Sample: opts.WindowSample, Seed: opts.WindowSeed,
	}
	switch {
	case b.Schedule == "":
		w.CronUnknown = "the scenario names no spec.backups.schedule, so the window holds every backup in the bucket; name it (with window) to check its runs"
	case b.ScheduleCron != "":
		w.Cron, w.CronSource = b.ScheduleCron, "scenario"
	case ScopeSkipped(sc) != "":
		w.CronUnknown = "no spec.backups.scheduleCron, and " + ScopeSkipped(sc)
	default:
		cron, err := sourceScheduleCron(ctx, sc)
		if err != nil {
			w.CronUnknown = "no spec.backups.scheduleCron, and the source's Schedule could not be read: " + err.Error()
			break
		}
		w.Cron, w.CronSource = cron, "cluster"
	}
	return w
}

// sourceScheduleCron reads spec.schedule of the scenario's Velero
// Schedule in the source cluster, with one get request.
func sourceScheduleCron(ctx context.Context, sc *scenarios.Scenario) (string, error) {
	src, b := sc.Spec.Source, sc.Spec.Backups
	c, err := kube.New(src.Kubeconfig, src.Context)
	if err != nil {
		return "", fmt.Errorf("source cluster (%s): %w", clusterText(src), err)
	}
	u, err := c.Dynamic.Resource(velerov1.SchemeGroupVersion.WithResource("schedules")).Namespace(b.VeleroNamespace).Get(ctx, b.Schedule, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get Schedule %s/%s: %w", b.VeleroNamespace, b.Schedule, err)
	}
	var s velerov1.Schedule
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
		return "", fmt.Errorf("read Schedule %s/%s: %w", b.VeleroNamespace, b.Schedule, err)
	}
	return s.Spec.Schedule, nil
}

// Verify runs the protection checks of a scenario alone: `firedrill
// verify`.
func Verify(ctx context.Context, sc *scenarios.Scenario, opts ProtectionOptions) (backup.Result, error) {
	spec, err := ProtectionSpec(ctx, sc, nil, opts)
	if err != nil {
		return backup.Result{}, err
	}
	res, err := backup.CheckProtection(ctx, spec)
	if f, ok := skippedFinding(sc, spec.Backup); ok {
		res.Findings = append(res.Findings, f)
	}
	return res, err
}

// skippedFinding names the newer backups LatestBackup passed over, on the
// evidence of their velero-backup.json in the primary bucket.
func skippedFinding(sc *scenarios.Scenario, b backup.BackupRef) (finding.Finding, bool) {
	if len(b.Skipped) == 0 {
		return finding.Finding{}, false
	}
	p := sc.Spec.Storage.Primary
	return finding.Warn("recovery-point.skipped", fmt.Sprintf("s3://%s/%s", p.Bucket, path.Join(p.Prefix, "backups")),
		fmt.Sprintf("%s %s not restorable, so %s is checked: %s (status of each backups/NAME/velero-backup.json)",
			plural.Count(len(b.Skipped), "newer backup", "newer backups"), plural.Of(len(b.Skipped), "is", "are"), b.Name, recoverypoint.Join(b.Skipped))).
		With("the newest backup is restorable", plural.Count(len(b.Skipped), "newer backup", "newer backups")+" not restorable",
			"read why with `velero backup describe NAME --details`; fix the cause so the next backup completes"), true
}

// scenarioProtection is the drill's protection step.
type scenarioProtection struct {
	sc   *scenarios.Scenario
	opts ProtectionOptions
}

// NewProtection returns the protection step of a drill of sc.
func NewProtection(sc *scenarios.Scenario, opts ProtectionOptions) Protection {
	return &scenarioProtection{sc: sc, opts: opts}
}

func (p *scenarioProtection) Check(ctx context.Context, b *BackupRef) ([]finding.Finding, any, error) {
	spec, err := ProtectionSpec(ctx, p.sc, b, p.opts)
	if err != nil {
		return nil, nil, err
	}
	res, err := backup.CheckProtection(ctx, spec)
	if err != nil {
		return res.Findings, res, err
	}
	return res.Findings, res, nil
}

// credentialsFileValues are the values of the keys of a shared AWS
// credentials file ("aws_secret_access_key = ..."), every profile's.
func credentialsFileValues(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id", "aws_secret_access_key", "aws_session_token":
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
