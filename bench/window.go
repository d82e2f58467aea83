package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// The window benchmark's bucket: an hourly Velero schedule's history,
// n backups one hour apart up to the seeding, each a velero-backup.json
// and a small tarball, under the Velero prefix "lab".
const (
	winPrefix   = "lab"
	winSchedule = "bench-hourly"
	winChild    = "window-child"
)

// winName is the i-th newest backup's name and creation time, counted
// back from t0.
func winName(t0 time.Time, i int) (string, time.Time) {
	at := t0.Add(-time.Duration(i) * time.Hour)
	return winSchedule + "-" + at.Format("20060102150405"), at
}

// winReport is what the child process measures.
type winReport struct {
	Seconds     float64 `json:"duration_seconds"`
	VmHWMKiB    int     `json:"vm_hwm_kib"`
	HeapPeakMiB float64 `json:"heap_peak_mib"`
	Backups     int     `json:"backups"`
	Locked      int     `json:"locked"`
}

type winBench struct {
	env       labStoreEnv
	st        *objectstore.S3
	bucket    string
	n, conc   int
	retention time.Duration
	sample    int
	names     []string
}

func winFlags(name string) (*flag.FlagSet, *int, *int, *time.Duration, *int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	n := fs.Int("n", 10_000, "backups of the hourly schedule")
	conc := fs.Int("concurrency", 16, "requests in flight (firedrill Concurrency, raw workers)")
	ret := fs.Duration("retention", 7*24*time.Hour, "objectives.retention: the backups whose object lock is checked")
	sample := fs.Int("sample", 0, "--window-sample: check the lock of this many backups of the window (0: all)")
	return fs, n, conc, ret, sample
}

func newWinBench(ctx context.Context, n, conc int, ret time.Duration, sample int) (*winBench, error) {
	env, err := storeEnv("PRIMARY")
	if err != nil {
		return nil, err
	}
	st, err := env.client(ctx, 2*conc)
	if err != nil {
		return nil, err
	}
	return &winBench{env: env, st: st, bucket: fmt.Sprintf("bench-window-%d", n), n: n, conc: conc, retention: ret, sample: sample}, nil
}

// runWindow times firedrill's window check of n backups against the raw
// GETs of the same velero-backup.json objects at the same concurrency,
// interleaved, then measures the check's peak RSS in a child process.
func runWindow(ctx context.Context, args []string) error {
	fs, n, conc, ret, sample := winFlags("window")
	runs := fs.Int("runs", 3, "runs of each measurement, interleaved; medians reported")
	seedOnly := fs.Bool("seed-only", false, "seed the bucket and stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := newWinBench(ctx, *n, *conc, *ret, *sample)
	if err != nil {
		return err
	}
	if err := b.seed(ctx); err != nil {
		return err
	}
	if *seedOnly {
		return nil
	}
	if err := b.list(ctx); err != nil {
		return err
	}
	type measure struct {
		name string
		run  func(context.Context) error
	}
	ms := []measure{
		{"firedrill window check", func(ctx context.Context) error { _, err := b.firedrill(ctx); return err }},
		{"raw GET velero-backup.json", b.raw},
		{"raw list + GET", b.rawListed},
	}
	times := map[string][]time.Duration{}
	cpus := map[string][]time.Duration{}
	for r := range *runs {
		for _, m := range ms {
			cpu0 := clientCPU()
			start := time.Now()
			if err := m.run(ctx); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			d, cpu := time.Since(start), clientCPU()-cpu0
			times[m.name] = append(times[m.name], d)
			cpus[m.name] = append(cpus[m.name], cpu)
			fmt.Fprintf(os.Stderr, "run %d: %-28s %8.2f s  client CPU %6.2f s\n", r+1, m.name, d.Seconds(), cpu.Seconds())
		}
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, winChild, "-n", strconv.Itoa(*n), "-concurrency", strconv.Itoa(*conc),
		"-retention", ret.String(), "-sample", strconv.Itoa(*sample))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	var rep winReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return fmt.Errorf("child output %q: %w", out, err)
	}

	median := func(ds []time.Duration) time.Duration {
		ts := slices.Clone(ds)
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	lock := "all"
	if *sample > 0 {
		lock = fmt.Sprintf("a sample of %d", *sample)
	}
	fmt.Printf("window check: %d backups of an hourly schedule on MinIO (%s, bucket %s), concurrency %d, median of %d runs\n",
		*n, b.env.endpoint, b.bucket, *conc, *runs)
	fmt.Printf("  object lock of %s of the %d backups in the retention %s checked too\n", lock, rep.Backups, *ret)
	rate := map[string]float64{}
	for _, m := range ms {
		d := median(times[m.name])
		rate[m.name] = float64(len(b.names)) / d.Seconds()
		fmt.Printf("  %-28s %8.2f s  client CPU %6.2f s  %8.0f backups/s   all: %v\n",
			m.name, d.Seconds(), median(cpus[m.name]).Seconds(), rate[m.name], roundAll(times[m.name]))
	}
	// The lab's load changes from minute to minute: the ratio of each
	// run's pair, measured back to back, is steadier than the ratio of
	// the medians.
	paired := func(raw string) (float64, []string) {
		var rs []float64
		var all []string
		for i := range times[raw] {
			r := times[raw][i].Seconds() / times[ms[0].name][i].Seconds()
			rs = append(rs, r)
			all = append(all, fmt.Sprintf("%.2f", r))
		}
		slices.Sort(rs)
		return rs[len(rs)/2], all
	}
	m, all := paired(ms[1].name)
	fmt.Printf("  firedrill / raw GET:         %.2f of the medians; median of the runs' pairs %.2f %v  (goal >= 0.80)\n", rate[ms[0].name]/rate[ms[1].name], m, all)
	m, all = paired(ms[2].name)
	fmt.Printf("  firedrill / raw list + GET:  %.2f of the medians; median of the runs' pairs %.2f %v\n", rate[ms[0].name]/rate[ms[2].name], m, all)
	fmt.Printf("  peak RSS of the check alone  %.1f MiB  (goal < 200 MiB; child process, VmHWM)\n", float64(rep.VmHWMKiB)/1024)
	fmt.Printf("  peak Go heap                 %.1f MiB\n", rep.HeapPeakMiB)
	return nil
}

// windowChildMain runs one window check and prints its peak RSS.
func windowChildMain(ctx context.Context, args []string) error {
	fs, n, conc, ret, sample := winFlags(winChild)
	profile := fs.String("cpuprofile", "", "write a CPU profile of the check to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	b, err := newWinBench(ctx, *n, *conc, *ret, *sample)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	peak := make(chan float64)
	go samplePeakHeap(stop, peak)
	start := time.Now()
	w, err := b.firedrill(ctx)
	if err != nil {
		return err
	}
	r := winReport{Seconds: time.Since(start).Seconds(), Backups: len(w.Backups), Locked: len(w.Lock.Backups)}
	close(stop)
	r.HeapPeakMiB = <-peak
	if r.VmHWMKiB, err = vmHWM(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// seed creates the bucket (object lock, default GOVERNANCE 1 day, so a
// later clean-up can bypass it) and writes the history, unless a
// previous run did. The backups' times count back from the seeding.
func (b *winBench) seed(ctx context.Context) error {
	marker := fmt.Sprintf("n=%d layout=hourly schedule=%s", b.n, winSchedule)
	var buf strings.Builder
	if _, err := b.st.ReadObject(ctx, b.bucket, seededKey, "", &buf); err == nil && buf.String() == marker {
		fmt.Fprintf(os.Stderr, "bucket %s already seeded (%s)\n", b.bucket, marker)
		return nil
	}
	if err := b.st.CreateBucket(ctx, b.bucket, true); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		return err
	}
	if err := b.st.SetObjectLockConfig(ctx, b.bucket, objectstore.LockConfig{Enabled: true, DefaultMode: objectstore.Governance, DefaultDays: 1}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeding %d backups into %s...\n", b.n, b.bucket)
	t0 := time.Now().UTC().Truncate(time.Hour)
	start := time.Now()
	prog := newProgress("", b.n, 1000)
	if err := eachIndex(ctx, b.n, 32, func(ctx context.Context, i int) error {
		if err := b.putBackup(ctx, t0, i); err != nil {
			return err
		}
		prog.tick()
		return nil
	}); err != nil {
		return err
	}
	if _, err := b.st.PutObject(ctx, b.bucket, seededKey, []byte(marker), objectstore.PutOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded in %.0f s\n", time.Since(start).Seconds())
	return nil
}

// putBackup writes the i-th backup: a velero-backup.json like Velero's
// (about 1.5 KiB) and a small tarball.
func (b *winBench) putBackup(ctx context.Context, t0 time.Time, i int) error {
	name, at := winName(t0, i)
	ttl := 400 * 24 * time.Hour
	vb := velerov1.Backup{
		TypeMeta: metav1.TypeMeta{APIVersion: "velero.io/v1", Kind: "Backup"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", CreationTimestamp: metav1.NewTime(at),
			Labels: map[string]string{velerov1.ScheduleNameLabel: winSchedule, velerov1.StorageLocationLabel: "default"},
			Annotations: map[string]string{"velero.io/source-cluster-k8s-gitversion": "v1.33.0",
				"velero.io/source-cluster-k8s-major-version": "1", "velero.io/source-cluster-k8s-minor-version": "33"}},
		Spec: velerov1.BackupSpec{TTL: metav1.Duration{Duration: ttl}, IncludedNamespaces: []string{"shop", "shop-data"},
			StorageLocation: "default", DefaultVolumesToFsBackup: boolPtr(true)},
		Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, Version: 1, FormatVersion: "1.1.0",
			StartTimestamp: &metav1.Time{Time: at.Add(time.Second)}, CompletionTimestamp: &metav1.Time{Time: at.Add(40 * time.Second)},
			Expiration: &metav1.Time{Time: at.Add(ttl)}, Progress: &velerov1.BackupProgress{TotalItems: 120, ItemsBackedUp: 120}},
	}
	js, err := json.Marshal(vb)
	if err != nil {
		return err
	}
	dir := winPrefix + "/backups/" + name + "/"
	if _, err := b.st.PutObject(ctx, b.bucket, dir+"velero-backup.json", js, objectstore.PutOptions{}); err != nil {
		return err
	}
	_, err = b.st.PutObject(ctx, b.bucket, dir+name+".tar.gz", content(i, 512), objectstore.PutOptions{})
	return err
}

func boolPtr(b bool) *bool { return &b }

// list lists the backups once, untimed: the keys the raw GETs ask for.
func (b *winBench) list(ctx context.Context) error {
	b.names = b.names[:0]
	req := objectstore.ListRequest{Prefix: winPrefix + "/backups/", Delimiter: "/"}
	for {
		p, err := b.st.ListObjects(ctx, b.bucket, req)
		if err != nil {
			return err
		}
		for _, cp := range p.CommonPrefixes {
			b.names = append(b.names, cp+"velero-backup.json")
		}
		if !p.IsTruncated {
			break
		}
		req.ContinuationToken = p.NextContinuationToken
	}
	if len(b.names) < b.n {
		return fmt.Errorf("bucket %s holds %d backups, want %d: seed again", b.bucket, len(b.names), b.n)
	}
	return nil
}

// firedrill runs backup.CheckWindow as the protection step does.
func (b *winBench) firedrill(ctx context.Context) (*backup.Window, error) {
	w, _, err := backup.CheckWindow(ctx, backup.WindowSpec{
		Store: b.st, Bucket: b.bucket, Prefix: winPrefix, Schedule: winSchedule, Cron: "0 * * * *",
		Retention: b.retention, RPO: 2 * time.Hour, Sample: b.sample, Seed: 1, Concurrency: b.conc,
	})
	if err != nil {
		return nil, err
	}
	if w.BackupCount < b.n {
		return nil, fmt.Errorf("firedrill read %d backups, want %d", w.BackupCount, b.n)
	}
	return w, nil
}

// rawListed is raw with the backups listed as firedrill lists them
// (ListObjectsV2 with delimiter "/", page after page, while the GETs
// run): the window check's requests but the lock check's, from the
// minimal client. A listing of 10,000 common prefixes costs MinIO
// seconds of CPU, which raw leaves out.
func (b *winBench) rawListed(ctx context.Context) error {
	rs := &retServer{env: b.env}
	c, done, err := rs.rawClient(b.conc)
	if err != nil {
		return err
	}
	defer done()
	keys := make(chan string, 2000)
	listErr := make(chan error, 1)
	go func() {
		defer close(keys)
		q := url.Values{"list-type": {"2"}, "delimiter": {"/"}, "prefix": {winPrefix + "/backups/"}}
		for {
			body, err := c.get(ctx, "/"+b.bucket, strings.ReplaceAll(q.Encode(), "+", "%20"))
			if err != nil {
				listErr <- err
				return
			}
			for _, blk := range strings.Split(string(body), "<CommonPrefixes>")[1:] {
				keys <- between(blk, "<Prefix>", "</Prefix>") + "velero-backup.json"
			}
			if between(string(body), "<IsTruncated>", "</IsTruncated>") != "true" {
				break
			}
			q.Set("continuation-token", between(string(body), "<NextContinuationToken>", "</NextContinuationToken>"))
		}
		listErr <- nil
	}()
	var n atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range b.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if _, err := c.get(ctx, "/"+b.bucket+"/"+k, ""); err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(firstErr, <-listErr, ctx.Err()); err != nil {
		return err
	}
	if int(n.Load()) < b.n {
		return fmt.Errorf("raw listing found %d backups, want %d", n.Load(), b.n)
	}
	return nil
}

// raw GETs every velero-backup.json, keys known in advance, conc requests
// in flight, bodies read whole: the server's throughput for the window
// check's requests at that concurrency.
func (b *winBench) raw(ctx context.Context) error {
	rs := &retServer{env: b.env}
	c, done, err := rs.rawClient(b.conc)
	if err != nil {
		return err
	}
	defer done()
	return eachIndex(ctx, len(b.names), b.conc, func(ctx context.Context, i int) error {
		_, err := c.get(ctx, "/"+b.bucket+"/"+b.names[i], "")
		return err
	})
}
