package drill

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// What a drill leaves behind once its record is final: the signed
// evidence bundle (pushed, locked, when a target is set), its metrics and
// a notification. They come after cleanup, in that order, so the bundle
// signs the whole record and the metrics and the notification see the
// drill as it ended.

// Notifier tells people how a drill ended. notify.Webhook is the real one.
type Notifier interface {
	// Notify sends the summary of rep, the drill that just ended; links
	// say where its report is. It returns an error naming the receiver
	// the way String does, never a secret part of its address. Sending
	// twice sends two notifications.
	Notify(ctx context.Context, rep *Report, links ReportLinks) error
	// String names the receiver in logs and errors without secrets (a
	// webhook's scheme and host).
	String() string
}

// ReportLinks say where a drill's report.html is.
type ReportLinks struct {
	// Local is its path in the state directory of the machine that ran
	// the drill.
	Local string
	// Shared is its address in the shared history; empty without one.
	Shared string
}

// MetricsExporter publishes Prometheus metrics of drills.
// metrics.File (the textfile collector) and metrics.Pushgateway are the
// real ones.
type MetricsExporter interface {
	// ExportMetrics publishes the metrics computed from reports, every
	// drill recorded with the one that just ended last; scenario is the
	// scenario just drilled (an exporter may publish only its metrics).
	// It replaces what it published before. The error names the
	// destination as String does.
	ExportMetrics(ctx context.Context, scenario string, reports []*Report) error
	// String names the destination in logs, without credentials.
	String() string
}

// EvidenceOptions say how a drill's evidence bundle is signed and kept
// after the drill (see KeepEvidence).
type EvidenceOptions struct {
	// Key signs the bundle's manifest; required.
	Key ed25519.PrivateKey
	// Mapping maps proofs to controls; the built-in one when nil.
	Mapping *evidence.Mapping
	// Target, when set, is the object-locked bucket the bundle is pushed
	// to. Run refuses a target in one of the scenario's backup buckets
	// (BackupBucketError).
	Target *EvidenceTarget
}

// Outcome is what a drill left behind.
type Outcome struct {
	// Report is the drill's record (report.json, final); its Result says
	// whether the drill passed.
	Report *Report
	// Evidence is the bundle signed after the drill; nil without
	// Options.Evidence, for an interrupted drill, or when no bundle
	// could be made.
	Evidence *Kept
	// Warnings are what failed after the drill without changing its
	// result: a metrics export, a notification, the upload of the
	// evidence record to the shared history.
	Warnings []error
}

// exportTimeout bounds reading the history for the metrics and exporting
// them.
const exportTimeout = time.Minute

// afterRecord keeps the evidence, exports the metrics and sends the
// notifications of the drill whose record is final. It runs on a context
// Ctrl-C does not cancel, so an interrupted drill is still reported. It
// returns an error only when evidence asked for was not kept.
func (r *run) afterRecord(ctx context.Context, out *Outcome) error {
	ctx = context.WithoutCancel(ctx)
	evErr := r.keepEvidence(ctx, out)
	if len(r.opts.Metrics) > 0 {
		r.exportMetrics(ctx, out)
	}
	links := ReportLinks{Local: r.dir.File("report.html")}
	if h := r.opts.History; h != nil {
		links.Shared = h.URL(r.opts.DrillID, "report.html")
	}
	for _, n := range r.opts.Notifiers {
		if err := n.Notify(ctx, r.report, links); err != nil {
			out.Warnings = append(out.Warnings, err)
			continue
		}
		r.opts.Logger.Info("notification sent", "to", n.String(), "drill", r.opts.DrillID)
	}
	return evErr
}

// keepEvidence signs the bundle of the drill and pushes it when a target
// is set; an interrupted drill keeps none. The drill's result stands: a
// failed export or push is the error returned, after which the outputs
// still run.
func (r *run) keepEvidence(ctx context.Context, out *Outcome) error {
	ev := r.opts.Evidence
	if ev == nil || r.report.Result == ResultInterrupted {
		return nil
	}
	if ev.Target != nil {
		fmt.Fprintf(r.opts.Progress, "evidence: signing the bundle of drill %s and pushing it to %s ...\n", r.opts.DrillID, ev.Target.URL())
	}
	k, err := KeepEvidence(ctx, r.dir, KeepOptions{
		ExportOptions: ExportOptions{Key: ev.Key, Mapping: ev.Mapping, Secrets: r.secrets, Version: r.opts.Version},
		Target:        ev.Target, Now: r.now,
	})
	out.Evidence = k
	// The team's shared history keeps the record of the export too, so
	// 'evidence summary --history' sees drills run in a CronJob.
	if h := r.opts.History; h != nil {
		if uerr := CopyFiles(ctx, LocalRecords{StateDir: r.opts.StateDir}, h, r.opts.DrillID, EvidenceRecordFile); uerr != nil {
			out.Warnings = append(out.Warnings, fmt.Errorf("the evidence record was not uploaded to the shared history: %w", uerr))
		}
	}
	if err != nil {
		return fmt.Errorf("drill %s ended %s, but its evidence was not kept: %w", r.opts.DrillID, r.report.Result, err)
	}
	return nil
}

// exportMetrics exports the metrics of every drill recorded, the one just
// ended last: from the shared history when there is one (in a CronJob the
// state directory lives as long as the Pod), else from the state
// directory. When the history cannot be read at all nothing is exported:
// metrics from this drill alone would say no earlier drill passed, and
// stale metrics are better than wrong ones.
func (r *run) exportMetrics(ctx context.Context, out *Outcome) {
	ctx, cancel := context.WithTimeout(ctx, exportTimeout)
	defer cancel()
	var records Records = LocalRecords{StateDir: r.opts.StateDir}
	if r.opts.History != nil {
		records = r.opts.History
	}
	history, err := ListReports(ctx, records, "")
	if err != nil && len(history) == 0 {
		out.Warnings = append(out.Warnings, fmt.Errorf("metrics not updated: %w", err))
		return
	}
	if err != nil {
		// Records that cannot be read: the metrics say less, nothing wrong.
		out.Warnings = append(out.Warnings, fmt.Errorf("metrics: some drill records could not be read: %w", err))
	}
	// The drill just ended goes last: it replaces an older record of
	// itself (the shared history may hold one from before the last upload).
	reports := append(history, r.report)
	for _, m := range r.opts.Metrics {
		if err := m.ExportMetrics(ctx, r.report.Scenario, reports); err != nil {
			out.Warnings = append(out.Warnings, err)
			continue
		}
		r.opts.Logger.Info("metrics exported", "to", m.String(), "scenario", r.report.Scenario)
	}
}

// checkTargets refuses, before a drill starts, a shared history or an
// evidence target in one of the scenario's backup buckets.
func checkTargets(sc *scenarios.Scenario, o Options) error {
	if h, ok := o.History.(*S3Records); ok {
		if err := refuseBackupBucket(sc, "the shared history", h.Endpoint, h.Bucket, h.Prefix); err != nil {
			return err
		}
	}
	if o.Evidence != nil && o.Evidence.Target != nil {
		t := o.Evidence.Target
		return refuseBackupBucket(sc, "the evidence bucket", t.Endpoint, t.Bucket, t.Prefix)
	}
	return nil
}
