package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/restore"
)

var restoresGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "restores"}

// runWatch measures terminal-phase detection. Velero stamps
// completionTimestamp in whole seconds, so its own timestamps cannot time
// a sub-second delay. Instead the bench plays Velero's part: it creates a
// Restore in a namespace no Velero server watches, starts firedrill's
// watch (restore.WaitRestore), and writes status.phase=Completed itself,
// noting the time just before the write (t0) and when the write returned
// (t1). Detection latency is the watch's arrival time minus t0: an upper
// bound on "within N ms of Velero writing it" (the write commits between t0
// and t1). Both clocks are this process's monotonic clock.
func runWatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	n := fs.Int("n", 100, "samples")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := kube.New(os.Getenv("FIREDRILL_LAB_SCRATCH_KUBECONFIG"), "")
	if err != nil {
		return err
	}
	ns := fmt.Sprintf("fd-bench-watch-%d", time.Now().Unix())
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	defer func() {
		if err := c.Kube.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			fmt.Fprintln(os.Stderr, "delete namespace:", err)
		}
	}()
	res := c.Dynamic.Resource(restoresGVR).Namespace(ns)
	var detect, write []time.Duration
	for i := range *n {
		name := fmt.Sprintf("r-%d", i)
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "velero.io/v1", "kind": "Restore",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"backupName": "none"},
		}}
		if _, err := res.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return err
		}
		type out struct {
			seen time.Time
			err  error
		}
		done := make(chan out, 1)
		go func() {
			_, seen, err := restore.WaitRestore(ctx, c.Dynamic, ns, name, restore.Options{})
			done <- out{seen, err}
		}()
		// Let the watch be established, as it is while a real restore runs.
		time.Sleep(50 * time.Millisecond)
		patch, _ := json.Marshal(map[string]any{"status": map[string]any{"phase": "InProgress"}})
		if _, err := res.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		patch, _ = json.Marshal(map[string]any{"status": map[string]any{"phase": "Completed",
			"completionTimestamp": time.Now().UTC().Format(time.RFC3339)}})
		t0 := time.Now()
		if _, err := res.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return err
		}
		t1 := time.Now()
		o := <-done
		if o.err != nil {
			return o.err
		}
		detect = append(detect, o.seen.Sub(t0))
		write = append(write, t1.Sub(t0))
	}
	p := func(ds []time.Duration, q float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[min(len(s)-1, int(q*float64(len(s))))]
	}
	fmt.Printf("samples %d\n", *n)
	fmt.Printf("detection (write start -> watch event): p50 %v  p95 %v  max %v\n", p(detect, .5), p(detect, .95), p(detect, 1))
	fmt.Printf("write round trip (for reference):      p50 %v  p95 %v  max %v\n", p(write, .5), p(write, .95), p(write, 1))
	return nil
}
