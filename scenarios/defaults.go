package scenarios

import (
	"path/filepath"
	"slices"
	"strings"
)

// applyDefaults fills in what the file left out, so that every later
// consumer (and `scenarios show`) sees the values the drill will use.
func applyDefaults(sc *Scenario, written func(path string) bool) {
	s := &sc.Spec
	if s.Backups.VeleroNamespace == "" {
		s.Backups.VeleroNamespace = DefaultVeleroNamespace
	}
	if s.Backups.StorageLocation == "" {
		s.Backups.StorageLocation = DefaultStorageLocation
	}
	if w := s.Backups.Window; w != nil {
		if w.Pick == "" {
			w.Pick = PickLatest
		}
		// A window without within spans the whole retention: a random
		// pick then audits any point the scenario promises to restore.
		if w.Within == 0 {
			w.Within = s.Objectives.Retention
		}
	}
	if s.Storage.Primary.Region == "" {
		s.Storage.Primary.Region = DefaultRegion
	}
	for i := range s.Storage.Copies {
		c := &s.Storage.Copies[i]
		if c.Region == "" {
			c.Region = DefaultRegion
		}
		if c.Compare.Mode == "" {
			c.Compare.Mode = CompareChecksum
		}
	}
	r := &s.Target.Restore
	if !written("spec.target.restore.phases") {
		r.Phases = DefaultPhases()
	}
	if !written("spec.target.restore.excludedResources") {
		r.ExcludedResources = DefaultExcludedResources()
	} else if r.ExcludedResources == nil {
		// "excludedResources:" with nothing after it means none, as [] does.
		r.ExcludedResources = []string{}
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultPhaseTimeout
	}
	if !written("spec.target.lockWait") {
		s.Target.LockWait = DefaultLockWait
	}
	for i := range s.Checks {
		c := &s.Checks[i]
		if c.Timeout == 0 {
			c.Timeout = DefaultCheckTimeout
		}
		if c.HTTP != nil && c.HTTP.ExpectStatus.IsZero() {
			c.HTTP.ExpectStatus = DefaultExpectStatus()
		}
		if c.HTTP != nil && c.HTTP.Service != nil && c.HTTP.Path == "" {
			c.HTTP.Path = DefaultServicePath
		}
	}
	if e := s.Evidence; e != nil && e.Push != nil {
		if e.Push.Retention == 0 {
			e.Push.Retention = DefaultEvidenceRetention
		}
		if e.Push.LockMode == "" {
			e.Push.LockMode = LockCompliance
		}
		if e.Push.Region == "" {
			e.Push.Region = DefaultRegion
		}
	}
	if s.Cleanup.Policy == "" {
		s.Cleanup.Policy = CleanupOnSuccess
	}
	if s.Cleanup.Timeout == 0 {
		s.Cleanup.Timeout = DefaultCleanupTimeout
	}
}

// pathResolver turns the file paths written in a scenario into paths
// firedrill can open: "~" is the home directory and relative paths are
// relative to the scenario file's directory (built-in scenarios have none,
// so their relative paths stay relative to the working directory).
type pathResolver struct {
	baseDir string
	homeDir string
}

func (r pathResolver) resolve(p string) string {
	switch {
	case p == "":
		return ""
	case r.homeDir != "" && (p == "~" || strings.HasPrefix(p, "~/")):
		return filepath.Join(r.homeDir, p[1:])
	case filepath.IsAbs(p) || r.baseDir == "":
		return p
	default:
		return filepath.Join(r.baseDir, p)
	}
}

// resolveAll resolves every file path of sc, keeping them as written for
// AsWritten.
func (r pathResolver) resolveAll(sc *Scenario) {
	fields := pathFields(sc)
	sc.written = make([]string, len(fields))
	for i, p := range fields {
		sc.written[i] = *p
		*p = r.resolve(*p)
	}
}

// pathFields are the file paths of sc that pathResolver resolves, in a
// fixed order: kubeconfigs, each bucket's caFile and credentials file,
// the runbook.
func pathFields(sc *Scenario) []*string {
	s := &sc.Spec
	fields := []*string{&s.Source.Kubeconfig, &s.Target.Kubeconfig}
	buckets := []*Bucket{&s.Storage.Primary}
	for i := range s.Storage.Copies {
		buckets = append(buckets, &s.Storage.Copies[i].Bucket)
	}
	if s.Evidence != nil && s.Evidence.Push != nil {
		buckets = append(buckets, &s.Evidence.Push.Bucket)
	}
	for _, b := range buckets {
		fields = append(fields, &b.CAFile)
		if b.Credentials != nil {
			fields = append(fields, &b.Credentials.File)
		}
	}
	if s.Runbook != nil {
		fields = append(fields, &s.Runbook.File)
	}
	return fields
}

// AsWritten is a copy of s with its file paths (kubeconfigs, caFile,
// credentials files, the runbook) as the scenario file wrote them: "~"
// and paths relative to the file kept, not resolved as loading does. The
// copy is for printing a portable file (scenarios show); defaults stay
// filled in. A scenario not made by loading a file is returned as is.
func (s *Scenario) AsWritten() *Scenario {
	c := *s
	sp := &c.Spec
	sp.Storage.Copies = slices.Clone(sp.Storage.Copies)
	buckets := []*Bucket{&sp.Storage.Primary}
	for i := range sp.Storage.Copies {
		buckets = append(buckets, &sp.Storage.Copies[i].Bucket)
	}
	if sp.Evidence != nil && sp.Evidence.Push != nil {
		ev, push := *sp.Evidence, *sp.Evidence.Push
		ev.Push = &push
		sp.Evidence = &ev
		buckets = append(buckets, &push.Bucket)
	}
	for _, b := range buckets {
		if b.Credentials != nil {
			cr := *b.Credentials
			b.Credentials = &cr
		}
	}
	if sp.Runbook != nil {
		rb := *sp.Runbook
		sp.Runbook = &rb
	}
	fields := pathFields(&c)
	if len(fields) != len(s.written) {
		return s
	}
	for i, p := range fields {
		*p = s.written[i]
	}
	return &c
}
