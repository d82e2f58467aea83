package backup

import (
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

// Result is what CheckProtection found. It marshals to the JSON of
// `firedrill verify -o json`.
type Result struct {
	// Backup is the backup whose objects were checked, if any.
	Backup string `json:"backup,omitempty"`
	// Findings are in the order the checks ran: bucket, canary, backup
	// objects, copies.
	Findings []finding.Finding `json:"findings"`
	// Repositories has one entry per file-system backup repository the
	// backup depends on (see CheckProtection), by prefix.
	Repositories []RepositoryResult `json:"repositories,omitempty"`
	// Copies has one entry per copy, in the spec's order.
	Copies []CopyResult `json:"copies"`
	// Window is the recovery window, when the spec asked for it.
	Window *Window `json:"window,omitempty"`
}

// RepositoryResult is the retention check of one repository of Velero's
// file-system backup: the kopia (or restic) repository of one namespace,
// <prefix>/kopia/<namespace>/ in the primary bucket, which holds the
// volume data a restore of the backup reads.
type RepositoryResult struct {
	// Prefix is the repository's key prefix, e.g. "velero/kopia/shop/".
	Prefix string `json:"prefix"`
	// Type is the repository type, "kopia" or "restic"; Namespace the
	// namespace whose volumes it holds.
	Type      string `json:"type"`
	Namespace string `json:"namespace"`
	// PodVolumeBackups counts the backup's PodVolumeBackups that name the
	// repository; zero when it is checked because the backup includes
	// its namespace.
	PodVolumeBackups int `json:"pod_volume_backups"`
	// Objects counts the keys whose latest version is an object;
	// Deleted those whose latest version is a delete marker (kopia
	// deletes blobs it no longer needs; their versions stay).
	Objects int `json:"objects"`
	Deleted int `json:"deleted"`
	// Versions counts the object versions whose retention was read;
	// Short those retained for less than required, unlocked, or whose
	// retention could not be read.
	Versions int `json:"versions"`
	Short    int `json:"short"`
	// EarliestRetainUntil is the earliest retain-until date among the
	// latest versions: until then, every object the repository holds now
	// is locked.
	EarliestRetainUntil *time.Time `json:"earliest_retain_until,omitempty"`
}

// Failed reports whether any finding failed: `firedrill verify` exits 3.
func (r Result) Failed() bool { return finding.Failed(r.Findings) }

// CopyResult is the comparison of one copy with the primary.
type CopyResult struct {
	Name string `json:"name"`
	// Source and Target are "s3://bucket/prefix/ at endpoint".
	Source string `json:"source"`
	Target string `json:"target"`
	// Repositories are the repository prefixes of the backup's volume
	// data compared besides Source ("s3://..." omitted: same bucket and
	// endpoint), when the copy's scope is the backup.
	Repositories []string    `json:"repositories,omitempty"`
	Mode         CompareMode `json:"mode"`
	Comparison   Comparison  `json:"comparison"`
}

// Comparison counts the objects of a comparison like `rclone check
// --combined`: the same on both sides, missing on the copy, only on the
// copy (extra), different, or not compared because of an error.
type Comparison struct {
	Same    int `json:"same"`
	Missing int `json:"missing"`
	Extra   int `json:"extra"`
	Differs int `json:"differs"`
	Errors  int `json:"errors"`
	// NotReplicated counts objects missing or different on the copy whose
	// primary version still waits for bucket replication (PENDING or
	// FAILED): replication lag, counted apart from Missing and Differs.
	NotReplicated int `json:"not_replicated"`
	// Later counts the objects left out because the primary wrote them
	// after CompareOptions.WrittenBefore (for a backup's repositories:
	// after the backup completed); not part of Total.
	Later int `json:"later,omitempty"`
	// OldestNotReplicated is when the oldest of those was written on the
	// primary; its age is the copy's replication lag.
	OldestNotReplicated *time.Time `json:"oldest_not_replicated,omitempty"`
	// ComparedBy counts the objects found on both sides by what decided
	// the outcome: "size", "etag", "sha256" (or another checksum
	// algorithm), "content".
	ComparedBy map[string]int `json:"compared_by,omitempty"`
	// Objects lists the objects that are not the same, by key, at most
	// ProtectionSpec.MaxObjectResults of them.
	Objects []ObjectResult `json:"objects,omitempty"`
	// ObjectsTruncated is set when Objects was cut short.
	ObjectsTruncated bool `json:"objects_truncated,omitempty"`
	// Error is why the comparison stopped early, if it did; the counts
	// then cover what was compared until then.
	Error string `json:"error,omitempty"`
}

// merge adds the comparison o of another prefix, whose object keys get
// rel in front, keeping at most max objects.
func (c Comparison) merge(o Comparison, rel string, max int) Comparison {
	c.Same += o.Same
	c.Missing += o.Missing
	c.Extra += o.Extra
	c.Differs += o.Differs
	c.Errors += o.Errors
	c.NotReplicated += o.NotReplicated
	c.Later += o.Later
	if o.OldestNotReplicated != nil && (c.OldestNotReplicated == nil || o.OldestNotReplicated.Before(*c.OldestNotReplicated)) {
		c.OldestNotReplicated = o.OldestNotReplicated
	}
	for by, n := range o.ComparedBy {
		if c.ComparedBy == nil {
			c.ComparedBy = map[string]int{}
		}
		c.ComparedBy[by] += n
	}
	for _, r := range o.Objects {
		if len(c.Objects) == max {
			c.ObjectsTruncated = true
			break
		}
		r.Key = rel + r.Key
		c.Objects = append(c.Objects, r)
	}
	c.ObjectsTruncated = c.ObjectsTruncated || o.ObjectsTruncated
	switch {
	case c.Error == "":
		c.Error = o.Error
	case o.Error != "":
		c.Error += "; " + o.Error
	}
	return c
}

// Total is the number of objects seen on either side.
func (c Comparison) Total() int {
	return c.Same + c.Missing + c.Extra + c.Differs + c.Errors + c.NotReplicated
}

// Clean reports whether both sides hold exactly the same objects.
func (c Comparison) Clean() bool { return c.Total() == c.Same && c.Error == "" }

// ObjectStatus is the outcome for one object.
type ObjectStatus string

// The outcomes, with their `rclone check --combined` symbol.
const (
	StatusSame    ObjectStatus = "same"    // =
	StatusMissing ObjectStatus = "missing" // - on the primary only
	StatusExtra   ObjectStatus = "extra"   // + on the copy only
	StatusDiffers ObjectStatus = "differs" // *
	StatusError   ObjectStatus = "error"   // !
	// StatusNotReplicated: missing or different on the copy while the
	// primary still waits for replication; "-" in rclone's terms.
	StatusNotReplicated ObjectStatus = "not-replicated"
)

// ObjectResult is the outcome for one object.
type ObjectResult struct {
	// Key is relative to the compared prefix: the backup's directory for
	// its own objects, the Velero prefix for a repository's
	// ("kopia/shop/p0c3...").
	Key    string       `json:"key"`
	Status ObjectStatus `json:"status"`
	// Detail says why, e.g. "size 10 on primary, 12 on copy".
	Detail string `json:"detail,omitempty"`
}

// Combined is the line `rclone check --combined` would print: a symbol
// (= - + * !) and the key.
func (r ObjectResult) Combined() string {
	sym := map[ObjectStatus]string{StatusSame: "=", StatusMissing: "-", StatusExtra: "+", StatusDiffers: "*", StatusError: "!", StatusNotReplicated: "-"}[r.Status]
	return sym + " " + r.Key
}
