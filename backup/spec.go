package backup

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
)

// ProtectionSpec is what CheckProtection checks. It is built from a
// scenario by the caller; the package does not read scenario files.
type ProtectionSpec struct {
	// Primary is the bucket Velero writes to.
	Primary PrimaryBucket
	// Lock is what the primary bucket's object lock must be.
	Lock LockRequirement
	// Backup is the backup whose objects are checked; an empty Name skips
	// the object checks (with a warning) and makes ScopeBackup copies
	// compare the whole prefix.
	Backup BackupRef
	// Canary configures the tamper canary.
	Canary CanarySpec
	// Copies are the off-site and off-cloud copies to compare.
	Copies []CopySpec
	// Window, when set, checks the recovery window of the schedule in
	// the primary bucket (CheckWindow); its Store, Bucket, Prefix,
	// Concurrency, Now and Log default to the primary's and the spec's.
	Window *WindowSpec

	// Concurrency bounds the retention reads and a comparison's HEADs and
	// GETs in flight; a comparison also lists Concurrency/2 directories
	// at a time. Default 16.
	Concurrency int
	// MaxObjectResults bounds the non-matching objects each comparison
	// keeps in the result (the counts are always complete); default 1000.
	MaxObjectResults int
	// OnObject, if set, receives every compared object, matching or not,
	// as the comparison runs (from one goroutine at a time), e.g. to write
	// an `rclone check --combined` style list.
	OnObject func(copyName string, r ObjectResult)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives progress; default discards.
	Log *slog.Logger
}

// PrimaryBucket is the bucket Velero writes to.
type PrimaryBucket struct {
	Store  PrimaryStore
	Bucket string
	// Prefix is the Velero BackupStorageLocation prefix, e.g. "velero";
	// empty when Velero uses the whole bucket.
	Prefix string
}

// LockRequirement is the object lock a bucket must have.
type LockRequirement struct {
	// Mode is the retention mode required, normally COMPLIANCE; empty
	// accepts either mode. GOVERNANCE can be bypassed by privileged
	// users, so it is weaker than COMPLIANCE.
	Mode objectstore.LockMode
	// AllowGovernance accepts GOVERNANCE (with a warning) where Mode is
	// COMPLIANCE.
	AllowGovernance bool
	// MinRetention is the shortest default retention accepted; zero
	// means any.
	MinRetention time.Duration
}

// BackupRef names a Velero backup and, when known, its times. Zero times
// are read from the backup's velero-backup.json in the primary bucket.
type BackupRef struct {
	Name string
	// Started is the backup's status.startTimestamp.
	Started time.Time
	// Completed is the backup's status.completionTimestamp: the
	// repositories of its volume data are compared with a copy on the
	// objects written until a minute after it.
	Completed time.Time
	// Expiration is when Velero deletes the backup (status.expiration);
	// every object of the backup must be retained at least until then.
	Expiration time.Time
	// TTL is the backup's spec.ttl.
	TTL time.Duration
	// Phase, Warnings and Errors are the backup's status, when LatestBackup
	// chose it; Skipped the newer backups it passed over, newest first.
	Phase            string
	Warnings, Errors int
	Skipped          []recoverypoint.SkippedBackup
}

// CanarySpec configures the tamper canary.
type CanarySpec struct {
	// Disabled skips the canary; the deletion refusal is then not proven
	// and the finding says so.
	Disabled bool
	// Prefix is where the canary writes, in the primary bucket; default
	// DefaultCanaryPrefix(primary prefix). It must not be inside the
	// Velero prefix: Velero marks a storage location Unavailable when its
	// prefix holds a directory it does not know.
	Prefix string
}

// CopySpec is one copy of the primary bucket and how to compare it.
type CopySpec struct {
	// Name identifies the copy in findings, e.g. "offsite".
	Name   string
	Store  CopyStore
	Bucket string
	// Prefix is where the copy holds what the primary holds under its
	// Prefix.
	Prefix string
	// Mode is how objects are compared; default ModeChecksum.
	Mode CompareMode
	// SamplePercent is the share of objects whose content ModeSampled
	// compares, 0 < p <= 100.
	SamplePercent float64
	// Seed makes the sample reproducible: the same seed and keys give the
	// same sample.
	Seed int64
	// Scope is what is compared; default ScopeBackup.
	Scope Scope
	// Lock, when set, is checked on the copy's bucket as on the primary's.
	Lock *LockRequirement
	// MaxReplicationLag is how long an object may wait for replication
	// (PENDING or FAILED on the primary) before the copy fails; objects
	// waiting for less make it a warning. Default DefaultMaxReplicationLag.
	MaxReplicationLag time.Duration
}

// DefaultMaxReplicationLag is one hour: S3 Replication Time Control
// promises 99.99% of objects within 15 minutes; MinIO replicates in
// seconds when its target is reachable.
const DefaultMaxReplicationLag = time.Hour

// CompareMode is how a copy's objects are compared with the primary's.
type CompareMode string

// The comparison modes, cheapest first.
const (
	// ModeExistence: the same keys on both sides.
	ModeExistence CompareMode = "existence"
	// ModeSize: the same keys and sizes.
	ModeSize CompareMode = "size"
	// ModeChecksum: the same keys, sizes and content hashes, using the
	// cheapest proof both sides offer: the ETag when it is a plain MD5 on
	// both (free, from the listings), else a full-object checksum both
	// store (SHA-256, SHA-1, CRC64NVME, CRC32C, CRC32; two HEADs), else
	// the content itself.
	ModeChecksum CompareMode = "checksum"
	// ModeContent downloads both sides and compares their SHA-256.
	ModeContent CompareMode = "content"
	// ModeSampled compares the content of a reproducible sample of
	// SamplePercent of the objects, and the others as ModeSize does plus
	// the ETags when both listings carry a plain MD5.
	ModeSampled CompareMode = "sampled"
)

// Scope is what part of the prefix a comparison covers.
type Scope string

// The scopes.
const (
	// ScopeBackup compares the chosen backup's objects
	// (<prefix>/backups/<name>/).
	ScopeBackup Scope = "backup"
	// ScopePrefix compares everything under the prefix.
	ScopePrefix Scope = "prefix"
)

// DefaultCanaryPrefix is where the canary writes when CanarySpec.Prefix is
// empty: "firedrill-canary/" at the bucket's root, outside the Velero
// prefix; when Velero uses the whole bucket, "firedrill-canary-" (objects
// at the root, no directory), since Velero refuses unknown top-level
// directories.
func DefaultCanaryPrefix(veleroPrefix string) string {
	if strings.Trim(veleroPrefix, "/") == "" {
		return "firedrill-canary-"
	}
	return "firedrill-canary/"
}

// veleroDirs are the directories Velero accepts directly under its prefix
// (pkg/persistence/object_store_layout.go).
var veleroDirs = []string{"backups", "restores", "restic", "metadata", "plugins", "kopia"}

// ErrInvalidSpec is returned, wrapped, for a spec CheckProtection cannot run.
var ErrInvalidSpec = errors.New("invalid protection spec")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
}

// normalized returns the spec with defaults applied, or an error wrapping
// ErrInvalidSpec.
func (s ProtectionSpec) normalized() (ProtectionSpec, error) {
	if s.Primary.Store == nil {
		return s, invalid("primary store is not set")
	}
	if s.Primary.Bucket == "" {
		return s, invalid("primary bucket is not set")
	}
	s.Primary.Prefix = strings.Trim(s.Primary.Prefix, "/")
	if err := checkMode(s.Lock.Mode); err != nil {
		return s, invalid("primary bucket lock: %v", err)
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 16
	}
	if s.MaxObjectResults <= 0 {
		s.MaxObjectResults = 1000
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if strings.Contains(s.Backup.Name, "/") {
		return s, invalid("backup name %q contains a slash", s.Backup.Name)
	}
	if !s.Canary.Disabled {
		if s.Canary.Prefix == "" {
			s.Canary.Prefix = DefaultCanaryPrefix(s.Primary.Prefix)
		}
		if err := checkCanaryPrefix(s.Canary.Prefix, s.Primary.Prefix); err != nil {
			return s, invalid("%v", err)
		}
	}
	names := map[string]bool{}
	for i := range s.Copies {
		c := &s.Copies[i]
		if c.Name == "" {
			return s, invalid("copy %d has no name", i+1)
		}
		if names[c.Name] {
			return s, invalid("two copies are named %q", c.Name)
		}
		names[c.Name] = true
		if c.Store == nil || c.Bucket == "" {
			return s, invalid("copy %q: store and bucket are required", c.Name)
		}
		c.Prefix = strings.Trim(c.Prefix, "/")
		if c.Mode == "" {
			c.Mode = ModeChecksum
		}
		switch c.Mode {
		case ModeExistence, ModeSize, ModeChecksum, ModeContent:
		case ModeSampled:
			if c.SamplePercent <= 0 || c.SamplePercent > 100 {
				return s, invalid("copy %q: sampled mode needs 0 < samplePercent <= 100, got %g", c.Name, c.SamplePercent)
			}
		default:
			return s, invalid("copy %q: unknown compare mode %q", c.Name, c.Mode)
		}
		if c.Scope == "" {
			c.Scope = ScopeBackup
		}
		if c.MaxReplicationLag < 0 {
			return s, invalid("copy %q: negative maxReplicationLag %s", c.Name, c.MaxReplicationLag)
		}
		if c.MaxReplicationLag == 0 {
			c.MaxReplicationLag = DefaultMaxReplicationLag
		}
		if c.Scope != ScopeBackup && c.Scope != ScopePrefix {
			return s, invalid("copy %q: unknown scope %q", c.Name, c.Scope)
		}
		if c.Lock != nil {
			if err := checkMode(c.Lock.Mode); err != nil {
				return s, invalid("copy %q lock: %v", c.Name, err)
			}
		}
	}
	return s, nil
}

func checkMode(m objectstore.LockMode) error {
	switch m {
	case "", objectstore.Compliance, objectstore.Governance:
		return nil
	}
	return fmt.Errorf("unknown retention mode %q (want COMPLIANCE or GOVERNANCE)", m)
}

// checkCanaryPrefix refuses canary prefixes that could touch backups or
// break Velero.
func checkCanaryPrefix(canary, veleroPrefix string) error {
	if strings.Trim(canary, "/") == "" {
		return errors.New("the canary prefix is empty: the canary must write under a prefix of its own")
	}
	if strings.HasPrefix(canary, "/") || strings.Contains(canary, "//") || strings.Contains(canary, "..") {
		return fmt.Errorf("canary prefix %q: no leading slash, empty segment or \"..\"", canary)
	}
	dirsHint := "Velero marks a backup storage location Unavailable when its prefix holds a directory other than " +
		strings.Join(veleroDirs, ", ") + `; use "firedrill-canary/" at the bucket root`
	if veleroPrefix == "" {
		if strings.Contains(canary, "/") {
			return fmt.Errorf("canary prefix %q would add a top-level directory to a bucket Velero uses whole: %s",
				canary, strings.Replace(dirsHint, `"firedrill-canary/" at the bucket root`, `a prefix without "/" such as "firedrill-canary-"`, 1))
		}
		return nil
	}
	if strings.HasPrefix(canary+"/", veleroPrefix+"/") || strings.HasPrefix(veleroPrefix+"/", canary) {
		return fmt.Errorf("canary prefix %q overlaps the Velero prefix %q: %s", canary, veleroPrefix, dirsHint)
	}
	return nil
}

// backupPrefix is "<prefix>/backups/<name>/".
func backupPrefix(veleroPrefix, name string) string {
	return keyPrefix(path.Join(veleroPrefix, "backups", name))
}

// keyPrefix turns a prefix without trailing slash into a key prefix:
// "" stays "", "a/b" becomes "a/b/".
func keyPrefix(p string) string {
	if p == "" {
		return ""
	}
	return p + "/"
}
