// Command drill measures two figures of `firedrill run` (issue 6):
//
//   - cold start: from exec of the firedrill binary to its first step line
//     ("load ..." on stderr), over -n runs, against a scenario whose target
//     does not exist (so nothing else happens);
//   - overhead: one real drill of the lab's scenario; the drill's wall time
//     minus the time spent inside Velero restores, checks and runbook steps
//     (from report.json), with protection and cleanup shown apart since
//     they wait on S3 and on Kubernetes namespace deletion.
//
// Usage (lab up, eval "$(make -s lab-env)", PATH with $FIREDRILL_LAB_BIN):
//
//	go run ./bench/drill -firedrill bin/firedrill -n 20
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	bin := flag.String("firedrill", "bin/firedrill", "firedrill binary")
	n := flag.Int("n", 20, "cold-start runs")
	scenario := flag.String("scenario", os.Getenv("FIREDRILL_LAB_SCENARIO"), "scenario for the overhead drill")
	flag.Parse()
	if err := coldStart(*bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "cold start:", err)
		os.Exit(1)
	}
	if *scenario == "" {
		fmt.Println("overhead: skipped (no lab: set FIREDRILL_LAB_SCENARIO)")
		return
	}
	if err := overhead(*bin, *scenario); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

const unreachable = `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: cold-start}
spec:
  disaster: {summary: cold start, lost: [sourceCluster], detection: bench, lead: bench}
  objectives: {rto: 1h, rpo: 1h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: "http://127.0.0.1:1", bucket: bench-bucket, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /nonexistent/kubeconfig}
`

func coldStart(bin string, n int) error {
	dir, err := os.MkdirTemp("", "firedrill-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "cold-start.yaml")
	if err := os.WriteFile(file, []byte(unreachable), 0o644); err != nil {
		return err
	}
	var ds []time.Duration
	for i := 0; i < n; i++ {
		cmd := exec.Command(bin, "run", file, "--state-dir", filepath.Join(dir, "state"))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		var first time.Duration
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if first == 0 && strings.Contains(sc.Text(), "load ...") {
				first = time.Since(start)
			}
		}
		_ = cmd.Wait()
		if first == 0 {
			return fmt.Errorf("no step line from %s", bin)
		}
		ds = append(ds, first)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	fmt.Printf("cold start to first step (%d runs): min %s  median %s  max %s\n", n,
		ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	return nil
}

type report struct {
	DrillID    string    `json:"drill_id"`
	Result     string    `json:"result"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Phases     []struct {
		Name     string  `json:"name"`
		Duration float64 `json:"duration_seconds"`
	} `json:"phases"`
	Restores []struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"restores"`
	Checks []struct {
		Duration float64 `json:"duration_seconds"`
	} `json:"checks"`
	Runbook []struct {
		Duration float64 `json:"duration_seconds"`
	} `json:"runbook"`
}

func overhead(bin, scenario string) error {
	state, err := os.MkdirTemp("", "firedrill-bench-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)
	start := time.Now()
	out, err := exec.Command(bin, "run", scenario, "--state-dir", state, "-o", "json", "--log-level", "warn").Output()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s run %s: %w", bin, scenario, err)
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		return err
	}
	var velero, checks, runbook, protection, cleanup float64
	for _, x := range r.Restores {
		velero += x.End.Sub(x.Start).Seconds()
	}
	for _, c := range r.Checks {
		checks += c.Duration
	}
	for _, s := range r.Runbook {
		runbook += s.Duration
	}
	for _, p := range r.Phases {
		switch p.Name {
		case "protection":
			protection = p.Duration
		case "cleanup":
			cleanup = p.Duration
		}
	}
	total := r.FinishedAt.Sub(r.StartedAt).Seconds()
	fmt.Printf("drill %s: %s; wall %.2fs (process), %.2fs (drill clock)\n", r.DrillID, r.Result, wall.Seconds(), total)
	fmt.Printf("  inside Velero restores %.2fs, checks %.2fs, runbook steps %.2fs\n", velero, checks, runbook)
	fmt.Printf("  protection (S3) %.2fs, cleanup (waits for namespace deletion) %.2fs\n", protection, cleanup)
	fmt.Printf("  overhead = total - restores - checks - runbook = %.2fs; without protection and cleanup: %.2fs\n",
		total-velero-checks-runbook, total-velero-checks-runbook-protection-cleanup)
	return nil
}
