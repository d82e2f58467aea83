package drill

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DueState says whether a scenario's last passing drill is recent enough.
type DueState string

// The values of DueStatus.State. Every state but DueFresh means a drill is
// due.
const (
	// DueFresh: the last passing drill is no older than the maximum age
	// and nothing changed since.
	DueFresh DueState = "fresh"
	// DueOverdue: the last passing drill is older than the maximum age.
	DueOverdue DueState = "overdue"
	// DueChanged: the scenario file, its runbook or the target changed
	// since the last passing drill (a major change: DueOf).
	DueChanged DueState = "changed"
	// DueNeverPassed: drills ran, none passed.
	DueNeverPassed DueState = "never-passed"
	// DueNeverRun: no drill of the scenario is recorded.
	DueNeverRun DueState = "never-run"
)

// DefaultMaxAge is the organisation's own cadence when none is given: a
// quarterly drill, the seeds' recommendation for disaster-recovery drills
// (`firedrill due --max-age`).
const DefaultMaxAge = 90 * 24 * time.Hour

// Cadence is how often a framework wants the recovery tested: at most
// MaxAge between passing drills.
type Cadence struct {
	Framework string
	MaxAge    time.Duration
	// Source is the rule, or "policy default" where the framework leaves
	// the frequency to the organisation.
	Source string
	// ControlPrefix starts the ids of the framework's controls in the
	// evidence's control mapping (internal/evidence/controls.yaml).
	ControlPrefix string
	// Fixed is true when the rule itself sets MaxAge (DORA, PCI DSS): a
	// policy may tighten it, never loosen it (CheckPolicyCadence).
	Fixed bool
}

// Cadences are the testing cadences of the frameworks a scenario can name
// (scenarios.Frameworks), overridable per framework (DuePolicy.Cadences):
//
//   - dora: at least yearly. Regulation (EU) 2022/2554 (DORA) Art. 11(6)
//     tests the ICT business continuity and response and recovery plans
//     at least yearly; Commission Delegated Regulation (EU) 2024/1774
//     Art. 40(1) (RTS, simplified framework) at least once every year for
//     the back-up and restore procedures, or upon every major change.
//   - pci-dss: at least every 12 months. PCI DSS v4.0 requirement 12.10.2:
//     the incident response plan, business recovery and continuity
//     procedures and data backup processes included, is reviewed and
//     tested at least once every 12 months.
//   - soc2, iso27001, nis2, hipaa: these leave the frequency to the
//     organisation (SOC 2 TSC A1.3 "recovery plan procedures ... are
//     tested"; ISO/IEC 27001:2022 A.5.30 "planned ... and tested"; NIS2
//     Art. 21(2)(c) business continuity; HIPAA 45 CFR
//     164.308(a)(7)(ii)(D) "periodic testing"). firedrill's default is
//     yearly, the shortest period an auditor of these commonly expects
//     and the same as DORA's and PCI DSS's: set your policy's with
//     DuePolicy.Cadences (`firedrill due --cadence soc2=180d`).
//
// The organisation's own cadence (DuePolicy.MaxAge, 90 days by default)
// applies beside them; the strictest applicable one wins.
var Cadences = []Cadence{
	{"dora", 365 * 24 * time.Hour, "DORA Art. 11(6); RTS (EU) 2024/1774 Art. 40: at least yearly, and upon every major change", "DORA ", true},
	{"pci-dss", 365 * 24 * time.Hour, "PCI DSS v4.0 req. 12.10.2: at least once every 12 months", "PCI DSS ", true},
	{"soc2", 365 * 24 * time.Hour, "SOC 2 TSC A1.3: policy default, yearly", "SOC 2 ", false},
	{"iso27001", 365 * 24 * time.Hour, "ISO/IEC 27001:2022 A.5.30: policy default, yearly", "ISO/IEC 27001", false},
	{"nis2", 365 * 24 * time.Hour, "NIS2 Art. 21(2)(c): policy default, yearly", "NIS2 ", false},
	{"hipaa", 365 * 24 * time.Hour, "HIPAA 45 CFR 164.308(a)(7)(ii)(D): policy default, yearly", "HIPAA ", false},
}

// CheckPolicyCadence refuses an organisation's cadence for framework
// (DuePolicy.Cadences, `--cadence`) that loosens a fixed one (Cadence.Fixed:
// DORA's and PCI DSS's 12 months): the error names the rule. A framework
// that leaves the frequency to the organisation takes any cadence; an
// unknown framework is an error.
func CheckPolicyCadence(framework string, maxAge time.Duration) error {
	c, ok := CadenceOf(framework)
	if !ok {
		return fmt.Errorf("unknown framework %q", framework)
	}
	if c.Fixed && maxAge > c.MaxAge {
		return fmt.Errorf("%s fixes at most %s between tests (%s): a policy may tighten it, not loosen it to %s",
			framework, days(c.MaxAge.Seconds()), c.Source, days(maxAge.Seconds()))
	}
	return nil
}

// CadenceOf is the cadence of a framework; false for an unknown name.
func CadenceOf(framework string) (Cadence, bool) {
	i := slices.IndexFunc(Cadences, func(c Cadence) bool { return c.Framework == framework })
	if i < 0 {
		return Cadence{}, false
	}
	return Cadences[i], true
}

// DuePolicy is the organisation's cadence.
type DuePolicy struct {
	// MaxAge is the organisation's own maximum age of the last passing
	// drill, for every scenario; DefaultMaxAge when zero.
	MaxAge time.Duration
	// Cadences replace the MaxAge of Cadences by framework name (the
	// organisation's policy for soc2, say); one that would loosen a
	// fixed cadence (Cadence.Fixed) is ignored (CheckPolicyCadence
	// refuses it first).
	Cadences map[string]time.Duration
}

// DueScenario is one scenario for DueOf.
type DueScenario struct {
	Name string
	// Compliance are the frameworks the scenario serves now (its file's
	// compliance field); nil takes those the newest drill recorded.
	Compliance []string
	// Current is the scenario's fingerprint now (FingerprintOf its file;
	// a field left empty is not compared); nil when not known. Either way
	// the newest drill's is compared too: a drill of the changed scenario,
	// or against another target, that did not pass shows the change.
	Current *Fingerprint
}

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
	// Rule names what sets the scenario's cadence or made it due:
	// "max-age" (the organisation's own), framework names ("dora,
	// pci-dss" when they tie) or "changed". Reason says it in words.
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// MaxAgeSeconds is the strictest applicable cadence.
	MaxAgeSeconds float64 `json:"max_age_seconds"`
	// Changed names what changed since the last pass: scenario, runbook,
	// target.
	Changed []string `json:"changed,omitempty"`
	// LastDrill is the newest drill that ended, whatever its result; nil
	// when none did.
	LastDrill *DrillRef `json:"last_drill"`
	// LastPass is the newest passing drill: the one that counts. A failing
	// drill after it does not make the scenario fresh, nor does it make
	// it overdue before LastPass is too old.
	LastPass *DrillRef `json:"last_pass"`
	// AgeSeconds is how long ago LastPass started; nil without one.
	AgeSeconds *float64 `json:"age_seconds"`
	// DueAt is when the scenario needs a drill, as the DUE column of
	// `firedrill due` says it: when LastPass gets too old (in the past for
	// an overdue scenario), or now (the time the status was evaluated) for
	// a scenario due whatever the date of its last pass: changed,
	// never-passed, never-run (in UTC, to the second). Never nil. For a
	// changed scenario, when LastPass gets too old is LastPass.StartedAt
	// plus MaxAgeSeconds.
	DueAt *time.Time `json:"due_at"`
}

// IsDue reports whether the scenario needs a drill now.
func (s DueStatus) IsDue() bool { return s.State != DueFresh }

// Due says, for every scenario, whether it needs a drill (DueOf). It
// reports the scenarios given and every scenario that has a drill in
// reports (so a scenario whose file went away is not forgotten), sorted by
// name. A drill whose process died (Dead at now) counts as a drill that
// did not pass, so a scenario whose only drill died is never-passed with
// that drill as LastDrill, its step named.
func Due(reports []*Report, scenarios []DueScenario, policy DuePolicy, now time.Time) []DueStatus {
	byName := map[string]DueScenario{}
	for _, s := range scenarios {
		byName[s.Name] = s
	}
	history := map[string][]DrillSummary{}
	for _, r := range reports {
		if r.Dead(now) {
			c := *r
			Settle(&c, now)
			r = &c
		}
		history[r.Scenario] = append(history[r.Scenario], Summarize(r))
		if _, ok := byName[r.Scenario]; !ok {
			byName[r.Scenario] = DueScenario{Name: r.Scenario}
		}
	}
	out := make([]DueStatus, 0, len(byName))
	for name, s := range byName {
		out = append(out, DueOf(s, history[name], policy, now))
	}
	slices.SortFunc(out, func(a, b DueStatus) int { return cmp.Compare(a.Scenario, b.Scenario) })
	return out
}

// DueOf says whether one scenario needs a drill as of now, from its
// drills (history: its summaries, any order; a drill that died must be
// settled first, see Settle). Drills still running are not counted: they
// proved nothing yet. Only a passing drill counts toward the cadence.
//
// The cadence is the strictest of the organisation's (policy.MaxAge) and
// of every framework the scenario serves (Cadences, policy.Cadences). A
// drill is due when no drill passed (never-run, never-passed), when the
// last pass is older than that cadence (overdue), or after a major
// change (changed): the scenario file, its runbook or the target differ
// from what the last passing drill recorded (Fingerprint; a hash the last
// pass or the current state does not know is not compared, but a runbook
// added or removed is a change). DORA's RTS (EU) 2024/1774 Art. 40 asks
// for a test upon every major change; firedrill applies it to every
// scenario.
func DueOf(sc DueScenario, history []DrillSummary, policy DuePolicy, now time.Time) DueStatus {
	s := DueStatus{Scenario: sc.Name, State: DueNeverRun}
	var newest, lastPass *DrillSummary
	for i := range history {
		d := &history[i]
		if d.Result == ResultRunning {
			continue
		}
		if newest == nil || d.StartedAt.After(newest.StartedAt) {
			newest = d
		}
		if d.Result == ResultPass && (lastPass == nil || d.StartedAt.After(lastPass.StartedAt)) {
			lastPass = d
		}
	}
	frameworks := sc.Compliance
	if frameworks == nil && newest != nil {
		frameworks = newest.Compliance
	}
	maxAge, rule, source := strictest(frameworks, policy)
	s.MaxAgeSeconds, s.Rule = maxAge.Seconds(), rule
	// Due now until a pass says when it gets too old.
	dueNow := now.UTC().Truncate(time.Second)
	s.DueAt = &dueNow
	if newest != nil {
		s.LastDrill = ref(newest)
		s.State = DueNeverPassed
		s.Reason = "no drill passed"
	} else {
		s.Reason = "no drill recorded"
	}
	if lastPass == nil {
		return s
	}
	s.LastPass = ref(lastPass)
	// A drill that started in the future (a clock off on the machine that
	// ran it) is as fresh as one that starts now.
	age := max(now.Sub(lastPass.StartedAt), 0).Seconds()
	s.AgeSeconds = &age
	s.Changed = changed(lastPass.Fingerprint(), newest.Fingerprint())
	if sc.Current != nil {
		for _, c := range changed(lastPass.Fingerprint(), *sc.Current) {
			if !slices.Contains(s.Changed, c) {
				s.Changed = append(s.Changed, c)
			}
		}
		slices.SortFunc(s.Changed, func(a, b string) int {
			return cmp.Compare(slices.Index(fingerprintParts, a), slices.Index(fingerprintParts, b))
		})
	}
	if len(s.Changed) > 0 {
		s.State, s.Rule = DueChanged, "changed"
		s.Reason = fmt.Sprintf("the %s changed since the last pass (a major change)", strings.Join(s.Changed, ", "))
		return s
	}
	due := lastPass.StartedAt.Add(maxAge)
	s.DueAt = &due
	s.State = DueFresh
	s.Reason = fmt.Sprintf("last pass %s ago, within %s (%s)", days(age), days(maxAge.Seconds()), source)
	if now.After(due) {
		s.State = DueOverdue
		s.Reason = fmt.Sprintf("last pass %s ago, more than %s (%s)", days(age), days(maxAge.Seconds()), source)
	}
	return s
}

// strictest is the shortest applicable cadence, the rule (names of the
// cadences that tie at it, the organisation's first) and its source.
func strictest(frameworks []string, policy DuePolicy) (time.Duration, string, string) {
	maxAge := policy.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	rules, sources := []string{"max-age"}, []string{"the organisation's cadence"}
	for _, f := range frameworks {
		c, ok := CadenceOf(f)
		if !ok {
			continue
		}
		if o, ok := policy.Cadences[f]; ok && o > 0 && (!c.Fixed || o <= c.MaxAge) {
			c.MaxAge, c.Source = o, f+": the organisation's policy"
		}
		switch {
		case c.MaxAge < maxAge:
			maxAge, rules, sources = c.MaxAge, []string{f}, []string{c.Source}
		case c.MaxAge == maxAge && !slices.Contains(rules, f):
			rules, sources = append(rules, f), append(sources, c.Source)
		}
	}
	return maxAge, strings.Join(rules, ", "), strings.Join(sources, "; ")
}

// fingerprintParts are the names DueStatus.Changed uses, in its order.
var fingerprintParts = []string{"scenario", "runbook", "target"}

// changed names the parts of the fingerprint that differ; a hash one side
// does not know is not compared, except the runbook's once both sides
// know the scenario's (a runbook added or removed).
func changed(last, now Fingerprint) []string {
	var out []string
	if last.ScenarioSHA256 != "" && now.ScenarioSHA256 != "" {
		if last.ScenarioSHA256 != now.ScenarioSHA256 {
			out = append(out, "scenario")
		}
		if last.RunbookSHA256 != now.RunbookSHA256 {
			out = append(out, "runbook")
		}
	}
	if last.TargetSHA256 != "" && now.TargetSHA256 != "" && last.TargetSHA256 != now.TargetSHA256 {
		out = append(out, "target")
	}
	return out
}

func ref(d *DrillSummary) *DrillRef {
	r := &DrillRef{DrillID: d.ID, StartedAt: d.StartedAt, Result: d.Result}
	if d.Result != ResultPass {
		r.ErrorStep = d.ErrorStep
	}
	return r
}

// days is seconds in whole days ("12d"), or hours under two days.
func days(seconds float64) string {
	if seconds < 2*24*3600 {
		return fmt.Sprintf("%.0fh", seconds/3600)
	}
	return fmt.Sprintf("%.0fd", seconds/86400)
}
