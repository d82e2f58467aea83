package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

const rssChild = "rss-child"

// rssReport is what the child process measures.
type rssReport struct {
	Objects     int               `json:"objects"`
	Seconds     float64           `json:"duration_seconds"`
	VmHWMKiB    int               `json:"vm_hwm_kib"`
	HeapPeakMiB float64           `json:"heap_peak_mib"` // peak of runtime/metrics total heap, sampled
	Comparison  backup.Comparison `json:"-"`
	Counts      map[string]int    `json:"counts"`
}

// runRSS runs the comparison in a child process, so the peak resident set
// it reports (VmHWM) is the comparison's alone.
func runRSS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "objects on each side")
	conc := fs.Int("concurrency", 16, "comparison concurrency")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, rssChild, "-n", strconv.Itoa(*n), "-concurrency", strconv.Itoa(*conc))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	var r rssReport
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("child output %q: %w", out, err)
	}
	fmt.Printf("1. streaming comparison through the fake store (checksum mode, concurrency %d)\n", *conc)
	fmt.Printf("   objects per side   %d\n", r.Objects)
	fmt.Printf("   outcome            %v\n", r.Counts)
	fmt.Printf("   wall time          %.1f s\n", r.Seconds)
	fmt.Printf("   peak RSS (VmHWM)   %.1f MiB   (goal <= 64 MiB)\n", float64(r.VmHWMKiB)/1024)
	fmt.Printf("   peak Go heap       %.1f MiB\n", r.HeapPeakMiB)
	return nil
}

func rssChildMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(rssChild, flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "")
	conc := fs.Int("concurrency", 16, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// One object in a thousand differs on the copy, and the copy holds
	// ten more: the comparison keeps a capped list of them.
	gen := func(copy bool) func(int) objectstore.ObjectInfo {
		return func(i int) objectstore.ObjectInfo {
			key := fmt.Sprintf("lab/kopia/shop/p%010d", i)
			sum := md5.Sum([]byte(key))
			if copy && i%1000 == 7 {
				sum[0] ^= 0xff
			}
			return objectstore.ObjectInfo{Key: key, Size: 4096, ETag: hex.EncodeToString(sum[:]), LastModified: time.Unix(1_700_000_000, 0)}
		}
	}
	src, dst := memstore.New(), memstore.New()
	src.AddGenerated("src", *n, gen(false))
	dst.AddGenerated("dst", *n+10, gen(true))

	stop := make(chan struct{})
	peak := make(chan float64)
	go samplePeakHeap(stop, peak)
	start := time.Now()
	c, err := backup.Compare(ctx, backup.Side{Store: src, Bucket: "src", Prefix: "lab/"}, backup.Side{Store: dst, Bucket: "dst", Prefix: "lab/"},
		backup.CompareOptions{Mode: backup.ModeChecksum, Concurrency: *conc})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	close(stop)
	r := rssReport{Objects: *n, Seconds: elapsed.Seconds(), HeapPeakMiB: <-peak,
		Counts: map[string]int{"same": c.Same, "missing": c.Missing, "extra": c.Extra, "differs": c.Differs, "errors": c.Errors}}
	if r.VmHWMKiB, err = vmHWM(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func samplePeakHeap(stop <-chan struct{}, out chan<- float64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > peak {
			peak = v
		}
		select {
		case <-stop:
			out <- float64(peak) / (1 << 20)
			return
		case <-t.C:
		}
	}
}

// vmHWM is the process's peak resident set size, in KiB.
func vmHWM() (int, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
