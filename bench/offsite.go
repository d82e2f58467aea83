package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// offsite is the off-site benchmark's setup: two lab MinIOs, a bucket of
// n objects on each, the same content on both.
type offsite struct {
	n, size, conc int
	src, dst      *objectstore.S3
	srcBucket     string
	dstBucket     string
	srcEnv        labStoreEnv
	dstEnv        labStoreEnv
}

type labStoreEnv struct{ endpoint, region, access, secret string }

func storeEnv(name string) (labStoreEnv, error) {
	p := "FIREDRILL_LAB_" + name + "_"
	e := labStoreEnv{os.Getenv(p + "ENDPOINT"), os.Getenv(p + "REGION"), os.Getenv(p + "ACCESS_KEY"), os.Getenv(p + "SECRET_KEY")}
	if e.endpoint == "" || e.access == "" || e.secret == "" {
		return e, fmt.Errorf("%sENDPOINT, _ACCESS_KEY or _SECRET_KEY not set: run eval \"$(bin/firedrill-lab env)\" with the lab up", p)
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	return e, nil
}

func (e labStoreEnv) client(ctx context.Context, conns int) (*objectstore.S3, error) {
	return objectstore.New(ctx, objectstore.Config{
		Endpoint: e.endpoint, Region: e.region, PathStyle: true, MaxConns: conns,
		Credentials: &objectstore.Credentials{AccessKeyIDEnv: "K", SecretAccessKeyEnv: "S"},
		Getenv:      func(k string) string { return map[string]string{"K": e.access, "S": e.secret}[k] },
	})
}

// key is the i-th object: Velero's kopia repositories keep pack blobs in
// flat directories, one repository per namespace.
func key(i int) string {
	sum := md5.Sum([]byte(strconv.Itoa(i)))
	return fmt.Sprintf("lab/kopia/ns-%d/p%s", i%4, hex.EncodeToString(sum[:]))
}

// content is the i-th object's bytes, the same on every run.
func content(i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	b := make([]byte, size)
	for j := 0; j < size; j += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && j+k < size; k++ {
			b[j+k] = byte(v >> (8 * k))
		}
	}
	return b
}

func runOffsite(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("offsite", flag.ContinueOnError)
	o := &offsite{}
	fs.IntVar(&o.n, "n", 100_000, "objects per bucket")
	fs.IntVar(&o.size, "size", 1024, "object size in bytes")
	fs.IntVar(&o.conc, "concurrency", 16, "requests in flight (firedrill Concurrency, rclone --checkers)")
	runs := fs.Int("runs", 3, "runs of each measurement, interleaved; medians reported")
	seedOnly := fs.Bool("seed-only", false, "seed the buckets and stop")
	only := fs.String("only", "", "comma-separated measurements to run: checksum,rclone,content,raw,download (default all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.srcEnv, err = storeEnv("PRIMARY"); err != nil {
		return err
	}
	if o.dstEnv, err = storeEnv("OFFSITE"); err != nil {
		return err
	}
	if _, err := exec.LookPath("rclone"); err != nil {
		return errors.New("rclone not found: apt-get install -y rclone")
	}
	conns := 2 * o.conc
	if o.src, err = o.srcEnv.client(ctx, conns); err != nil {
		return err
	}
	if o.dst, err = o.dstEnv.client(ctx, conns); err != nil {
		return err
	}
	o.srcBucket = fmt.Sprintf("bench-src-%d-%d", o.n, o.size)
	o.dstBucket = fmt.Sprintf("bench-dst-%d-%d", o.n, o.size)
	if err := o.seed(ctx); err != nil {
		return err
	}
	if *seedOnly {
		return nil
	}

	type measure struct {
		name string
		run  func(context.Context) (int64, error) // returns bytes read
	}
	ms := []measure{
		{"firedrill checksum", o.firedrill(backup.ModeChecksum)},
		{"rclone check", o.rclone()},
		{"firedrill content", o.firedrill(backup.ModeContent)},
		{"raw GET (no listing, no hashing)", o.rawGet},
		{"rclone check --download", o.rclone("--download")},
	}
	if *only != "" {
		short := map[string]string{"firedrill checksum": "checksum", "rclone check": "rclone", "firedrill content": "content",
			"raw GET (no listing, no hashing)": "raw", "rclone check --download": "download"}
		ms = slices.DeleteFunc(ms, func(m measure) bool { return !slices.Contains(strings.Split(*only, ","), short[m.name]) })
	}
	times := map[string][]time.Duration{}
	cpus := map[string][]time.Duration{}
	bytesRead := map[string]int64{}
	for r := range *runs {
		for _, m := range ms {
			cpu0 := clientCPU()
			start := time.Now()
			n, err := m.run(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			d := time.Since(start)
			cpu := clientCPU() - cpu0
			times[m.name] = append(times[m.name], d)
			cpus[m.name] = append(cpus[m.name], cpu)
			bytesRead[m.name] = n
			fmt.Fprintf(os.Stderr, "run %d: %-34s %8.2f s  client CPU %6.2f s\n", r+1, m.name, d.Seconds(), cpu.Seconds())
		}
	}

	median := func(ds []time.Duration) time.Duration {
		ts := slices.Clone(ds)
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	med := func(name string) time.Duration { return median(times[name]) }
	fmt.Printf("off-site comparison: %d objects of %d bytes, MinIO %s -> MinIO %s, concurrency %d, median of %d runs\n",
		o.n, o.size, o.srcEnv.endpoint, o.dstEnv.endpoint, o.conc, *runs)
	for _, m := range ms {
		d := med(m.name)
		line := fmt.Sprintf("  %-34s %8.2f s  client CPU %6.2f s  %9.0f objects/s", m.name, d.Seconds(),
			median(cpus[m.name]).Seconds(), float64(o.n)/d.Seconds())
		if b := bytesRead[m.name]; b > 0 {
			line += fmt.Sprintf("  %7.1f MiB/s", float64(b)/d.Seconds()/(1<<20))
		}
		fmt.Printf("%s   all: %v\n", line, roundAll(times[m.name]))
	}
	if len(times["firedrill checksum"]) > 0 && len(times["rclone check"]) > 0 {
		fc, rc := med("firedrill checksum"), med("rclone check")
		fmt.Printf("  checksum mode / rclone check:     %.2f  (goal <= 0.67)\n", fc.Seconds()/rc.Seconds())
	}
	if len(times["firedrill content"]) > 0 && len(times["raw GET (no listing, no hashing)"]) > 0 {
		ct, raw := med("firedrill content"), med("raw GET (no listing, no hashing)")
		fmt.Printf("  content mode throughput / raw GET: %.2f  (goal >= 0.80)\n", raw.Seconds()/ct.Seconds())
	}
	return nil
}

func roundAll(ts []time.Duration) []string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprintf("%.2fs", t.Seconds()))
	}
	return s
}

const seededKey = "bench-meta/seeded"

// seed fills both buckets unless a previous run did.
func (o *offsite) seed(ctx context.Context) error {
	marker := fmt.Sprintf("n=%d size=%d layout=kopia-4ns", o.n, o.size)
	done := true
	for _, s := range []struct {
		st     *objectstore.S3
		bucket string
	}{{o.src, o.srcBucket}, {o.dst, o.dstBucket}} {
		var b bytes.Buffer
		if _, err := s.st.ReadObject(ctx, s.bucket, seededKey, "", &b); err != nil || b.String() != marker {
			done = false
		}
	}
	if done {
		fmt.Fprintf(os.Stderr, "buckets %s and %s already seeded (%s)\n", o.srcBucket, o.dstBucket, marker)
		return nil
	}
	for _, s := range []struct {
		st     *objectstore.S3
		bucket string
	}{{o.src, o.srcBucket}, {o.dst, o.dstBucket}} {
		if err := s.st.CreateBucket(ctx, s.bucket, false); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "seeding %d objects into %s and %s...\n", o.n, o.srcBucket, o.dstBucket)
	start := time.Now()
	prog := newProgress("", o.n, 10_000)
	if err := eachIndex(ctx, o.n, 64, func(ctx context.Context, i int) error {
		data := content(i, o.size)
		for _, s := range []struct {
			st     *objectstore.S3
			bucket string
		}{{o.src, o.srcBucket}, {o.dst, o.dstBucket}} {
			if _, err := s.st.PutObject(ctx, s.bucket, key(i), data, objectstore.PutOptions{}); err != nil {
				return err
			}
		}
		prog.tick()
		return nil
	}); err != nil {
		return err
	}
	for _, s := range []struct {
		st     *objectstore.S3
		bucket string
	}{{o.src, o.srcBucket}, {o.dst, o.dstBucket}} {
		if _, err := s.st.PutObject(ctx, s.bucket, seededKey, []byte(marker), objectstore.PutOptions{}); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "seeded in %.0f s\n", time.Since(start).Seconds())
	return nil
}

func (o *offsite) firedrill(mode backup.CompareMode) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		c, err := backup.Compare(ctx, backup.Side{Store: o.src, Bucket: o.srcBucket, Prefix: "lab/"},
			backup.Side{Store: o.dst, Bucket: o.dstBucket, Prefix: "lab/"},
			backup.CompareOptions{Mode: mode, Concurrency: o.conc})
		if err != nil {
			return 0, err
		}
		if c.Same != o.n || !c.Clean() {
			return 0, fmt.Errorf("unexpected comparison %+v", c)
		}
		if mode == backup.ModeContent {
			return int64(2 * o.n * o.size), nil
		}
		return 0, nil
	}
}

// rawGet reads every object of both buckets, o.conc at a time, keys known
// in advance: the servers' GET throughput at that concurrency.
func (o *offsite) rawGet(ctx context.Context) (int64, error) {
	var total atomic.Int64
	err := eachIndex(ctx, 2*o.n, o.conc, func(ctx context.Context, j int) error {
		st, bucket := o.src, o.srcBucket
		if j%2 == 1 {
			st, bucket = o.dst, o.dstBucket
		}
		n, err := st.ReadObject(ctx, bucket, key(j/2), "", io.Discard)
		total.Add(n)
		return err
	})
	return total.Load(), err
}

func (o *offsite) rclone(extra ...string) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		args := append([]string{"check", "src:" + o.srcBucket + "/lab", "dst:" + o.dstBucket + "/lab",
			"--checkers", strconv.Itoa(o.conc), "--log-level", "ERROR"}, extra...)
		cmd := exec.CommandContext(ctx, "rclone", args...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") && !strings.HasPrefix(kv, "RCLONE_") {
				env = append(env, kv)
			}
		}
		for name, e := range map[string]labStoreEnv{"SRC": o.srcEnv, "DST": o.dstEnv} {
			p := "RCLONE_CONFIG_" + name + "_"
			env = append(env, p+"TYPE=s3", p+"PROVIDER=Minio", p+"ENV_AUTH=false", p+"ACCESS_KEY_ID="+e.access,
				p+"SECRET_ACCESS_KEY="+e.secret, p+"ENDPOINT="+e.endpoint, p+"REGION="+e.region)
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("rclone %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		if len(extra) > 0 {
			return int64(2 * o.n * o.size), nil
		}
		return 0, nil
	}
}

// clientCPU is the CPU time used by this process and the children it
// waited for (rclone): what the client side of a comparison costs, which
// the servers cannot use when they share the machine.
func clientCPU() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	d := func(ru syscall.Rusage) time.Duration { return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()) }
	return d(self) + d(children)
}
