package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Heartbeat is how a record saying "running" shows its process is alive:
// the drill writes it with the record when the record is first written,
// at the start and end of every step, and every IntervalSeconds between
// them (see Run). A drill whose process is gone (SIGKILL, OOM, a lost
// node, a laptop that lost power) stops renewing it, and readers show the
// record as ResultDied (see Settle).
type Heartbeat struct {
	// At is when the drill last renewed the heartbeat (RFC 3339, UTC).
	At time.Time `json:"at"`
	// IntervalSeconds is how often the drill renews it; the reader's
	// bound (DeadAfter) is a multiple of it, so a drill run with a short
	// interval (tests) is known dead sooner.
	IntervalSeconds float64 `json:"interval_seconds"`
	// Step is the step the drill was in at the last renewal.
	Step StepName `json:"step,omitempty"`
	// Host and PID name the process, so a person can check it is gone.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
}

// DefaultHeartbeatInterval is how often a running drill renews its
// heartbeat when Options.HeartbeatInterval is zero. Each renewal writes
// report.json locally and uploads it to the shared history: every 30
// seconds is a few dozen small writes per drill.
const DefaultHeartbeatInterval = 30 * time.Second

// HeartbeatMisses is how many intervals a heartbeat may be late before
// its drill is dead: a renewal may be delayed by the upload before it
// (the shared history's upload timeout), a paused process or a slow disk,
// and the record in a shared history is only as fresh as the last upload
// that got through. Three intervals (90 seconds by default) ride out two
// late or lost renewals in a row; a drill that misses three is gone.
const HeartbeatMisses = 3

// LegacyDeadAfter is how long a record that says "running" and has no
// heartbeat (written by firedrill before heartbeats) may be old before it
// counts as dead: longer than any drill with the default timeouts can run
// (ten steps of at most 30 minutes each, five hours), and within the day
// that 'due' looks at.
const LegacyDeadAfter = 24 * time.Hour

// DeadAfter is how old a running record's heartbeat may be before its
// drill is dead: HeartbeatMisses intervals, or LegacyDeadAfter since the
// start for a record without a heartbeat.
func (r *Report) DeadAfter() time.Duration {
	if r.Heartbeat == nil || r.Heartbeat.IntervalSeconds <= 0 {
		return LegacyDeadAfter
	}
	return HeartbeatMisses * time.Duration(r.Heartbeat.IntervalSeconds*float64(time.Second))
}

// LastSign is the last time the drill's process was known alive: its
// heartbeat, or its start for a record without one.
func (r *Report) LastSign() time.Time {
	if r.Heartbeat != nil && !r.Heartbeat.At.IsZero() {
		return r.Heartbeat.At
	}
	return r.StartedAt
}

// Dead reports whether r is the record of a drill that has not run to
// its end and whose process has given no sign of life for longer than
// DeadAfter at now. Not run to its end is a record saying "running", or
// one with a heartbeat that lacks the last step (cleanup): the report
// step writes the result before evidence and cleanup run, so a drill
// killed in those steps leaves a record saying "pass" or "fail" with
// what it restored still in the scratch cluster. A finished record, or
// one whose heartbeat is fresh, is not dead.
func (r *Report) Dead(now time.Time) bool {
	unfinished := r.Result == ResultRunning || (r.Heartbeat != nil && !r.ranLastStep())
	return unfinished && now.Sub(r.LastSign()) > r.DeadAfter()
}

// ranLastStep reports whether the record holds the last step of a drill
// (cleanup, run or skipped): Run writes it only in the final record.
func (r *Report) ranLastStep() bool {
	list := steps()
	return len(r.Phases) > 0 && r.Phases[len(r.Phases)-1].Name == list[len(list)-1].name
}

// Settle turns, in place, a record whose drill died (Dead at now) into one
// that says so: result ResultDied, error_step the step it died in (the
// heartbeat's, else the step after the last one recorded), and an error
// naming the last sign of life and the process. It reports whether it
// changed r. ListReports settles every record it reads; the record itself
// is left as the drill wrote it.
func Settle(r *Report, now time.Time) bool {
	if !r.Dead(now) {
		return false
	}
	r.Result = ResultDied
	if r.ErrorStep == "" {
		r.ErrorStep = diedIn(r)
	}
	last := r.LastSign().UTC().Format(time.RFC3339)
	if hb := r.Heartbeat; hb != nil {
		r.Error = fmt.Sprintf("firedrill died: no heartbeat since %s (process %d on %s; dead after %s without one)",
			last, hb.PID, hb.Host, FormatSeconds(r.DeadAfter().Seconds()))
	} else {
		r.Error = fmt.Sprintf("firedrill died: the record says running since %s and has no heartbeat (written by an earlier version; dead after %s)",
			last, FormatSeconds(LegacyDeadAfter.Seconds()))
	}
	return true
}

// diedIn is the step a dead drill was in: the heartbeat's, else the one
// after the last step recorded.
func diedIn(r *Report) StepName {
	if r.Heartbeat != nil && r.Heartbeat.Step != "" {
		return r.Heartbeat.Step
	}
	list := steps()
	if len(r.Phases) == 0 {
		return list[0].name
	}
	last := r.Phases[len(r.Phases)-1].Name
	for i, st := range list {
		if st.name == last && i+1 < len(list) {
			return list[i+1].name
		}
	}
	return last
}

// heartbeat renews the running record's heartbeat every interval until
// stop is closed: it writes the record as last written by the drill (the
// snapshot), with a new heartbeat time, locally and to the shared history.
// It never touches r.report, which the drill's goroutine owns.
func (r *run) heartbeat(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.renew(context.WithoutCancel(ctx))
		}
	}
}

// renew writes the last snapshot of the record with a fresh heartbeat.
func (r *run) renew(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snapshot == nil {
		return
	}
	r.snapshot.Heartbeat.At = r.now()
	if err := r.dir.WriteReport(r.snapshot); err != nil {
		r.opts.Logger.Warn("renew the drill's heartbeat", "err", err)
		return
	}
	if h := r.opts.History; h != nil {
		b, err := os.ReadFile(r.dir.File(ReportFile))
		if err == nil {
			err = h.WriteFile(ctx, r.opts.DrillID, ReportFile, r.secrets.Redact(b))
		}
		if err != nil {
			// The drill's own uploads record the failure as a finding.
			r.opts.Logger.Warn("renew the drill's heartbeat in the shared history", "err", err)
		}
	}
}

// writeRecord writes the running record with a fresh heartbeat naming
// step, and keeps a copy of it for the heartbeat goroutine (which must
// not read r.report while the drill changes it).
func (r *run) writeRecord(step StepName) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	hb := *r.report.Heartbeat
	hb.At, hb.Step = r.now(), step
	r.report.Heartbeat = &hb
	snap, err := cloneReport(r.report)
	if err != nil {
		return err
	}
	r.snapshot = snap
	return r.dir.WriteReport(r.report)
}

// stopHeartbeat stops the heartbeat goroutine and waits for it, so no
// renewal overwrites the final record.
func (r *run) stopHeartbeat() {
	if r.hbStop == nil {
		return
	}
	close(r.hbStop)
	<-r.hbDone
	r.hbStop = nil
	r.mu.Lock()
	r.snapshot = nil
	r.mu.Unlock()
}

// newHeartbeat is the first heartbeat of a drill starting at start.
func newHeartbeat(start time.Time, interval time.Duration) *Heartbeat {
	host, _ := os.Hostname()
	return &Heartbeat{At: start, IntervalSeconds: interval.Seconds(), Step: StepLoad, Host: host, PID: os.Getpid()}
}

// cloneReport is a deep copy of r, through its JSON form (what is written).
func cloneReport(r *Report) (*Report, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode the drill's record: %w", err)
	}
	var c Report
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("copy the drill's record: %w", err)
	}
	return &c, nil
}
