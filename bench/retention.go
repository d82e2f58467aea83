package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// The retention benchmark's bucket layout: a Velero prefix holding one
// backup whose PodVolumeBackups name four kopia repositories, and n
// repository objects spread over them.
const (
	retPrefix     = "lab"
	retBackup     = "bench-fsb"
	retNamespaces = 4
)

// retKey is the i-th repository object: a kopia pack blob name.
func retKey(i int) string {
	sum := md5.Sum([]byte(fmt.Sprint("retention-", i)))
	return fmt.Sprintf("%s/kopia/ns-%d/p%s", retPrefix, i%retNamespaces, hex.EncodeToString(sum[:]))
}

// retServer is one lab S3 server under test.
type retServer struct {
	name   string // "MinIO", "Versity"
	env    labStoreEnv
	st     *objectstore.S3
	bucket string
	// versions are the repository object versions, listed once before
	// the timed runs: what the raw requests ask for.
	versions []objectstore.ObjectInfo
}

func runRetention(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "repository object versions per server")
	conc := fs.Int("concurrency", 16, "requests in flight (firedrill Concurrency, raw workers)")
	runs := fs.Int("runs", 3, "runs of each measurement, interleaved; medians reported")
	servers := fs.String("servers", "minio,versity", "comma-separated: minio (FIREDRILL_LAB_PRIMARY_*), versity (FIREDRILL_LAB_OFFCLOUD_*)")
	seedOnly := fs.Bool("seed-only", false, "seed the buckets and stop")
	only := fs.String("only", "", "run the measurements whose name starts with this: firedrill, raw, raw list (default all)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stop, err := startCPUProfile(*profile)
	if err != nil {
		return err
	}
	defer stop()
	var srvs []*retServer
	for _, s := range strings.Split(*servers, ",") {
		lab := map[string]string{"minio": "PRIMARY", "versity": "OFFCLOUD"}[s]
		if lab == "" {
			return fmt.Errorf("unknown server %q: want minio or versity", s)
		}
		env, err := storeEnv(lab)
		if err != nil {
			return err
		}
		st, err := env.client(ctx, 2**conc)
		if err != nil {
			return err
		}
		name := map[string]string{"minio": "MinIO", "versity": "Versity"}[s]
		srvs = append(srvs, &retServer{name: name, env: env, st: st, bucket: fmt.Sprintf("bench-retention-%d", *n)})
	}
	for _, s := range srvs {
		if err := s.seed(ctx, *n); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if *seedOnly {
		return nil
	}
	for _, s := range srvs {
		if err := s.listVersions(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		// A server that died while seeding may keep an extra version of
		// an object (Versity 1.8.0 even lists both as latest): both
		// measurements read every version there is.
		if len(s.versions) < *n {
			return fmt.Errorf("%s: bucket %s holds %d repository object versions, want %d: seed again", s.name, s.bucket, len(s.versions), *n)
		}
	}

	type measure struct {
		name string
		run  func(context.Context, *retServer) error
	}
	ms := []measure{
		{"firedrill retention check", func(ctx context.Context, s *retServer) error { return s.firedrill(ctx, *conc) }},
		{"raw GetObjectRetention", func(ctx context.Context, s *retServer) error { return s.raw(ctx, *conc) }},
		{"raw list + GetObjectRetention", func(ctx context.Context, s *retServer) error { return s.rawListed(ctx, *conc) }},
	}
	if *only != "" {
		ms = slices.DeleteFunc(ms, func(m measure) bool { return !strings.HasPrefix(m.name, *only) })
	}
	times := map[string][]time.Duration{}
	cpus := map[string][]time.Duration{}
	for r := range *runs {
		for _, s := range srvs {
			for _, m := range ms {
				cpu0 := clientCPU()
				start := time.Now()
				if err := m.run(ctx, s); err != nil {
					return fmt.Errorf("%s on %s: %w", m.name, s.name, err)
				}
				d, cpu := time.Since(start), clientCPU()-cpu0
				k := s.name + "\x00" + m.name
				times[k] = append(times[k], d)
				cpus[k] = append(cpus[k], cpu)
				fmt.Fprintf(os.Stderr, "run %d: %-8s %-30s %8.2f s  client CPU %6.2f s\n", r+1, s.name, m.name, d.Seconds(), cpu.Seconds())
			}
		}
	}

	median := func(ds []time.Duration) time.Duration {
		ts := slices.Clone(ds)
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	fmt.Printf("retention check: %d repository objects per server, concurrency %d, median of %d runs\n", *n, *conc, *runs)
	for _, s := range srvs {
		fmt.Printf("%s (%s, bucket %s, %d object versions)\n", s.name, s.env.endpoint, s.bucket, len(s.versions))
		rate := map[string]float64{}
		for _, m := range ms {
			k := s.name + "\x00" + m.name
			d := median(times[k])
			rate[m.name] = float64(len(s.versions)) / d.Seconds()
			fmt.Printf("  %-30s %8.2f s  client CPU %6.2f s  %8.0f versions/s   all: %v\n",
				m.name, d.Seconds(), median(cpus[k]).Seconds(), rate[m.name], roundAll(times[k]))
		}
		if f, r := rate["firedrill retention check"], rate["raw GetObjectRetention"]; f > 0 && r > 0 {
			fmt.Printf("  firedrill / raw GetObjectRetention:          %.2f  (goal >= 0.80)\n", f/r)
		}
		if f, r := rate["firedrill retention check"], rate["raw list + GetObjectRetention"]; f > 0 && r > 0 {
			fmt.Printf("  firedrill / raw list + GetObjectRetention:   %.2f\n", f/r)
		}
	}
	return nil
}

// seed creates the bucket (object lock, default GOVERNANCE 1 day, so a
// later clean-up can bypass it) and fills it, unless a previous run did.
func (s *retServer) seed(ctx context.Context, n int) error {
	marker := fmt.Sprintf("n=%d layout=kopia-%dns backup=%s", n, retNamespaces, retBackup)
	var b bytes.Buffer
	if _, err := s.st.ReadObject(ctx, s.bucket, seededKey, "", &b); err == nil && b.String() == marker {
		fmt.Fprintf(os.Stderr, "%s: bucket %s already seeded (%s)\n", s.name, s.bucket, marker)
		return nil
	}
	if err := s.st.CreateBucket(ctx, s.bucket, true); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		return err
	}
	if err := s.st.SetObjectLockConfig(ctx, s.bucket, objectstore.LockConfig{Enabled: true, DefaultMode: objectstore.Governance, DefaultDays: 1}); err != nil {
		return err
	}
	if err := s.putBackup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: seeding %d objects into %s...\n", s.name, n, s.bucket)
	start := time.Now()
	prog := newProgress(s.name+" ", n, 10_000)
	if err := eachIndex(ctx, n, 32, func(ctx context.Context, i int) error {
		if _, err := s.st.PutObject(ctx, s.bucket, retKey(i), content(i, 64), objectstore.PutOptions{}); err != nil {
			return err
		}
		prog.tick()
		return nil
	}); err != nil {
		return err
	}
	if _, err := s.st.PutObject(ctx, s.bucket, seededKey, []byte(marker), objectstore.PutOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: seeded in %.0f s\n", s.name, time.Since(start).Seconds())
	return nil
}

// putBackup writes the backup's velero-backup.json and its
// PodVolumeBackups list, one per repository, as Velero does.
func (s *retServer) putBackup(ctx context.Context) error {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	exp := metav1.NewTime(now.Add(12 * time.Hour))
	vb := velerov1.Backup{
		TypeMeta:   metav1.TypeMeta{APIVersion: "velero.io/v1", Kind: "Backup"},
		ObjectMeta: metav1.ObjectMeta{Name: retBackup, Namespace: "velero"},
		Spec:       velerov1.BackupSpec{TTL: metav1.Duration{Duration: 12 * time.Hour}},
		Status:     velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: &now, Expiration: &exp},
	}
	var pvbs []velerov1.PodVolumeBackup
	for i := range retNamespaces {
		ns := fmt.Sprintf("ns-%d", i)
		vb.Spec.IncludedNamespaces = append(vb.Spec.IncludedNamespaces, ns)
		pvbs = append(pvbs, velerov1.PodVolumeBackup{
			ObjectMeta: metav1.ObjectMeta{Name: retBackup + "-" + ns, Namespace: "velero"},
			Spec: velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "data-0"},
				Volume: "data", BackupStorageLocation: "default", UploaderType: "kopia"},
			Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted, SnapshotID: "k" + ns},
		})
	}
	dir := retPrefix + "/backups/" + retBackup + "/"
	js, err := json.Marshal(vb)
	if err != nil {
		return err
	}
	if _, err := s.st.PutObject(ctx, s.bucket, dir+"velero-backup.json", js, objectstore.PutOptions{}); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if err := json.NewEncoder(zw).Encode(pvbs); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	_, err = s.st.PutObject(ctx, s.bucket, dir+retBackup+"-podvolumebackups.json.gz", gz.Bytes(), objectstore.PutOptions{})
	return err
}

// listVersions lists the repository object versions once, untimed.
func (s *retServer) listVersions(ctx context.Context) error {
	s.versions = s.versions[:0]
	req := objectstore.VersionsRequest{Prefix: retPrefix + "/kopia/"}
	for {
		p, err := s.st.ListVersions(ctx, s.bucket, req)
		if err != nil {
			return err
		}
		for _, v := range p.Versions {
			if !v.DeleteMarker {
				s.versions = append(s.versions, objectstore.ObjectInfo{Key: v.Key, VersionID: v.VersionID})
			}
		}
		if !p.IsTruncated {
			return nil
		}
		req.KeyMarker, req.VersionIDMarker = p.NextKeyMarker, p.NextVersionIDMarker
	}
}

// firedrill runs firedrill's protection check of the backup, canary and
// copies off: the bucket's settings, the backup's objects, and the
// retention of every version of its repositories, listing included.
func (s *retServer) firedrill(ctx context.Context, conc int) error {
	res, err := backup.CheckProtection(ctx, backup.ProtectionSpec{
		Primary:     backup.PrimaryBucket{Store: s.st, Bucket: s.bucket, Prefix: retPrefix},
		Lock:        backup.LockRequirement{Mode: objectstore.Governance},
		Backup:      backup.BackupRef{Name: retBackup},
		Canary:      backup.CanarySpec{Disabled: true},
		Concurrency: conc,
	})
	if err != nil {
		return err
	}
	checked := 0
	for _, r := range res.Repositories {
		checked += r.Versions
	}
	if checked != len(s.versions) {
		return fmt.Errorf("firedrill checked %d repository object versions, want %d", checked, len(s.versions))
	}
	return nil
}

// rawClient is a minimal S3 client: SigV4-signed GETs on keep-alive
// connections, bodies read whole, nothing decoded beyond what the caller
// picks out.
type rawClient struct {
	http   *http.Client
	signer *v4.Signer
	creds  aws.Credentials
	base   *url.URL
	region string
}

func (s *retServer) rawClient(conc int) (*rawClient, func(), error) {
	base, err := url.Parse(s.env.endpoint)
	if err != nil {
		return nil, nil, err
	}
	tr := &http.Transport{MaxIdleConns: 2 * conc, MaxIdleConnsPerHost: 2 * conc, IdleConnTimeout: time.Minute}
	return &rawClient{http: &http.Client{Transport: tr}, signer: v4.NewSigner(),
		creds: aws.Credentials{AccessKeyID: s.env.access, SecretAccessKey: s.env.secret}, base: base, region: s.env.region}, tr.CloseIdleConnections, nil
}

// get sends GET path?query and returns the body; 5xx and 403 are errors,
// other answers (Versity's 404 for versions without a retention of their
// own) are read like any.
func (c *rawClient) get(ctx context.Context, path, query string) ([]byte, error) {
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u := *c.base
	u.Path, u.RawQuery = path, query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := c.signer.SignHTTP(ctx, c.creds, req, emptySHA256, "s3", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && (resp.StatusCode >= 500 || resp.StatusCode == http.StatusForbidden) {
		err = fmt.Errorf("GET %s: %s", u.String(), resp.Status)
	}
	return body, err
}

// retentions asks for the retention of each version received, conc
// requests in flight, and counts them.
func (c *rawClient) retentions(ctx context.Context, bucket string, conc int, in <-chan objectstore.ObjectInfo) (int, error) {
	var n atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				if _, err := c.get(ctx, "/"+bucket+"/"+v.Key, "retention=&versionId="+url.QueryEscape(v.VersionID)); err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(n.Load()), errors.Join(firstErr, ctx.Err())
}

// raw asks for the retention of every version, conc requests in flight,
// keys and version IDs known in advance: one SigV4-signed GET
// ?retention&versionId= each. The servers' throughput for firedrill's
// retention requests at that concurrency.
func (s *retServer) raw(ctx context.Context, conc int) error {
	c, done, err := s.rawClient(conc)
	if err != nil {
		return err
	}
	defer done()
	in := make(chan objectstore.ObjectInfo, 2*conc)
	go func() {
		defer close(in)
		for _, v := range s.versions {
			select {
			case in <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	_, err = c.retentions(ctx, s.bucket, conc, in)
	return err
}

// rawListed is raw with the versions listed as firedrill lists them
// (ListObjectVersions of each repository, page after page, while the
// retention requests run): every request firedrill sends, from the
// minimal client. Version listings cost the server too (Versity 1.8.0
// takes about 0.1 s a page of 1,000), which raw leaves out.
func (s *retServer) rawListed(ctx context.Context, conc int) error {
	c, done, err := s.rawClient(conc)
	if err != nil {
		return err
	}
	defer done()
	in := make(chan objectstore.ObjectInfo, 2000)
	listErr := make(chan error, 1)
	go func() {
		defer close(in)
		for i := range retNamespaces {
			q := url.Values{"versions": {""}, "prefix": {fmt.Sprintf("%s/kopia/ns-%d/", retPrefix, i)}}
			for {
				body, err := c.get(ctx, "/"+s.bucket, strings.ReplaceAll(q.Encode(), "+", "%20"))
				if err != nil {
					listErr <- err
					return
				}
				for _, blk := range strings.Split(string(body), "<Version>")[1:] {
					in <- objectstore.ObjectInfo{Key: between(blk, "<Key>", "</Key>"), VersionID: between(blk, "<VersionId>", "</VersionId>")}
				}
				if between(string(body), "<IsTruncated>", "</IsTruncated>") != "true" {
					break
				}
				q.Set("key-marker", between(string(body), "<NextKeyMarker>", "</NextKeyMarker>"))
				q.Set("version-id-marker", between(string(body), "<NextVersionIdMarker>", "</NextVersionIdMarker>"))
			}
		}
		listErr <- nil
	}()
	n, err := c.retentions(ctx, s.bucket, conc, in)
	if err := errors.Join(err, <-listErr); err != nil {
		return err
	}
	if n != len(s.versions) {
		return fmt.Errorf("raw listing found %d versions, want %d", n, len(s.versions))
	}
	return nil
}

// between is the text between the first open and the close after it.
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}
