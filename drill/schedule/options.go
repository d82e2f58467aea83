package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Cadence is a named schedule: the shorthand for a cron expression with a
// sensible time of day.
type Cadence string

// The cadences, as the seeds recommend them: drills quarterly, maintenance
// checks monthly, and weekly for teams that drill often.
const (
	Quarterly Cadence = "quarterly"
	Monthly   Cadence = "monthly"
	Weekly    Cadence = "weekly"
)

// Cadences lists the cadences in the order help text shows them.
var Cadences = []Cadence{Quarterly, Monthly, Weekly}

// cadenceHour is when cadence drills start (in Options.TimeZone): early,
// before the working day, yet not at night when nobody would look at a
// failure.
const cadenceHour = 6

// Cron is the cron expression of the cadence for the i-th scenario (in
// name order). Drills of one render share a scratch cluster, so each
// starts an hour after the previous one instead of all at once.
func (c Cadence) Cron(i int) (string, error) {
	hour := (cadenceHour + i) % 24
	switch c {
	case Quarterly:
		return fmt.Sprintf("0 %d 1 1,4,7,10 *", hour), nil
	case Monthly:
		return fmt.Sprintf("0 %d 1 * *", hour), nil
	case Weekly:
		return fmt.Sprintf("0 %d * * 1", hour), nil
	}
	return "", fmt.Errorf("unknown cadence %q: want %s", string(c), joinCadences())
}

func joinCadences() string {
	s := make([]string, len(Cadences))
	for i, c := range Cadences {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// Defaults of Options.
const (
	DefaultNamespace              = "firedrill"
	DefaultTimeZone               = "Etc/UTC"
	DefaultCredentialsSecret      = "firedrill-credentials"
	DefaultAWSCredentialsSecret   = "firedrill-aws-credentials"
	DefaultSourceKubeconfigSecret = "firedrill-source-kubeconfig"
	DefaultHistorySecret          = "firedrill-history"
	DefaultEvidenceSecret         = "firedrill-evidence"
	DefaultNotifySecret           = "firedrill-notify"
)

// Options say what to render. Render fills the defaults; Validate checks
// the rest.
type Options struct {
	// Scenarios are the scenarios to schedule, one CronJob each, as loaded
	// by scenarios.Find. Required; names must be unique.
	Scenarios []*scenarios.Scenario
	// Cron is a five-field cron expression; exactly one of Cron and
	// Cadence is required.
	Cron string
	// Cadence is a named schedule (see Cadence.Cron).
	Cadence Cadence
	// TimeZone is the CronJob's time zone; default DefaultTimeZone.
	TimeZone string
	// Namespace is where the CronJobs run; default DefaultNamespace.
	Namespace string
	// Image is the image the CronJobs run. Required; DefaultImage says
	// which of the project's images a render needs.
	Image string
	// History is the shared drill history, s3://BUCKET/PREFIX. Required: a
	// pod's own disk is gone when the drill ends, so the record must go
	// where `firedrill history` and `firedrill due` read it.
	History string
	// HistoryEndpoint, HistoryRegion and HistoryPathStyle are passed on
	// as --history-endpoint, --history-region and --history-path-style.
	HistoryEndpoint  string
	HistoryRegion    string
	HistoryPathStyle bool
	// Cluster names the cluster the rendered drills protect: passed on as
	// --cluster, so their records go under PREFIX/clusters/CLUSTER/ of
	// the history (drill.CheckClusterName); empty for none.
	Cluster string
	// CredentialsSecret holds the values of the environment variables the
	// scenarios name as credentials (accessKeyIDEnv ...), one key per
	// variable; default DefaultCredentialsSecret.
	CredentialsSecret string
	// AWSCredentialsSecret holds, under the key "credentials", the shared
	// AWS credentials file of scenarios that name a profile or a file;
	// default DefaultAWSCredentialsSecret.
	AWSCredentialsSecret string
	// SourceKubeconfigSecret holds, under the key "kubeconfig", the
	// kubeconfig of the source cluster for scenarios that name one;
	// default DefaultSourceKubeconfigSecret.
	SourceKubeconfigSecret string
	// HistorySecret optionally holds FIREDRILL_HISTORY_ACCESS_KEY_ID and
	// FIREDRILL_HISTORY_SECRET_ACCESS_KEY; without it the AWS SDK's chain
	// applies (workload identity). Default DefaultHistorySecret.
	HistorySecret string
	// EvidenceSecret holds the evidence signing key (key
	// FIREDRILL_EVIDENCE_KEY, the PEM text) and optionally
	// FIREDRILL_EVIDENCE_ACCESS_KEY_ID / FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY
	// for the evidence bucket; default DefaultEvidenceSecret. Without it a
	// drill signs no evidence, unless its scenario pushes evidence
	// (spec.evidence.push), which then requires it.
	EvidenceSecret string
	// NotifySecret optionally holds FIREDRILL_NOTIFY_WEBHOOK,
	// FIREDRILL_NOTIFY_FORMAT and FIREDRILL_PUSHGATEWAY: URLs that may
	// carry a token, so never in the manifests themselves. Default
	// DefaultNotifySecret; without it no notification and no push.
	NotifySecret string
	// EvidencePush, with its endpoint, region and path style, is passed on
	// as --evidence-push ...: every drill's signed evidence goes there,
	// locked.
	EvidencePush          string
	EvidencePushEndpoint  string
	EvidencePushRegion    string
	EvidencePushPathStyle bool
	// JobTimeout bounds one drill (the Job's activeDeadlineSeconds) of
	// every scenario; zero (the default) gives each scenario its own,
	// JobDeadline. It may not be shorter than a scenario's JobDeadline: a
	// drill still within its RTO would be stopped.
	JobTimeout time.Duration
	// RunArgs are added to `firedrill run NAME` as they are.
	RunArgs []string
	// ReadFile reads the files a scenario names that the pod needs (its
	// runbook, CA bundles); nil means safefile.ReadFile (regular files of
	// at most 4 MiB only).
	ReadFile func(name string) ([]byte, error)
}

// withDefaults returns o with defaults filled in and scenarios in name order.
func (o Options) withDefaults() Options {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.Namespace, DefaultNamespace)
	def(&o.TimeZone, DefaultTimeZone)
	def(&o.CredentialsSecret, DefaultCredentialsSecret)
	def(&o.AWSCredentialsSecret, DefaultAWSCredentialsSecret)
	def(&o.SourceKubeconfigSecret, DefaultSourceKubeconfigSecret)
	def(&o.HistorySecret, DefaultHistorySecret)
	def(&o.EvidenceSecret, DefaultEvidenceSecret)
	def(&o.NotifySecret, DefaultNotifySecret)
	if o.ReadFile == nil {
		o.ReadFile = func(name string) ([]byte, error) { return safefile.ReadFile(name, safefile.Other) }
	}
	o.Scenarios = slices.Clone(o.Scenarios)
	slices.SortStableFunc(o.Scenarios, func(a, b *scenarios.Scenario) int {
		return strings.Compare(a.Metadata.Name, b.Metadata.Name)
	})
	return o
}

// maxScenarioName keeps "firedrill-NAME" within the 52 characters a
// CronJob name may have (the Job controller appends 11).
const maxScenarioName = 52 - len(namePrefix)

// ScenarioError is a problem of a scenario itself, not of an option: a
// fixed declaredAt, a name too long for a CronJob. Fixing it means
// changing the scenario file.
type ScenarioError struct{ Err error }

func (e *ScenarioError) Error() string { return e.Err.Error() }
func (e *ScenarioError) Unwrap() error { return e.Err }

// Validate reports every problem of o at once (errors.Join), each naming
// the option as the command line spells it; problems of a scenario itself
// are *ScenarioError.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	addScenario := func(format string, args ...any) {
		errs = append(errs, &ScenarioError{Err: fmt.Errorf(format, args...)})
	}
	if len(o.Scenarios) == 0 {
		add("--scenario: at least one scenario is required")
	}
	for i, sc := range o.Scenarios {
		name := sc.Metadata.Name
		if i > 0 && o.Scenarios[i-1].Metadata.Name == name {
			add("--scenario: %s is named twice", name)
		}
		if d := sc.Spec.Disaster.DeclaredAt; !d.IsZero() {
			// Every run would count RTO and RPO from that one moment: the
			// second quarter's drill would miss its RTO by three months.
			addScenario("--scenario: %s sets spec.disaster.declaredAt (%s): every scheduled run would measure RTO and RPO from that fixed time; remove it (a scheduled drill's disaster time is its start)",
				name, d.UTC().Format(time.RFC3339))
		}
		if len(name) > maxScenarioName {
			addScenario("--scenario: %s: the name has %d characters; a scheduled scenario's name may have at most %d (its CronJob is %s%s)",
				name, len(name), maxScenarioName, namePrefix, name)
		}
	}
	switch {
	case o.Cron == "" && o.Cadence == "":
		add("one of --cron or --cadence is required")
	case o.Cron != "" && o.Cadence != "":
		add("--cron and --cadence: give one, not both")
	case o.Cron != "":
		if err := ValidateCron(o.Cron); err != nil {
			add("--cron: %w", err)
		}
	default:
		if _, err := o.Cadence.Cron(0); err != nil {
			add("--cadence: %w", err)
		}
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil || strings.Contains(o.TimeZone, "Local") {
		add("--time-zone %q: not an IANA time zone name (e.g. Etc/UTC, Europe/Berlin)", o.TimeZone)
	}
	if !dnsLabel(o.Namespace) {
		add("--namespace %q: not a valid namespace name (lowercase letters, digits and '-', at most 63)", o.Namespace)
	}
	if o.Image == "" {
		add("--image: the image the drills run is required")
	} else if strings.ContainsAny(o.Image, " \t\n") {
		add("--image %q: an image reference has no spaces", o.Image)
	}
	if o.History == "" {
		add("--history: a drill in a pod keeps nothing once the pod is gone; its record must go to a shared history s3://BUCKET/PREFIX")
	} else if _, _, err := drill.ParseHistoryURL(o.History); err != nil {
		add("--history: %w", err)
	}
	if o.Cluster != "" {
		if err := drill.CheckClusterName(o.Cluster); err != nil {
			add("--cluster: %w", err)
		}
	}
	if o.EvidencePush != "" {
		if _, _, err := drill.ParseEvidenceURL(o.EvidencePush); err != nil {
			add("--evidence-push: %w", err)
		}
	}
	for flag, name := range map[string]string{
		"--credentials-secret": o.CredentialsSecret, "--aws-credentials-secret": o.AWSCredentialsSecret,
		"--source-kubeconfig-secret": o.SourceKubeconfigSecret, "--history-secret": o.HistorySecret, "--evidence-secret": o.EvidenceSecret,
		"--notify-secret": o.NotifySecret,
	} {
		if !dnsSubdomain(name) {
			add("%s %q: not a valid Secret name", flag, name)
		}
	}
	if o.JobTimeout < 0 {
		add("--job-timeout: must be greater than zero")
	}
	for _, sc := range o.Scenarios {
		if need := JobDeadline(sc); o.JobTimeout > 0 && o.JobTimeout < need {
			add("--job-timeout %s: scenario %s needs %s (%s): a drill still within its RTO would be stopped; leave --job-timeout unset to give each scenario its own",
				drill.FormatSeconds(o.JobTimeout.Seconds()), sc.Metadata.Name, drill.FormatSeconds(need.Seconds()), deadlineParts(sc))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// ValidateCron checks a five-field cron expression (minute, hour, day of
// month, month, day of week) as the CronJob controller reads it: numbers,
// ranges, steps, lists, "*", and names of months and weekdays. Macros
// (@daily) and TZ= prefixes are refused: the cadences are the shorthand,
// and the time zone is a field of its own.
func ValidateCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return fmt.Errorf("%q has %d fields; want 5: minute hour day-of-month month day-of-week (e.g. \"0 6 1 1,4,7,10 *\")", expr, len(fields))
	}
	specs := []struct {
		name     string
		min, max int
		names    []string
	}{
		{"minute", 0, 59, nil},
		{"hour", 0, 23, nil},
		{"day of month", 1, 31, nil},
		{"month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
		{"day of week", 0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	}
	for i, f := range fields {
		s := specs[i]
		value := func(v string) (int, bool) {
			if n, err := strconv.Atoi(v); err == nil {
				return n, n >= s.min && n <= s.max
			}
			if j := slices.Index(s.names, strings.ToUpper(v)); j >= 0 {
				return j + s.min, true
			}
			return 0, false
		}
		for _, item := range strings.Split(f, ",") {
			rng, step, hasStep := strings.Cut(item, "/")
			if hasStep {
				if n, err := strconv.Atoi(step); err != nil || n < 1 || n > s.max {
					return fmt.Errorf("%q: %s field %q: step %q must be a number from 1 to %d", expr, s.name, f, step, s.max)
				}
			}
			if rng == "*" || (rng == "?" && (i == 2 || i == 4)) {
				continue
			}
			lo, hi, isRange := strings.Cut(rng, "-")
			a, okA := value(lo)
			b, okB := a, true
			if isRange {
				b, okB = value(hi)
			}
			if !okA || !okB {
				return fmt.Errorf("%q: %s field %q: %q is not a valid %s (%d-%d)", expr, s.name, f, rng, s.name, s.min, s.max)
			}
			if a > b {
				return fmt.Errorf("%q: %s field %q: range %q goes backwards", expr, s.name, f, rng)
			}
		}
	}
	return nil
}

func dnsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func dnsSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !dnsLabel(part) {
			return false
		}
	}
	return true
}
