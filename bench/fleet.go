package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// The fleet benchmark's history: clusters × scenarios × drills records
// in a bucket of its own, under fleetPrefix.
const (
	fleetPrefix = "platform"
	fleetMarker = "bench-meta/seeded"
)

func runFleet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	clusters := fs.Int("clusters", 1000, "clusters")
	scens := fs.Int("scenarios", 10, "scenarios per cluster")
	drills := fs.Int("drills", 8, "drills per cluster and scenario")
	conc := fs.Int("concurrency", 32, "uploads in flight while generating (not timed)")
	bin := fs.String("bin", "bin/firedrill", "the firedrill binary to measure ('make build')")
	runs := fs.Int("runs", 3, "runs of each measurement, interleaved; the median is reported with every run")
	keep := fs.Bool("keep", false, "keep the bucket for another run (a marker object skips the generation); default: delete it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := storeEnv("PRIMARY")
	if err != nil {
		return err
	}
	st, err := env.client(ctx, *conc)
	if err != nil {
		return err
	}
	bucket := fmt.Sprintf("bench-fleet-%d-%d-%d", *clusters, *scens, *drills)
	n := *clusters * *scens * *drills
	fmt.Printf("Fleet of %d clusters × %d scenarios × %d drills (%d records) in s3://%s/%s on %s\n",
		*clusters, *scens, *drills, n, bucket, fleetPrefix, env.endpoint)
	if err := st.CreateBucket(ctx, bucket, false); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		return err
	}
	h := &drill.S3Records{Store: st, Bucket: bucket, Prefix: fleetPrefix, UploadTimeout: time.Minute}
	var seeded bytes.Buffer
	if _, err := st.ReadObject(ctx, bucket, fleetMarker, "", &seeded); err != nil || seeded.String() != fmt.Sprint(n) {
		start := time.Now()
		if err := seedFleet(ctx, h, *clusters, *scens, *drills, *conc); err != nil {
			return err
		}
		if _, err := st.PutObject(ctx, bucket, fleetMarker, []byte(fmt.Sprint(n)), objectstore.PutOptions{}); err != nil {
			return err
		}
		fmt.Printf("generated in %.0f s (record and index entry of each drill, %d uploads in flight; not timed)\n", time.Since(start).Seconds(), *conc)
	} else {
		fmt.Println("reusing the generated bucket (marker " + fleetMarker + ")")
	}

	paths := []struct{ name, flag string }{
		{"through the index (LIST only)", ""},
		{"naive: read every record", "--from-records"},
	}
	results := make([][]fleetMeasure, len(paths))
	for run := range *runs {
		for i, m := range paths {
			r, err := measureFleet(ctx, *bin, env, "s3://"+bucket+"/"+fleetPrefix, m.flag)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			fmt.Fprintf(os.Stderr, "  run %d, %s: %.2f s, %.1f MiB, %d rows\n", run+1, m.name, r.seconds, r.maxRSSMiB, r.rows)
			results[i] = append(results[i], r)
		}
	}
	fmt.Printf("\n%-34s %10s %14s %8s   %s\n", "firedrill fleet -o json (median)", "wall time", "peak RSS", "rows", "every run")
	for i, m := range paths {
		rs := results[i]
		secs, rss := make([]float64, len(rs)), make([]float64, len(rs))
		var each []string
		for k, r := range rs {
			secs[k], rss[k] = r.seconds, r.maxRSSMiB
			each = append(each, fmt.Sprintf("%.1f s/%.0f MiB", r.seconds, r.maxRSSMiB))
		}
		fmt.Printf("%-34s %8.2f s %10.1f MiB %8d   %s\n", m.name, drill.Median(secs), drill.Median(rss), rs[0].rows, strings.Join(each, ", "))
	}
	fmt.Println("goal for the index: under 10 s and under 200 MiB")
	if *keep {
		fmt.Printf("kept s3://%s (-keep)\n", bucket)
		return nil
	}
	return deleteBench(ctx, st, env, bucket)
}

type fleetMeasure struct {
	seconds, maxRSSMiB float64
	rows               int
}

// measureFleet runs the real command as a child process: its wall time,
// its peak resident set (getrusage ru_maxrss of the child) and the rows it
// printed.
func measureFleet(ctx context.Context, bin string, env labStoreEnv, history, extra string) (fleetMeasure, error) {
	args := []string{"fleet", "--history", history, "--history-endpoint", env.endpoint, "--history-region", env.region,
		"--history-path-style", "-o", "json"}
	if extra != "" {
		args = append(args, extra)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "FIREDRILL_HISTORY_ACCESS_KEY_ID="+env.access, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY="+env.secret)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		return fleetMeasure{}, fmt.Errorf("%v: %s", err, errOut.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var doc struct {
		Rows []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		return fleetMeasure{}, fmt.Errorf("read fleet -o json: %w", err)
	}
	return fleetMeasure{seconds: elapsed.Seconds(), maxRSSMiB: float64(ru.Maxrss) / 1024, rows: len(doc.Rows)}, nil
}

// seedFleet writes every drill's record and index entry through
// S3Records.WriteFile, as drills do. Cluster c's scenario s has drills a
// quarter apart; one drill in eleven fails, one cluster in seven is
// overdue, RTOs grow slowly, so every column has something to show.
func seedFleet(ctx context.Context, h *drill.S3Records, clusters, scens, drills, conc int) error {
	type job struct{ c, s, d int }
	jobs := make(chan job)
	var done atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	total := clusters * scens * drills
	now := time.Now().UTC()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				cluster := fmt.Sprintf("cluster-%04d", j.c)
				r := benchReport(cluster, j, now)
				b, err := json.Marshal(r)
				if err == nil {
					err = h.ForCluster(cluster).WriteFile(ctx, r.DrillID, drill.ReportFile, b)
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
				if v := done.Add(1); v%5000 == 0 {
					fmt.Fprintf(os.Stderr, "  %d / %d records\n", v, total)
				}
			}
		}()
	}
	for c := range clusters {
		for s := range scens {
			for d := range drills {
				jobs <- job{c, s, d}
			}
		}
	}
	close(jobs)
	wg.Wait()
	return firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// benchReport is a drill record of the size of a real lab drill's (about
// 10 KB: ten phases, twenty-five findings, three restores).
func benchReport(cluster string, j struct{ c, s, d int }, now time.Time) *drill.Report {
	age := time.Duration(7-j.d)*91*24*time.Hour + time.Duration(j.c%30)*24*time.Hour
	if j.c%7 == 3 {
		age += 120 * 24 * time.Hour
	}
	start := now.Add(-age)
	rto := 300 + float64(j.d)*20 + float64(j.s)
	met := true
	result := drill.ResultPass
	if (j.c+j.s+j.d)%11 == 0 {
		result = drill.ResultFail
	}
	rpo := 120.0
	r := &drill.Report{Schema: drill.ReportSchema, DrillID: fmt.Sprintf("fd-%s-%04d-%02d-%d", start.Format("20060102-150405"), j.c, j.s, j.d),
		Scenario: fmt.Sprintf("scenario-%02d", j.s), Cluster: cluster, StartedAt: start, FinishedAt: start.Add(time.Duration(rto+60) * time.Second),
		DisasterAt: start, Result: result, Summary: "The primary region is lost; restore the shop into the scratch cluster.",
		RTO: drill.Objective{ObjectiveSeconds: 3600, MeasuredSeconds: &rto, Met: &met, Status: drill.ObjectiveMet},
		RPO: drill.Objective{ObjectiveSeconds: 3600, MeasuredSeconds: &rpo, Met: &met, Status: drill.ObjectiveMet},
	}
	for i := range 10 {
		t := start.Add(time.Duration(i) * 30 * time.Second)
		r.Phases = append(r.Phases, drill.Phase{Name: drill.StepName(fmt.Sprintf("step-%d", i)), Start: t, End: t.Add(30 * time.Second),
			DurationSeconds: 30, CountsTowardRTO: i > 2, Status: drill.PhasePassed})
	}
	for i := range 25 {
		r.Findings = append(r.Findings, finding.Pass(fmt.Sprintf("protection.check-%d", i), "s3://velero-backups at http://127.0.0.1:27000",
			"the backup bucket's object lock keeps every object of the recovery point for longer than the RPO window"))
	}
	for i := range 3 {
		r.Restores = append(r.Restores, drill.RestoreRef{Name: fmt.Sprintf("%s-phase-%d", r.DrillID, i), Phase: "workloads",
			VeleroPhase: "Completed", Start: start, End: start.Add(time.Minute), ItemsRestored: 40 + j.d, TotalItems: 40 + j.d})
	}
	return r
}

// deleteBench deletes every object of the bucket, then the bucket.
func deleteBench(ctx context.Context, st *objectstore.S3, env labStoreEnv, bucket string) error {
	start := time.Now()
	deleted := 0
	for {
		page, err := st.ListObjects(ctx, bucket, objectstore.ListRequest{})
		if err != nil {
			return err
		}
		if len(page.Objects) == 0 {
			break
		}
		res, err := st.DeleteVersions(ctx, bucket, page.Objects)
		if err != nil {
			return err
		}
		for _, d := range res {
			if d.Err != nil {
				return d.Err
			}
		}
		deleted += len(page.Objects)
	}
	if err := deleteBucket(ctx, env, bucket); err != nil {
		return err
	}
	fmt.Printf("deleted s3://%s (%d objects) in %.0f s\n", bucket, deleted, time.Since(start).Seconds())
	return nil
}

// deleteBucket sends a SigV4-signed DELETE /BUCKET (objectstore has no
// DeleteBucket: firedrill never deletes a bucket).
func deleteBucket(ctx context.Context, env labStoreEnv, bucket string) error {
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u, err := url.Parse(env.endpoint)
	if err != nil {
		return err
	}
	u.Path = "/" + bucket
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: env.access, SecretAccessKey: env.secret}, req, emptySHA256, "s3", env.region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("DELETE bucket %s: %s", bucket, resp.Status)
	}
	return nil
}
