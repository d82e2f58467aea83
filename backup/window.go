package backup

import (
	"time"
)

// WindowSchema is the schema of a Window document of its own, as
// `firedrill verify -o json` prints it inside its result.
const WindowSchema = "firedrill.dev/window/v1"

// Window is the recovery window of one Velero schedule, read from the
// bucket's own metadata (<prefix>/backups/<name>/velero-backup.json of
// every backup labelled velero.io/schedule-name=<schedule>), so it needs no
// cluster. The window runs from CheckedAt-Retention to CheckedAt.
// Times are UTC; durations are seconds.
type Window struct {
	// Schedule is the Velero Schedule the backups carry in the label
	// velero.io/schedule-name.
	Schedule string `json:"schedule"`
	// Cron is the schedule's cron expression as Velero parses it
	// (robfig/cron's standard syntax, CRON_TZ= allowed); empty when it
	// was unknown and missed runs were not looked for.
	Cron string `json:"cron,omitempty"`
	// CronSource says where Cron came from: "scenario", "cluster" or "".
	CronSource string `json:"cron_source,omitempty"`
	// CheckedAt is the clock the window is judged at.
	CheckedAt time.Time `json:"checked_at"`
	// From is CheckedAt-Retention: how far back the window must reach;
	// zero when the scenario declares no retention.
	From time.Time `json:"from,omitzero"`

	// RetentionSeconds, MaxRetentionSeconds and RPOSeconds are the
	// scenario's objectives.retention, objectives.maxRetention and
	// objectives.rpo; zero when not declared.
	RetentionSeconds    float64 `json:"retention_seconds,omitempty"`
	MaxRetentionSeconds float64 `json:"max_retention_seconds,omitempty"`
	RPOSeconds          float64 `json:"rpo_seconds,omitempty"`

	// BackupCount is how many backups of the schedule the bucket holds
	// (any phase); Usable how many of them a restore would take
	// (Completed, or PartiallyFailed when the scenario allows it).
	BackupCount int `json:"backup_count"`
	Usable      int `json:"usable"`
	// Backups are the schedule's backups from From on (all of them when
	// From is zero), oldest first: one tick each on the report's strip.
	Backups []WindowBackup `json:"backups"`

	// Oldest and Newest are the oldest and newest usable backups; nil
	// when there is none.
	Oldest *WindowBackup `json:"oldest,omitempty"`
	Newest *WindowBackup `json:"newest,omitempty"`
	// ReachesBack is true when the oldest usable backup started at or
	// before From (or no retention is declared and there is one);
	// MissingSeconds is how much of the window is not covered when not.
	ReachesBack    bool    `json:"reaches_back"`
	MissingSeconds float64 `json:"missing_seconds,omitempty"`

	// NotCompleted are the backups in the window a restore would not
	// take: Failed, PartiallyFailed, FailedValidation, still running.
	NotCompleted []WindowBackup `json:"not_completed"`
	// MissedRuns are the scheduled runs in the window that left no
	// backup at all, oldest first, at most MaxWindowItems of them;
	// MissedRunCount counts them all.
	MissedRuns     []MissedRun `json:"missed_runs"`
	MissedRunCount int         `json:"missed_run_count"`

	// WorstGap is the longest time between consecutive usable backups
	// in the window, the last one to CheckedAt included: what a disaster
	// at the worst moment loses. Nil when there is no usable backup.
	WorstGap *Gap `json:"worst_gap,omitempty"`

	// Lock says how the object lock of the window's backups was checked.
	Lock LockCoverage `json:"lock"`

	// PastMaxRetention are the backups and repository objects still
	// held longer than MaxRetentionSeconds, or locked or kept by Velero
	// past it.
	PastMaxRetention []Retained `json:"past_max_retention"`
}

// WindowBackup is one backup of the schedule as its velero-backup.json
// records it.
type WindowBackup struct {
	Name string `json:"name"`
	// Phase is Velero's status.phase, e.g. Completed, PartiallyFailed.
	Phase string `json:"phase"`
	// Created is metadata.creationTimestamp: when the schedule's run
	// created the Backup, which missed runs are judged by.
	Created time.Time `json:"created,omitzero"`
	// Started, Completed and Expiration are status.startTimestamp,
	// status.completionTimestamp and status.expiration; zero when absent.
	Started    time.Time `json:"started,omitzero"`
	Completed  time.Time `json:"completed,omitzero"`
	Expiration time.Time `json:"expiration,omitzero"`
	// TTLSeconds is spec.ttl.
	TTLSeconds float64 `json:"ttl_seconds,omitempty"`
	Errors     int     `json:"errors,omitempty"`
	Warnings   int     `json:"warnings,omitempty"`
	// FailureReason is status.failureReason, when Velero gave one.
	FailureReason string `json:"failure_reason,omitempty"`
	// Usable is true when a restore would take the backup.
	Usable bool `json:"usable"`
}

// MissedRun is a time the schedule's cron expression was due and no
// backup started before the next due time.
type MissedRun struct {
	// Expected is when the run was due, UTC.
	Expected time.Time `json:"expected"`
	// ExpectedLocal is Expected in the schedule's CRON_TZ, RFC 3339 with
	// its offset; empty when the schedule has no time zone.
	ExpectedLocal string `json:"expected_local,omitempty"`
}

// Gap is the time between two consecutive usable backups (or the last
// one and the check).
type Gap struct {
	// From is the start of the earlier backup; To the start of the later
	// one, or CheckedAt for the gap after the newest.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// FromBackup and ToBackup name the backups; ToBackup is empty for
	// the gap up to CheckedAt.
	FromBackup string  `json:"from_backup"`
	ToBackup   string  `json:"to_backup,omitempty"`
	Seconds    float64 `json:"seconds"`
	// OverRPO is true when Seconds exceeds the RPO objective.
	OverRPO bool `json:"over_rpo"`
}

// LockCoverage says which of the window's backups had the object lock
// of every object version checked, and which fell short of their own
// expiration.
type LockCoverage struct {
	// Checked is "all", "sample" or "none" (no backup in the window, or
	// the check was not asked for).
	Checked string `json:"checked"`
	// Sample is the number of backups asked for with --window-sample and
	// Seed the seed they were drawn with (any int64, 0 included); both
	// absent when all were checked.
	Sample int    `json:"sample,omitempty"`
	Seed   *int64 `json:"seed,omitempty"`
	// Backups names the backups checked, oldest first.
	Backups []string `json:"backups"`
	// Short are the backups with an object version not locked until the
	// backup's expiration (or whose versions could not be read).
	Short []LockShort `json:"short"`
}

// LockShort is a backup of the window whose objects are not all locked
// until its expiration.
type LockShort struct {
	Backup     string    `json:"backup"`
	Expiration time.Time `json:"expiration,omitzero"`
	// Versions is how many object versions of the backup fall short,
	// Example one of them, Problem what is wrong with it.
	Versions int    `json:"versions"`
	Example  string `json:"example"`
	Problem  string `json:"problem"`
}

// Retained is something kept past the scenario's maxRetention.
type Retained struct {
	// Kind is "backup" (its metadata or data still in the bucket),
	// "repository" (volume-data repository objects last written before
	// CheckedAt-maxRetention), "ttl" (a Velero TTL longer than
	// maxRetention), "bucket-lock" (the bucket's default retention) or
	// "object-lock" (an object version's retain-until date).
	Kind string `json:"kind"`
	// Subject names the backup, repository prefix or bucket.
	Subject string `json:"subject"`
	// Since is when the thing was created or last written; Until how
	// long it is kept (expiration or retain-until); zero when unknown.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// ExcessSeconds is how much longer than maxRetention it is or will
	// be kept.
	ExcessSeconds float64 `json:"excess_seconds"`
	// Objects and Bytes size the data kept, where listed.
	Objects int   `json:"objects,omitempty"`
	Bytes   int64 `json:"bytes,omitempty"`
}

// MaxWindowItems bounds the missed runs listed in a Window; the counts
// are always complete.
const MaxWindowItems = 100
