package drill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// The fleet index of a shared history: one small object per ended drill,
// whose key alone carries the drill's summary (DrillSummary), under
//
//	PREFIX/index/v1/CLUSTER/SCENARIO/ID/started=...,result=...,rto=.../scenario_sha256=...,compliance=...,budget=0.9,budget_window=31536000
//
// (budget and budget_window: the scenario's objectives.errorBudget when
// the drill ran, absent from entries written before them, which
// RecordedBudget reads as the defaults; times to the millisecond, seconds
// to the thousandth, SHA-256s to
// IndexHashLen hex digits, "-" for a part without fields)
// so `firedrill fleet` reads a whole fleet with LIST requests (1,000 keys
// a page) and no GET per drill. Each drill writes only its own key, so two
// drills ending at once cannot lose each other's entry: no read-modify-
// write, no conditional write needed. A drill written twice (its record
// rewritten) has two keys when the summary changed; the newest written
// (LastModified) counts. The object's body is empty.
const (
	indexFolder    = "index/v1/"
	clustersFolder = "clusters/"
	// noCluster stands for the drills of the unprefixed layout in the
	// index: "_" is never a cluster name (CheckClusterName).
	noCluster = "_"
	// maxKeyLen is S3's limit on a key, in bytes.
	maxKeyLen = 1024
	// maxSegmentLen is MinIO's limit on each "/"-separated part of a key.
	maxSegmentLen = 255
)

var clusterNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)

// CheckClusterName refuses a cluster name (--cluster) that is not a
// DNS-1123 subdomain label of at most 63 characters (lowercase letters,
// digits, '-' and '.', starting and ending alphanumeric), the names
// Kubernetes gives its own objects: it becomes a folder of the history.
func CheckClusterName(name string) error {
	if !clusterNamePattern.MatchString(name) {
		return fmt.Errorf("cluster name %q: want at most 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit", name)
	}
	return nil
}

// indexPrefix is "PREFIX/index/v1/".
func (h *S3Records) indexPrefix() string { return h.rootPrefix() + indexFolder }

// indexReport writes the index entry of report.json data when it is the
// record of drill id (its drill_id) and that drill ended; a running drill
// has none yet. Data that is not such a record gets no entry and no
// error: the record itself was written, and whoever reads it reports
// what is wrong with it. The error is the index write's.
func (h *S3Records) indexReport(ctx context.Context, id string, data []byte) error {
	r, err := decodeReport(data, h.URL(id, ReportFile))
	if err != nil || r.DrillID != id || r.Scenario == "" || r.Result == "" || r.Result == ResultRunning {
		return nil
	}
	return h.WriteIndexEntry(ctx, Summarize(r))
}

// WriteIndexEntry writes the fleet index entry of one drill, under the
// cluster of s (h.Cluster when s names none). Writing the same summary
// again is harmless. The error names the drill; a summary too long for an
// S3 key (1,024 bytes) is an error and nothing is written.
func (h *S3Records) WriteIndexEntry(ctx context.Context, s DrillSummary) error {
	if s.Cluster == "" {
		s.Cluster = h.Cluster
	}
	key, err := h.indexKey(s)
	if err != nil {
		return err
	}
	if _, err := h.Store.PutObject(ctx, h.Bucket, key, nil, objectstore.PutOptions{}); err != nil {
		return fmt.Errorf("write the fleet index entry of drill %s: %w", s.ID, err)
	}
	return nil
}

// indexKey encodes s as its index key.
func (h *S3Records) indexKey(s DrillSummary) (string, error) {
	if err := checkName(s.ID, ReportFile); err != nil {
		return "", err
	}
	cluster := s.Cluster
	if cluster == "" {
		cluster = noCluster
	} else if err := CheckClusterName(cluster); err != nil {
		return "", err
	}
	if !clusterNamePattern.MatchString(s.Scenario) {
		return "", fmt.Errorf("index drill %s: scenario name %q cannot be a folder of the index", s.ID, s.Scenario)
	}
	// Two folders of fields: MinIO keeps each "/"-separated part of a key
	// as a file or folder name, 255 bytes at most (XMinioInvalidObjectName
	// beyond).
	var fields, extra []string
	field := func(k, v string) {
		if v != "" {
			fields = append(fields, k+"="+v)
		}
	}
	field("started", indexTime(s.StartedAt))
	field("finished", indexTime(s.FinishedAt))
	field("result", string(s.Result))
	field("rto", indexFloat(s.RTOSeconds))
	field("rto_obj", indexFloat(&s.RTOObjectiveSeconds))
	field("rto_status", s.RTOStatus)
	field("rpo", indexFloat(s.RPOSeconds))
	field("rpo_obj", indexFloat(&s.RPOObjectiveSeconds))
	field("rpo_status", s.RPOStatus)
	field("items", strconv.Itoa(s.RestoredItems))
	field("bytes", strconv.FormatInt(s.RestoredBytes, 10))
	first := fields
	fields = nil
	field("scenario_sha256", shortHash(s.ScenarioSHA256))
	field("runbook_sha256", shortHash(s.RunbookSHA256))
	field("target_sha256", shortHash(s.TargetSHA256))
	field("compliance", strings.Join(s.Compliance, "+"))
	if s.ErrorBudgetTarget > 0 {
		field("budget", indexFloat(&s.ErrorBudgetTarget))
	}
	if s.ErrorBudgetWindowSeconds > 0 {
		field("budget_window", indexFloat(&s.ErrorBudgetWindowSeconds))
	}
	extra = fields
	segments := []string{cluster, s.Scenario, s.ID, orNone(strings.Join(first, ",")), orNone(strings.Join(extra, ","))}
	for _, seg := range segments {
		if len(seg) > maxSegmentLen {
			return "", fmt.Errorf("index drill %s: part %q of its entry takes %d bytes, more than MinIO's %d", s.ID, seg, len(seg), maxSegmentLen)
		}
	}
	key := h.indexPrefix() + strings.Join(segments, "/")
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("index drill %s: its entry takes %d bytes, more than an S3 key's %d", s.ID, len(key), maxKeyLen)
	}
	if strings.ContainsAny(strings.TrimPrefix(key, h.indexPrefix()), "\x00\n\r") {
		return "", fmt.Errorf("index drill %s: a value holds a control character", s.ID)
	}
	return key, nil
}

// indexTime is t in UTC to the millisecond as 20060102T150405.000Z
// trimmed (no colons in keys); "" for the zero time.
func indexTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Round(time.Millisecond).Format("20060102T150405.999Z")
}

// indexFloat is *f to the thousandth (a millisecond of a duration); ""
// for nil.
func indexFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(math.Round(*f*1000)/1000, 'f', -1, 64)
}

// shortHash is the first IndexHashLen hex digits of a SHA-256.
func shortHash(h string) string { return h[:min(len(h), IndexHashLen)] }

// IndexHashLen is how many hex digits of the scenario's, runbook's and
// target's SHA-256 an index entry keeps: 64 bits tell a change apart (the
// record keeps them whole).
const IndexHashLen = 16

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseIndexKey decodes the part of an index key after PREFIX/index/v1/.
func parseIndexKey(rest string) (DrillSummary, error) {
	parts := strings.Split(rest, "/")
	if len(parts) != 5 {
		return DrillSummary{}, fmt.Errorf("want CLUSTER/SCENARIO/ID/FIELDS/FIELDS")
	}
	s := DrillSummary{Cluster: parts[0], Scenario: parts[1], ID: parts[2]}
	if s.Cluster == noCluster {
		s.Cluster = ""
	}
	if !drillIDPattern.MatchString(s.ID) {
		return DrillSummary{}, fmt.Errorf("drill id %q", s.ID)
	}
	var fields []string
	for _, p := range parts[3:] {
		if p != "-" {
			fields = append(fields, strings.Split(p, ",")...)
		}
	}
	var errs []error
	num := func(k, v string) *float64 {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a number", k, v))
			return nil
		}
		return &f
	}
	tm := func(k, v string) time.Time {
		t, err := time.Parse("20060102T150405.999999999Z", v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a time", k, v))
		}
		return t
	}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("field %q: want KEY=VALUE", f))
			continue
		}
		switch k {
		case "started":
			s.StartedAt = tm(k, v)
		case "finished":
			s.FinishedAt = tm(k, v)
		case "result":
			s.Result = Result(v)
		case "rto":
			s.RTOSeconds = num(k, v)
		case "rpo":
			s.RPOSeconds = num(k, v)
		case "rto_obj":
			if f := num(k, v); f != nil {
				s.RTOObjectiveSeconds = *f
			}
		case "rpo_obj":
			if f := num(k, v); f != nil {
				s.RPOObjectiveSeconds = *f
			}
		case "rto_status":
			s.RTOStatus = v
		case "rpo_status":
			s.RPOStatus = v
		case "items":
			if f := num(k, v); f != nil {
				s.RestoredItems = int(*f)
			}
		case "bytes":
			if f := num(k, v); f != nil {
				s.RestoredBytes = int64(*f)
			}
		case "scenario_sha256":
			s.ScenarioSHA256 = v
		case "runbook_sha256":
			s.RunbookSHA256 = v
		case "target_sha256":
			s.TargetSHA256 = v
		case "compliance":
			s.Compliance = strings.Split(v, "+")
		case "budget":
			if f := num(k, v); f != nil {
				s.ErrorBudgetTarget = *f
			}
		case "budget_window":
			if f := num(k, v); f != nil {
				s.ErrorBudgetWindowSeconds = *f
			}
		}
		// Keys of later versions are skipped: an older firedrill still
		// reads what it knows.
	}
	return s, errors.Join(errs...)
}

// ReadIndex lists the fleet index of the whole history (every cluster,
// whatever h.Cluster is): the summary of every drill indexed, one per
// drill (the newest written when a drill has several entries), sorted by
// cluster, scenario and start. It makes LIST requests only. An entry that
// cannot be decoded is an error returned beside the rest; a history
// without an index gives none (see Reindex).
func (h *S3Records) ReadIndex(ctx context.Context) ([]DrillSummary, error) {
	var out []DrillSummary
	err := h.EachIndexGroup(ctx, func(drills []DrillSummary) { out = append(out, drills...) })
	if out == nil && err != nil && errors.Is(err, errListIndex) {
		return nil, err
	}
	sortSummaries(out)
	return out, err
}

// errListIndex marks the error of a listing that failed.
var errListIndex = errors.New("list the fleet index")

// indexListers is how many clusters' index folders EachIndexGroup lists
// at once: the server's listing, not the client, takes the time.
const indexListers = 8

// EachIndexGroup lists the fleet index as ReadIndex does and calls fn
// with the drills of each cluster × scenario in turn (sorted by start,
// one per drill): a LIST returns a cluster × scenario's entries together,
// so only a few groups are held at a time and memory does not grow with
// the number of drills. The clusters' folders are listed indexListers at
// a time; fn is called from one goroutine at a time, clusters in any
// order, and must not keep the slice. A listing that fails stops the walk
// with its error (wrapping errListIndex); entries that cannot be decoded
// are skipped and returned as errors beside the rest.
func (h *S3Records) EachIndexGroup(ctx context.Context, fn func(drills []DrillSummary)) error {
	prefix := h.indexPrefix()
	var folders []string
	req := objectstore.ListRequest{Prefix: prefix, Delimiter: "/"}
	for {
		page, err := h.Store.ListObjects(ctx, h.Bucket, req)
		if err != nil {
			return fmt.Errorf("%w %s: %w", errListIndex, objectstore.URI(h.Bucket, prefix, ""), err)
		}
		folders = append(folders, page.CommonPrefixes...)
		if !page.IsTruncated {
			break
		}
		req.ContinuationToken = page.NextContinuationToken
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan string)
	)
	serial := func(drills []DrillSummary) {
		mu.Lock()
		defer mu.Unlock()
		fn(drills)
	}
	for range min(indexListers, len(folders)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for folder := range next {
				if err := h.eachGroupUnder(ctx, folder, serial); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range folders {
		next <- f
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// eachGroupUnder is EachIndexGroup for the keys under listPrefix, one
// LIST after the other.
func (h *S3Records) eachGroupUnder(ctx context.Context, listPrefix string, fn func(drills []DrillSummary)) error {
	type entry struct {
		s       DrillSummary
		written time.Time
	}
	var (
		errs    []error
		group   string
		byDrill = map[string]int{}
		batch   []entry
		names   = map[string]string{}
		done    = map[string]bool{}
	)
	// intern keeps one copy of each cluster and scenario name, and none of
	// the key they were cut from.
	intern := func(s string) string {
		if v, ok := names[s]; ok {
			return v
		}
		v := strings.Clone(s)
		names[v] = v
		return v
	}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		drills := make([]DrillSummary, len(batch))
		for i, e := range batch {
			drills[i] = e.s
		}
		sortSummaries(drills)
		fn(drills)
		batch = batch[:0]
		clear(byDrill)
	}
	prefix := h.indexPrefix()
	req := objectstore.ListRequest{Prefix: listPrefix}
	for {
		page, err := h.Store.ListObjects(ctx, h.Bucket, req)
		if err != nil {
			flush()
			return errors.Join(append(errs, fmt.Errorf("%w %s: %w", errListIndex, objectstore.URI(h.Bucket, listPrefix, ""), err))...)
		}
		for _, o := range page.Objects {
			rest := strings.TrimPrefix(o.Key, prefix)
			s, err := parseIndexKey(rest)
			if err != nil {
				errs = append(errs, fmt.Errorf("fleet index entry %s: %w", objectstore.URI(h.Bucket, o.Key, ""), err))
				continue
			}
			if g := s.Cluster + "/" + s.Scenario; g != group {
				flush()
				if done[g] {
					// S3 lists keys in UTF-8 binary order, so a group's
					// entries come together; a server that does not
					// would split rows: say so rather than show them.
					errs = append(errs, fmt.Errorf("%s lists the fleet index out of key order: the drills of %s come in two parts", h.Store.Endpoint(), g))
				}
				done[g] = true
				group = g
			}
			s.Cluster, s.Scenario, s.ID = intern(s.Cluster), intern(s.Scenario), strings.Clone(s.ID)
			s.ScenarioSHA256, s.RunbookSHA256, s.TargetSHA256 = intern(s.ScenarioSHA256), intern(s.RunbookSHA256), intern(s.TargetSHA256)
			for i, c := range s.Compliance {
				s.Compliance[i] = intern(c)
			}
			if i, ok := byDrill[s.ID]; ok {
				if !o.LastModified.Before(batch[i].written) {
					batch[i] = entry{s, o.LastModified}
				}
				continue
			}
			byDrill[s.ID] = len(batch)
			batch = append(batch, entry{s, o.LastModified})
		}
		if !page.IsTruncated {
			break
		}
		req.ContinuationToken = page.NextContinuationToken
	}
	flush()
	return errors.Join(errs...)
}

func sortSummaries(s []DrillSummary) {
	slices.SortFunc(s, func(a, b DrillSummary) int {
		if c := strings.Compare(a.Cluster, b.Cluster); c != 0 {
			return c
		}
		if c := strings.Compare(a.Scenario, b.Scenario); c != 0 {
			return c
		}
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Clusters lists the clusters of the history that have a folder
// (PREFIX/clusters/NAME/), sorted; the unprefixed drills are not a
// cluster.
func (h *S3Records) Clusters(ctx context.Context) ([]string, error) {
	prefix := h.rootPrefix() + clustersFolder
	req := objectstore.ListRequest{Prefix: prefix, Delimiter: "/"}
	var out []string
	for {
		page, err := h.Store.ListObjects(ctx, h.Bucket, req)
		if err != nil {
			return nil, fmt.Errorf("list the clusters of %s: %w", objectstore.URI(h.Bucket, prefix, ""), err)
		}
		for _, p := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/")
			if CheckClusterName(name) == nil {
				out = append(out, name)
			}
		}
		if !page.IsTruncated {
			break
		}
		req.ContinuationToken = page.NextContinuationToken
	}
	slices.Sort(out)
	return out, nil
}

// ForCluster is h for the drills of one cluster ("" for the unprefixed
// drills).
func (h *S3Records) ForCluster(name string) *S3Records {
	c := *h
	c.Cluster = name
	return &c
}

// ScanRecords reads the record of every drill of every cluster of the
// history (the unprefixed drills too), workers at a time (8 when zero),
// and summarizes each: the fleet without its index, one GET per drill.
// Drills still running, or whose process died (Settle), are summarized
// as they are then. A record that cannot be read is an error returned
// beside the rest.
func (h *S3Records) ScanRecords(ctx context.Context, workers int) ([]DrillSummary, error) {
	if workers <= 0 {
		workers = 8
	}
	clusters, err := h.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	type job struct {
		rs *S3Records
		id string
	}
	var jobs []job
	for _, c := range append([]string{""}, clusters...) {
		rs := h.ForCluster(c)
		ids, err := rs.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the drills in %s: %w", rs.URL("", ""), err)
		}
		for _, id := range ids {
			jobs = append(jobs, job{rs, id})
		}
	}
	out := make([]DrillSummary, len(jobs))
	ok := make([]bool, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	now := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := ReadReport(ctx, jobs[i].rs, jobs[i].id)
				if err != nil {
					errs[i] = err
					continue
				}
				Settle(r, now)
				s := Summarize(r)
				if s.Cluster == "" {
					// The folder says which cluster a drill is of, also
					// for a record written before Report.Cluster.
					s.Cluster = jobs[i].rs.Cluster
				}
				out[i], ok[i] = s, true
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kept := out[:0]
	for i := range out {
		if ok[i] {
			kept = append(kept, out[i])
		}
	}
	sortSummaries(kept)
	return kept, errors.Join(errs...)
}

// Reindex (re)builds the fleet index from the records (ScanRecords):
// every drill that ended gets its entry, so a history written before the
// index, or an entry whose write failed, is indexed. Entries already
// there are written again (harmless). It returns how many entries it
// wrote and every error, the records it could not read included.
func (h *S3Records) Reindex(ctx context.Context, workers int) (int, error) {
	if workers <= 0 {
		workers = 8
	}
	sums, scanErr := h.ScanRecords(ctx, workers)
	var (
		mu      sync.Mutex
		written int
		errs    = []error{scanErr}
		wg      sync.WaitGroup
		next    = make(chan DrillSummary)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				err := h.WriteIndexEntry(ctx, s)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					written++
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range sums {
		if s.Result == ResultRunning {
			continue
		}
		next <- s
	}
	close(next)
	wg.Wait()
	return written, errors.Join(errs...)
}
