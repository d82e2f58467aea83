package drill

import (
	"cmp"
	"slices"
	"time"
)

// DueState says whether a scenario's last passing drill is recent enough.
type DueState string

// The values of DueStatus.State. Every state but DueFresh means a drill is
// due.
const (
	// DueFresh: the last passing drill is no older than the maximum age.
	DueFresh DueState = "fresh"
	// DueOverdue: the last passing drill is older than the maximum age.
	DueOverdue DueState = "overdue"
	// DueNeverPassed: drills ran, none passed.
	DueNeverPassed DueState = "never-passed"
	// DueNeverRun: no drill of the scenario is recorded.
	DueNeverRun DueState = "never-run"
)

// DrillRef names one drill of the history.
type DrillRef struct {
	DrillID   string    `json:"drill_id"`
	StartedAt time.Time `json:"started_at"`
	Result    Result    `json:"result"`
	// ErrorStep is the step a drill that did not pass stopped or died in.
	ErrorStep StepName `json:"error_step,omitempty"`
}

// DueStatus is where one scenario stands against its drill cadence.
type DueStatus struct {
	Scenario string   `json:"scenario"`
	State    DueState `json:"state"`
	// LastDrill is the newest drill that ended, whatever its result; nil
	// when none did.
	LastDrill *DrillRef `json:"last_drill"`
	// LastPass is the newest passing drill: the one that counts. A failing
	// drill after it does not make the scenario fresh, nor does it make
	// it overdue before LastPass is too old.
	LastPass *DrillRef `json:"last_pass"`
	// AgeSeconds is how long ago LastPass started; nil without one.
	AgeSeconds *float64 `json:"age_seconds"`
	// DueAt is when LastPass gets too old; nil without one.
	DueAt *time.Time `json:"due_at"`
}

// IsDue reports whether the scenario needs a drill now.
func (s DueStatus) IsDue() bool { return s.State != DueFresh }

// Due says, for every scenario, whether its last passing drill started
// within maxAge before now. It reports the scenarios named and every
// scenario that has a drill in reports (so a scenario whose file went away
// is not forgotten), sorted by name. Drills still running are not counted:
// they proved nothing yet. A drill whose process died (Dead at now) counts
// as a drill that did not pass, so a scenario whose only drill died is
// never-passed with that drill as LastDrill, its step named.
func Due(reports []*Report, scenarios []string, maxAge time.Duration, now time.Time) []DueStatus {
	byName := map[string]*DueStatus{}
	status := func(name string) *DueStatus {
		s, ok := byName[name]
		if !ok {
			s = &DueStatus{Scenario: name, State: DueNeverRun}
			byName[name] = s
		}
		return s
	}
	for _, name := range scenarios {
		status(name)
	}
	for _, r := range reports {
		s := status(r.Scenario)
		if r.Dead(now) {
			c := *r
			Settle(&c, now)
			r = &c
		}
		if r.Result == ResultRunning {
			continue
		}
		ref := &DrillRef{DrillID: r.DrillID, StartedAt: r.StartedAt, Result: r.Result}
		if r.Result != ResultPass {
			ref.ErrorStep = r.ErrorStep
		}
		if s.LastDrill == nil || r.StartedAt.After(s.LastDrill.StartedAt) {
			s.LastDrill = ref
		}
		if r.Result == ResultPass && (s.LastPass == nil || r.StartedAt.After(s.LastPass.StartedAt)) {
			s.LastPass = ref
		}
	}
	out := make([]DueStatus, 0, len(byName))
	for _, s := range byName {
		switch {
		case s.LastPass != nil:
			// A drill that started in the future (a clock off on the
			// machine that ran it) is as fresh as one that starts now.
			age := max(now.Sub(s.LastPass.StartedAt), 0).Seconds()
			due := s.LastPass.StartedAt.Add(maxAge)
			s.AgeSeconds, s.DueAt = &age, &due
			s.State = DueFresh
			if now.After(due) {
				s.State = DueOverdue
			}
		case s.LastDrill != nil:
			s.State = DueNeverPassed
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b DueStatus) int { return cmp.Compare(a.Scenario, b.Scenario) })
	return out
}
