package scenarios

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/firedrill-dev/firedrill/internal/envname"
)

// validator checks what the decoder could not: required fields, allowed
// values, formats and contradictions between fields. It reports into the
// decoder's errors, at the line of the field or of its nearest written
// ancestor.
type validator struct {
	d  *decoder
	sc *Scenario
	// runbookExists answers for built-in runbook names; nil skips the check.
	runbookExists func(name string) bool
	// statRunbook checks a runbook file; nil skips the check (built-in scenarios).
	statRunbook func(path string) error
}

func (v *validator) errorf(path, format string, args ...any) {
	if v.d.reported(path) {
		return
	}
	v.d.add(lineOf(v.d.lines, path), path, fmt.Sprintf(format, args...))
}

// warnf reports a likely mistake that does not make the file invalid (see
// Scenario.Warnings), at the line of path. The message says the fix.
func (v *validator) warnf(path, format string, args ...any) {
	v.d.warns = append(v.d.warns, &ValidationError{File: v.d.file, Line: lineOf(v.d.lines, path), Path: path, Message: fmt.Sprintf(format, args...)})
}

// has reports whether path was written in the file (even with no value).
func (v *validator) has(path string) bool {
	_, ok := v.d.lines[path]
	return ok
}

// block reports whether a required block was written, and says so if not.
func (v *validator) block(path string) bool {
	if !v.has(path) {
		v.errorf(path, "is required")
		return false
	}
	return true
}

// required reports whether a required value is set, and says what is wrong if not.
func (v *validator) required(path string, set bool) bool {
	switch {
	case set:
		return true
	case v.has(path):
		v.errorf(path, "must not be empty")
	default:
		v.errorf(path, "is required")
	}
	return false
}

// lineOf is the line of path, or of its nearest ancestor that has one.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 1
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func (v *validator) validate() {
	sc := v.sc
	if v.required("apiVersion", sc.APIVersion != "") && sc.APIVersion != APIVersion {
		v.errorf("apiVersion", "%q is not supported; use %s", sc.APIVersion, APIVersion)
	}
	if v.required("kind", sc.Kind != "") && sc.Kind != Kind {
		v.errorf("kind", "%q is not supported; use %s", sc.Kind, Kind)
	}
	if v.block("metadata") {
		v.label("metadata.name", sc.Metadata.Name, true)
		v.oneLine("metadata.description", sc.Metadata.Description)
	}
	if !v.block("spec") {
		return
	}
	v.disaster()
	v.objectives()
	v.compliance()
	v.backups()
	v.backupSpacing()
	v.storage()
	v.target()
	v.checks()
	v.runbook()
	v.cleanup()
	v.evidence()
	v.mappedNamespaceWarnings()
}

func (v *validator) disaster() {
	const p = "spec.disaster"
	if !v.block(p) {
		return
	}
	d := v.sc.Spec.Disaster
	if v.required(p+".summary", d.Summary != "") {
		v.oneLine(p+".summary", d.Summary)
	}
	if v.required(p+".lost", len(d.Lost) > 0) {
		for i, l := range d.Lost {
			ip := fmt.Sprintf("%s.lost[%d]", p, i)
			switch {
			case !slices.Contains(losses, l):
				v.errorf(ip, "%q is not one of %s", l, joinValues(losses))
			case slices.Index(d.Lost, l) < i:
				v.errorf(ip, "%s is listed twice", l)
			}
		}
	}
	switch lostNS := d.Loses(LossNamespace); {
	case lostNS:
		v.required(p+".lostNamespaces", len(d.LostNamespaces) > 0)
	case v.has(p + ".lostNamespaces"):
		v.errorf(p+".lostNamespaces", "set only when lost includes namespace")
	}
	scope := v.sc.Spec.Backups.IncludedNamespaces
	for i, ns := range d.LostNamespaces {
		ip := fmt.Sprintf("%s.lostNamespaces[%d]", p, i)
		if v.label(ip, ns, true) && len(scope) > 0 && !slices.Contains(scope, ns) {
			v.errorf(ip, "namespace %q is not in spec.backups.includedNamespaces, so the drill would not restore it", ns)
		}
	}
	if !d.DeclaredAt.IsZero() {
		// schedule render refuses such a scenario (drill/schedule); a
		// drill run by hand is allowed to replay one incident.
		v.warnf(p+".declaredAt", "fixes the disaster time at %s: every drill of this scenario measures RTO and RPO from that moment, so a drill started later than the RTO after it misses its RTO, and 'firedrill schedule render' refuses the scenario; remove declaredAt so that each drill declares the disaster when it starts, unless this scenario replays that one incident",
			d.DeclaredAt.UTC().Format(time.RFC3339))
	}
	v.required(p+".detection", d.Detection != "")
	v.required(p+".lead", d.Lead != "")
	for i, o := range d.Observers {
		v.required(fmt.Sprintf("%s.observers[%d]", p, i), o != "")
	}
	for i, g := range d.Goals {
		v.required(fmt.Sprintf("%s.goals[%d]", p, i), strings.TrimSpace(g) != "")
	}
}

func (v *validator) objectives() {
	const p = "spec.objectives"
	if !v.block(p) {
		return
	}
	// The decoder already rejected durations that are not > 0.
	v.required(p+".rto", v.has(p+".rto"))
	v.required(p+".rpo", v.has(p+".rpo"))
	if b := v.sc.Spec.Objectives.ErrorBudget; b != nil && v.has(p+".errorBudget.target") && !(b.Target > 0 && b.Target <= 1) {
		v.errorf(p+".errorBudget.target", "%v is not a share greater than 0 and at most 1, such as 0.9 for nine drills in ten (1: every drill must meet them)", b.Target)
	}
	o := v.sc.Spec.Objectives
	if o.MaxRetention == 0 {
		return
	}
	if o.MaxRetention < o.Retention {
		v.errorf(p+".maxRetention", "%s is shorter than retention %s: backups cannot reach back %s if none may be kept longer than %s",
			o.MaxRetention, o.Retention, o.Retention, o.MaxRetention)
	}
	// A lock the scenario itself declares keeps every backup at least
	// that long: in COMPLIANCE mode nobody can erase it sooner.
	locks := []struct {
		path string
		lock *ObjectLock
	}{{"spec.storage.primary.objectLock", v.sc.Spec.Storage.Primary.ObjectLock}}
	for i, c := range v.sc.Spec.Storage.Copies {
		locks = append(locks, struct {
			path string
			lock *ObjectLock
		}{fmt.Sprintf("spec.storage.copies[%d].objectLock", i), c.ObjectLock})
	}
	for _, l := range locks {
		if l.lock == nil || l.lock.MinRetention <= o.MaxRetention {
			continue
		}
		if l.lock.Mode == LockGovernance {
			v.warnf(l.path+".minRetention", "%s locks each backup longer than objectives.maxRetention %s; GOVERNANCE lets a privileged user erase it in time, but only by bypassing the lock: shorten the bucket's default retention to at most %s",
				l.lock.MinRetention, o.MaxRetention, o.MaxRetention)
			continue
		}
		v.errorf(l.path+".minRetention", "%s locks each backup longer than objectives.maxRetention %s: a %s lock cannot be lifted, so the data cannot be erased in time; require at most %s, or raise maxRetention",
			l.lock.MinRetention, o.MaxRetention, l.lock.Mode, o.MaxRetention)
	}
}

// compliance checks the framework names, suggesting a close one.
func (v *validator) compliance() {
	const p = "spec.compliance"
	names := v.sc.Spec.Compliance
	for i, f := range names {
		ip := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !slices.Contains(Frameworks, f):
			msg := fmt.Sprintf("%q is not one of %s", f, strings.Join(Frameworks, ", "))
			if close := closest(f, Frameworks, 1); len(close) == 1 {
				msg += fmt.Sprintf("; did you mean %q?", close[0])
			}
			v.errorf(ip, "%s", msg)
		case slices.Index(names, f) < i:
			v.errorf(ip, "%s is listed twice", f)
		}
	}
}

func (v *validator) backups() {
	const p = "spec.backups"
	if !v.block(p) {
		return
	}
	b := v.sc.Spec.Backups
	if v.has(p + ".veleroNamespace") {
		v.label(p+".veleroNamespace", b.VeleroNamespace, true)
	}
	if v.has(p + ".storageLocation") {
		v.objectName(p+".storageLocation", b.StorageLocation)
	}
	// schedule and window go together: the window's pick among that
	// schedule's backups.
	var set []string
	for _, f := range []string{"backupName", "schedule", "window"} {
		if v.has(p + "." + f) {
			set = append(set, f)
		}
	}
	switch {
	case len(set) == 0:
		v.errorf(p, "set exactly one of backupName, schedule or window (or schedule with window)")
	case len(set) > 1 && set[0] == "backupName":
		v.errorf(p+"."+set[1], "set exactly one of backupName, schedule or window (or schedule with window); backupName is set too")
	}
	if v.has(p+".scheduleCron") && !v.has(p+".schedule") {
		// A warning, not an error: a scenario switched from schedule to
		// backupName (or a window over the whole bucket) stays valid.
		v.warnf(p+".scheduleCron", "is not used: it applies to the runs of spec.backups.schedule, and none is named; name the schedule (window: with schedule picks among its backups) or remove scheduleCron")
	}
	if v.has(p + ".backupName") {
		v.objectName(p+".backupName", b.BackupName)
	}
	if v.has(p + ".schedule") {
		v.objectName(p+".schedule", b.Schedule)
	}
	if v.has(p+".scheduleCron") && v.required(p+".scheduleCron", b.ScheduleCron != "") {
		// Velero parses a Schedule's spec.schedule with cron.ParseStandard.
		if _, err := cron.ParseStandard(b.ScheduleCron); err != nil {
			v.errorf(p+".scheduleCron", "%q is not a cron expression Velero accepts: %v", b.ScheduleCron, err)
		}
	}
	if w := b.Window; w != nil {
		o := v.sc.Spec.Objectives
		switch {
		case !v.has(p+".window.within") && o.Retention == 0:
			v.errorf(p+".window", "within is required unless spec.objectives.retention is set (the window then reaches back that far)")
		case o.MaxRetention > 0 && w.Within > o.MaxRetention:
			v.errorf(p+".window.within", "%s reaches further back than objectives.maxRetention %s: no backup may be kept that long; look back at most %s",
				w.Within, o.MaxRetention, o.MaxRetention)
		}
		if v.has(p+".window.pick") && w.Pick != PickLatest && w.Pick != PickRandom {
			v.errorf(p+".window.pick", "%q is not one of %s, %s", w.Pick, PickLatest, PickRandom)
		}
		if w.Seed != nil && w.Pick != PickRandom {
			v.errorf(p+".window.seed", "applies only to pick: random")
		}
	}
	if v.required(p+".includedNamespaces", len(b.IncludedNamespaces) > 0) {
		v.namespaceList(p+".includedNamespaces", b.IncludedNamespaces)
	}
	for i, ref := range b.AcceptedOutOfScope {
		ip := fmt.Sprintf("%s.acceptedOutOfScope[%d]", p, i)
		ns, name, ok := strings.Cut(ref, "/")
		switch {
		case !ok || ns == "" || name == "":
			v.errorf(ip, "%q is not NAMESPACE/NAME of a PersistentVolumeClaim", ref)
		case !slices.Contains(b.IncludedNamespaces, ns):
			v.errorf(ip, "namespace %q is not in spec.backups.includedNamespaces", ns)
		case slices.Index(b.AcceptedOutOfScope, ref) < i:
			v.errorf(ip, "%q is listed twice", ref)
		}
	}
}

func (v *validator) namespaceList(path string, nss []string) {
	for i, ns := range nss {
		ip := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case ns == "*":
			v.errorf(ip, "list the namespaces to restore; the drill verifies exactly this scope")
		case !v.label(ip, ns, true):
		case slices.Index(nss, ns) < i:
			v.errorf(ip, "namespace %q is listed twice", ns)
		}
	}
}

func (v *validator) storage() {
	const p = "spec.storage"
	if !v.block(p) {
		return
	}
	st := v.sc.Spec.Storage
	if v.block(p + ".primary") {
		v.bucket(p+".primary", st.Primary)
		if st.Primary.ObjectLock == nil {
			v.errorf(p+".primary.objectLock", "is required: the drill proves that backups are locked, against the lock declared here")
		} else {
			v.objectLock(p+".primary.objectLock", *st.Primary.ObjectLock)
		}
	}
	restorable := false
	primaryLocation := v.sc.Spec.Backups.StorageLocation
	if primaryLocation == "" {
		primaryLocation = DefaultStorageLocation
	}
	for i, c := range st.Copies {
		cp := fmt.Sprintf("%s.copies[%d]", p, i)
		if v.label(cp+".name", c.Name, true) && slices.IndexFunc(st.Copies, func(o Copy) bool { return o.Name == c.Name }) < i {
			v.errorf(cp+".name", "copy %q is defined twice", c.Name)
		}
		if v.required(cp+".kind", c.Kind != "") && c.Kind != CopyOffsite && c.Kind != CopyOffcloud {
			v.errorf(cp+".kind", "%q is not one of %s, %s", c.Kind, CopyOffsite, CopyOffcloud)
		}
		v.bucket(cp, c.Bucket)
		if c.Endpoint != "" && c.Endpoint == st.Primary.Endpoint && c.Bucket.Bucket == st.Primary.Bucket && c.Prefix == st.Primary.Prefix {
			v.errorf(cp+".bucket", "is the primary bucket itself; a copy must be somewhere else")
		}
		if c.ObjectLock != nil {
			v.objectLock(cp+".objectLock", *c.ObjectLock)
		}
		v.compare(cp+".compare", c.Compare)
		if v.has(cp + ".storageLocation") {
			if v.objectName(cp+".storageLocation", c.StorageLocation) {
				restorable = true
			}
			switch {
			case c.StorageLocation == primaryLocation:
				v.errorf(cp+".storageLocation", "%q is already the primary bucket's storage location (spec.backups.storageLocation)", c.StorageLocation)
			case slices.IndexFunc(st.Copies, func(o Copy) bool { return o.StorageLocation == c.StorageLocation }) < i:
				v.errorf(cp+".storageLocation", "%q is already used by another copy", c.StorageLocation)
			}
		}
	}
	if i := slices.Index(v.sc.Spec.Disaster.Lost, LossPrimaryStorage); i >= 0 && !restorable {
		v.errorf(fmt.Sprintf("spec.disaster.lost[%d]", i),
			"primaryStorage is lost but no entry of spec.storage.copies has a storageLocation to restore from")
	}
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (v *validator) bucket(p string, b Bucket) {
	if v.required(p+".endpoint", b.Endpoint != "") && v.url(p+".endpoint", b.Endpoint) {
		v.endpoint(p, b)
	}
	if v.has(p + ".region") {
		v.required(p+".region", b.Region != "")
	}
	if v.required(p+".bucket", b.Bucket != "") {
		if !bucketName.MatchString(b.Bucket) || strings.Contains(b.Bucket, "..") || net.ParseIP(b.Bucket) != nil {
			v.errorf(p+".bucket", "%q is not a valid S3 bucket name (3-63 lowercase letters, digits, \".\" and \"-\", starting and ending with a letter or digit)", b.Bucket)
		}
	}
	if strings.HasPrefix(b.Prefix, "/") {
		v.errorf(p+".prefix", "must not start with /")
	}
	if b.Credentials != nil {
		v.credentials(p+".credentials", *b.Credentials)
	}
	if v.has(p + ".caFile") {
		v.required(p+".caFile", b.CAFile != "")
	}
}

// credentials never quotes a value: whatever is written here may be a
// secret put in the wrong field.
func (v *validator) credentials(p string, c Credentials) {
	byEnv := c.AccessKeyIDEnv != "" || c.SecretAccessKeyEnv != "" || c.SessionTokenEnv != ""
	byProfile := c.Profile != "" || c.File != ""
	switch {
	case byEnv && byProfile:
		v.errorf(p, "use either accessKeyIDEnv/secretAccessKeyEnv or profile/file, not both")
		return
	case !byEnv && !byProfile:
		v.errorf(p, "set accessKeyIDEnv and secretAccessKeyEnv, or profile and/or file; omit credentials to use the AWS SDK's default chain")
		return
	case byProfile:
		return
	}
	v.required(p+".accessKeyIDEnv", c.AccessKeyIDEnv != "")
	v.required(p+".secretAccessKeyEnv", c.SecretAccessKeyEnv != "")
	for _, f := range []struct{ field, value string }{
		{"accessKeyIDEnv", c.AccessKeyIDEnv},
		{"secretAccessKeyEnv", c.SecretAccessKeyEnv},
		{"sessionTokenEnv", c.SessionTokenEnv},
	} {
		switch {
		case f.value == "":
		case envname.LooksLikeSecret(f.value):
			// A secret pasted where the name belongs: said once, here,
			// and never repeated (envname.Display hides it elsewhere).
			v.errorf(p+"."+f.field, "%s", envNameSecretMessage(f.field, "the NAME of an environment variable that holds the secret"))
		case !envname.Valid(f.value):
			v.errorf(p+"."+f.field, "must name an environment variable (letters, digits and _, not starting with a digit)")
		}
	}
}

func (v *validator) objectLock(p string, l ObjectLock) {
	if !v.required(p+".mode", l.Mode != "") {
		return
	}
	switch l.Mode {
	case LockCompliance:
	case LockGovernance:
		if !l.AllowGovernance {
			v.errorf(p+".mode", "GOVERNANCE lets privileged users shorten or remove the lock; set allowGovernance: true to accept that, or require COMPLIANCE")
		}
	default:
		v.errorf(p+".mode", "%q is not one of %s, %s", l.Mode, LockCompliance, LockGovernance)
	}
}

var compareModes = []CompareMode{CompareExistence, CompareSize, CompareChecksum, CompareContent, CompareSampled}

func (v *validator) compare(p string, c Compare) {
	if v.has(p+".mode") && !slices.Contains(compareModes, c.Mode) {
		v.errorf(p+".mode", "%q is not one of %s", c.Mode, joinValues(compareModes))
		return
	}
	switch {
	case c.Mode == CompareSampled && !v.has(p+".samplePercent"):
		v.errorf(p+".samplePercent", "is required with mode sampled")
	case c.Mode == CompareSampled && (c.SamplePercent < 1 || c.SamplePercent > 100):
		v.errorf(p+".samplePercent", "must be between 1 and 100")
	case c.Mode != CompareSampled && v.has(p+".samplePercent"):
		v.errorf(p+".samplePercent", "applies only to mode sampled")
	}
	if c.Mode != CompareSampled && c.Seed != nil {
		v.errorf(p+".seed", "applies only to mode sampled")
	}
}

func (v *validator) target() {
	const p = "spec.target"
	if !v.block(p) {
		return
	}
	t := v.sc.Spec.Target
	scope := v.sc.Spec.Backups.IncludedNamespaces
	for _, from := range sortedKeys(t.NamespaceMapping) {
		to := t.NamespaceMapping[from]
		kp := p + ".namespaceMapping." + from
		switch {
		case !slices.Contains(scope, from):
			v.errorf(kp, "namespace %q is not in spec.backups.includedNamespaces", from)
		case !v.label(kp, to, true):
		case slices.Contains(scope, to) && to != from:
			v.errorf(kp, "maps to %q, which is also restored under its own name", to)
		default:
			for _, other := range sortedKeys(t.NamespaceMapping) {
				if other < from && t.NamespaceMapping[other] == to {
					v.errorf(kp, "maps to %q, as %s does", to, other)
				}
			}
		}
	}
	r := t.Restore
	if v.has(p+".restore.phases") && len(r.Phases) == 0 {
		v.errorf(p+".restore.phases", "must list at least one phase; omit phases for the default NetworkPolicy-first pair")
	}
	excluded := r.ExcludedResources
	if !v.has(p + ".restore.excludedResources") {
		excluded = DefaultExcludedResources()
	}
	v.resources(p+".restore.excludedResources", r.ExcludedResources)
	for i, ph := range r.Phases {
		pp := fmt.Sprintf("%s.restore.phases[%d]", p, i)
		if v.label(pp+".name", ph.Name, true) && slices.IndexFunc(r.Phases, func(o Phase) bool { return o.Name == ph.Name }) < i {
			v.errorf(pp+".name", "phase %q is defined twice", ph.Name)
		}
		v.resources(pp+".includedResources", ph.IncludedResources)
		v.resources(pp+".excludedResources", ph.ExcludedResources)
		for j, res := range ph.IncludedResources {
			rp := fmt.Sprintf("%s.includedResources[%d]", pp, j)
			switch {
			case slices.Contains(ph.ExcludedResources, res):
				v.errorf(rp, "%q is also in this phase's excludedResources", res)
			case slices.Contains(excluded, res):
				v.errorf(rp, "%q is excluded from every phase by spec.target.restore.excludedResources", res)
			}
		}
	}
}

var resourceName = regexp.MustCompile(`^(\*|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$`)

func (v *validator) resources(p string, rs []string) {
	for i, r := range rs {
		ip := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !v.required(ip, r != ""):
		case !resourceName.MatchString(r):
			v.errorf(ip, "%q is not a resource name such as deployments.apps or networkpolicies.networking.k8s.io", r)
		case slices.Index(rs, r) < i:
			v.errorf(ip, "%q is listed twice", r)
		}
	}
}

func (v *validator) checks() {
	scope := v.sc.Spec.Backups.IncludedNamespaces
	mapping := v.sc.Spec.Target.NamespaceMapping
	inScope := func(path, ns string) {
		if !v.required(path, ns != "") || !v.label(path, ns, false) || len(scope) == 0 || slices.Contains(scope, ns) {
			return
		}
		for _, from := range sortedKeys(mapping) {
			if mapping[from] == ns {
				v.errorf(path, "namespace %q is the name spec.target.namespaceMapping gives %q in the target; write %q: namespace fields of checks name the namespace as in the backup, and the drill maps them", ns, from, from)
				return
			}
		}
		v.errorf(path, "namespace %q is not in spec.backups.includedNamespaces (name it as it is in the backup; the drill applies namespaceMapping)", ns)
	}
	for i, c := range v.sc.Spec.Checks {
		p := fmt.Sprintf("spec.checks[%d]", i)
		if v.label(p+".name", c.Name, true) && slices.IndexFunc(v.sc.Spec.Checks, func(o Check) bool { return o.Name == c.Name }) < i {
			v.errorf(p+".name", "check %q is defined twice", c.Name)
		}
		kinds := c.kinds()
		switch len(kinds) {
		case 0:
			v.errorf(p, "set exactly one of %s", oneOf(checkKinds))
			continue
		case 1:
		default:
			v.errorf(fmt.Sprintf("%s.%s", p, kinds[1]), "set exactly one of %s; %s is set too", oneOf(checkKinds), kinds[0])
			continue
		}
		switch kinds[0] {
		case CheckWorkloads:
			inScope(p+".workloads.namespace", c.Workloads.Namespace)
		case CheckHTTP:
			v.httpCheck(p+".http", *c.HTTP, inScope)
		case CheckTCP:
			if v.required(p+".tcp.address", c.TCP.Address != "") {
				v.address(p+".tcp.address", c.TCP.Address)
			}
		case CheckCommand:
			if v.required(p+".command.run", len(c.Command.Run) > 0) {
				v.required(p+".command.run[0]", c.Command.Run[0] != "")
			}
		case CheckExec:
			e := c.Exec
			v.podChoice(p+".exec", e.Pod, e.Selector, e.Container, inScope, e.Namespace)
			if v.required(p+".exec.command", len(e.Command) > 0) {
				v.required(p+".exec.command[0]", e.Command[0] != "")
			}
			if e.ExpectOutput != nil && v.has(p+".exec.expectRegexp") {
				v.errorf(p+".exec.expectRegexp", "set at most one of expectOutput or expectRegexp; expectOutput is set too")
			} else if v.has(p + ".exec.expectRegexp") {
				if _, err := regexp.Compile(e.ExpectRegexp); err != nil {
					v.errorf(p+".exec.expectRegexp", "%q is not a regular expression: %v", e.ExpectRegexp, err)
				}
			}
		case CheckDataCanary:
			v.dataCanary(p+".dataCanary", *c.DataCanary, inScope)
		case CheckServiceAccount:
			sa := c.ServiceAccount
			inScope(p+".serviceAccount.namespace", sa.Namespace)
			v.objectName(p+".serviceAccount.name", sa.Name)
			if v.has(p + ".serviceAccount.tokenSecret") {
				v.objectName(p+".serviceAccount.tokenSecret", sa.TokenSecret)
			}
		}
	}
}

// dataCanary validates a data canary at p: a ConfigMap key, or a file read
// inside a restored pod.
func (v *validator) dataCanary(p string, dc DataCanaryCheck, inScope func(path, ns string)) {
	podFields := v.has(p+".pod") || v.has(p+".selector") || v.has(p+".container")
	hasFile, hasCommand := v.has(p+".file"), v.has(p+".command")
	switch {
	case (hasFile || hasCommand) && (v.has(p+".configMap") || v.has(p+".key")):
		field := p + ".file"
		if !hasFile {
			field = p + ".command"
		}
		v.errorf(field, "set either configMap and key (a ConfigMap canary) or file or command (read in a restored pod), not both")
	case hasFile && hasCommand:
		v.errorf(p+".command", "set either file (read with cat) or command (whose output is the canary), not both")
	case hasFile || hasCommand:
		v.podChoice(p, dc.Pod, dc.Selector, dc.Container, inScope, dc.Namespace)
		if hasCommand {
			if v.required(p+".command", len(dc.Command) > 0) {
				v.required(p+".command[0]", dc.Command[0] != "")
			}
		} else if v.required(p+".file", dc.File != "") && !path.IsAbs(dc.File) {
			v.errorf(p+".file", "%q must be an absolute path inside the container", dc.File)
		}
	default:
		inScope(p+".namespace", dc.Namespace)
		if v.required(p+".configMap", dc.ConfigMap != "") {
			v.objectName(p+".configMap", dc.ConfigMap)
		}
		if v.required(p+".key", dc.Key != "") && !configMapKey.MatchString(dc.Key) {
			v.errorf(p+".key", "%q is not a ConfigMap key (letters, digits, \"-\", \"_\" and \".\")", dc.Key)
		}
		if podFields {
			for _, f := range []string{"pod", "selector", "container"} {
				if v.has(p + "." + f) {
					v.errorf(p+"."+f, "applies only to a file canary; a ConfigMap canary is read through the API")
				}
			}
		}
	}
}

// podChoice validates how a check at p chooses a container of a restored
// pod: the namespace, exactly one of pod and selector, and a container name.
func (v *validator) podChoice(p, pod, selector, container string, inScope func(path, ns string), ns string) {
	inScope(p+".namespace", ns)
	switch hasPod, hasSelector := v.has(p+".pod"), v.has(p+".selector"); {
	case hasPod && hasSelector:
		v.errorf(p+".selector", "set exactly one of pod or selector; pod is set too")
	case hasPod:
		v.objectName(p+".pod", pod)
	case hasSelector:
		if _, err := labels.Parse(selector); err != nil || selector == "" {
			v.errorf(p+".selector", "%q is not a label selector such as app=backend", selector)
		}
	default:
		v.errorf(p, "set pod (a pod's name) or selector (a label selector); the check runs in the first Running pod it names")
	}
	if v.has(p + ".container") {
		v.label(p+".container", container, true)
	}
}

// httpCheck validates an HTTP check at p: a URL requested directly, or a
// Service requested through the target API server's service proxy.
func (v *validator) httpCheck(p string, h HTTPCheck, inScope func(path, ns string)) {
	switch hasURL, hasService := v.has(p+".url"), h.Service != nil; {
	case hasURL && hasService:
		v.errorf(p+".service", "set exactly one of url or service; url is set too")
	case hasURL:
		if v.required(p+".url", h.URL != "") {
			v.url(p+".url", h.URL)
		}
		if v.has(p + ".path") {
			v.errorf(p+".path", "applies only to service; write the path in url")
		}
	case hasService:
		s := h.Service
		inScope(p+".service.namespace", s.Namespace)
		if v.label(p+".service.name", s.Name, true) && (s.Name[0] < 'a' || s.Name[0] > 'z') {
			v.errorf(p+".service.name", "%q is not a valid Service name (it must start with a letter)", s.Name)
		}
		// The decoder already rejected ports that are neither a number nor a name.
		v.required(p+".service.port", !s.Port.IsZero())
		switch {
		case !v.has(p + ".path"):
		case !strings.HasPrefix(h.Path, "/"):
			v.errorf(p+".path", "%q must start with /", h.Path)
		case strings.ContainsAny(h.Path, "?#"):
			v.errorf(p+".path", "%q has a query or fragment; the service proxy takes a path only", h.Path)
		}
	default:
		v.errorf(p, "set exactly one of url (requested directly) or service (requested through the target API server's service proxy)")
	}
}

// oneOf lists values for a message: "a, b or c".
func oneOf[T ~string](vs []T) string {
	if len(vs) < 2 {
		return joinValues(vs)
	}
	return joinValues(vs[:len(vs)-1]) + " or " + string(vs[len(vs)-1])
}

var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,253}$`)

func (v *validator) runbook() {
	const p = "spec.runbook"
	rb := v.sc.Spec.Runbook
	if rb == nil {
		return
	}
	switch {
	case v.has(p+".name") && v.has(p+".file"):
		v.errorf(p+".file", "set either name (a built-in runbook) or file, not both")
	case v.has(p + ".name"):
		if v.label(p+".name", rb.Name, true) && v.runbookExists != nil && !v.runbookExists(rb.Name) {
			v.errorf(p+".name", "no built-in runbook named %q", rb.Name)
		}
	case v.has(p + ".file"):
		if v.required(p+".file", rb.File != "") && v.statRunbook != nil {
			if err := v.statRunbook(rb.File); err != nil {
				v.errorf(p+".file", "%v", err)
			}
		}
	default:
		v.errorf(p, "set name (a built-in runbook) or file (Markdown, relative to the scenario file)")
	}
	credentialVars := v.sc.credentialVariables()
	for i, name := range rb.PassEnv {
		f := fmt.Sprintf("%s.passEnv[%d]", p, i)
		// Never quoted: a value here may be a secret in the wrong place.
		switch {
		case envname.LooksLikeSecret(name):
			v.errorf(f, "%s", envNameSecretMessage("passEnv", "the NAME of an environment variable to pass to the runbook's steps (never one holding a credential)"))
		case !envname.Valid(name):
			v.errorf(f, "must name an environment variable (letters, digits and _, not starting with a digit)")
		case strings.HasPrefix(name, "FIREDRILL_"), strings.HasPrefix(name, "AWS_"), name == "KUBECONFIG":
			v.errorf(f, "%s is firedrill's own: the step contract sets FIREDRILL_* and KUBECONFIG, and credentials never reach a step", name)
		case credentialVars[name]:
			v.errorf(f, "%s holds a credential of the scenario: credentials never reach a step", name)
		}
	}
}

// credentialVariables are the environment variables the scenario's
// credentials name.
func (sc *Scenario) credentialVariables() map[string]bool {
	out := map[string]bool{}
	add := func(c *Credentials) {
		if c != nil {
			out[c.AccessKeyIDEnv], out[c.SecretAccessKeyEnv], out[c.SessionTokenEnv] = true, true, true
		}
	}
	add(sc.Spec.Storage.Primary.Credentials)
	for _, cp := range sc.Spec.Storage.Copies {
		add(cp.Credentials)
	}
	if e := sc.Spec.Evidence; e != nil && e.Push != nil {
		add(e.Push.Credentials)
	}
	delete(out, "")
	return out
}

func (v *validator) cleanup() {
	const p = "spec.cleanup.policy"
	switch pol := v.sc.Spec.Cleanup.Policy; {
	case !v.has(p):
	case pol != CleanupOnSuccess && pol != CleanupAlways && pol != CleanupNever:
		v.errorf(p, "%q is not one of %s, %s, %s", pol, CleanupOnSuccess, CleanupAlways, CleanupNever)
	}
}

func (v *validator) evidence() {
	e := v.sc.Spec.Evidence
	if e == nil || e.Push == nil {
		return
	}
	const p = "spec.evidence.push"
	v.bucket(p, e.Push.Bucket)
	if e.Push.ObjectLock != nil {
		v.errorf(p+".objectLock", "not used for evidence: each bundle is locked with lockMode and retention")
	}
	if m := e.Push.LockMode; m != "" && m != LockCompliance && m != LockGovernance {
		v.errorf(p+".lockMode", "%q is not one of %s, %s", m, LockCompliance, LockGovernance)
	}
	if v.has(p+".retention") && e.Push.Retention <= 0 {
		v.errorf(p+".retention", "must be positive")
	}
	if name, ok := v.sc.BackupBucket(e.Push.Endpoint, e.Push.Bucket.Bucket); ok {
		v.errorf(p+".bucket", "is the backup bucket of %s; evidence goes to a bucket of its own (a drill never writes to a backup bucket, and locked bundles could not be removed from it)", name)
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// label checks a DNS-1123 label (namespace and scenario names). With
// required, an empty value is reported too.
func (v *validator) label(path, s string, required bool) bool {
	if s == "" {
		if required {
			v.required(path, false)
		}
		return false
	}
	if len(s) > 63 || !dnsLabel.MatchString(s) {
		v.errorf(path, "%q is not a valid name (lowercase letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters)", s)
		return false
	}
	return true
}

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// objectName checks a Kubernetes object name (DNS-1123 subdomain).
func (v *validator) objectName(path, s string) bool {
	if !v.required(path, s != "") {
		return false
	}
	if len(s) > 253 || !dnsSubdomain.MatchString(s) {
		v.errorf(path, "%q is not a valid Kubernetes object name (lowercase letters, digits, \"-\" and \".\")", s)
		return false
	}
	return true
}

func (v *validator) oneLine(path, s string) {
	if strings.ContainsAny(s, "\r\n") {
		v.errorf(path, "must be one line")
	}
}

// url checks an http or https URL and reports whether it is one.
func (v *validator) url(path, s string) bool {
	u, err := url.Parse(s)
	switch {
	case err == nil && u.User != nil:
		v.errorf(path, "%s", inlineSecretMessage)
	case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return true
	case strings.Contains(s, "@"):
		// Do not quote: the text may hold a password.
		v.errorf(path, "is not an http or https URL")
	default:
		v.errorf(path, "%q is not an http or https URL", s)
	}
	return false
}

func (v *validator) address(path, s string) {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		v.errorf(path, "%q is not host:port", s)
	}
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, x := range vs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
