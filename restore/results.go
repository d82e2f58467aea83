package restore

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// Messages are Velero's warnings or errors of one restore, as its results
// object holds them.
type Messages struct {
	Velero     []string            `json:"velero,omitempty"`
	Cluster    []string            `json:"cluster,omitempty"`
	Namespaces map[string][]string `json:"namespaces,omitempty"`
}

// Empty reports whether there are no messages.
func (m Messages) Empty() bool {
	return len(m.Velero) == 0 && len(m.Cluster) == 0 && len(m.Namespaces) == 0
}

// Lines renders the messages one per line, "namespace: message".
func (m Messages) Lines() []string {
	var out []string
	for _, s := range m.Velero {
		out = append(out, "velero: "+s)
	}
	for _, s := range m.Cluster {
		out = append(out, "cluster: "+s)
	}
	nss := make([]string, 0, len(m.Namespaces))
	for ns := range m.Namespaces {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		for _, s := range m.Namespaces[ns] {
			out = append(out, ns+": "+s)
		}
	}
	return out
}

// Results are a restore's warnings and errors.
type Results struct {
	Warnings Messages `json:"warnings"`
	Errors   Messages `json:"errors"`
}

// ParseResults reads a restore's results object (gzipped JSON, as Velero
// writes <prefix>/restores/<name>/restore-<name>-results.gz).
func ParseResults(r io.Reader) (Results, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Results{}, fmt.Errorf("read restore results: %w", err)
	}
	defer zr.Close()
	var res Results
	if err := json.NewDecoder(zr).Decode(&res); err != nil {
		return Results{}, fmt.Errorf("parse restore results: %w", err)
	}
	return res, nil
}

// fetchResults gets a restore's results (see fetchDownload).
func fetchResults(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS, restore, drillID string) (Results, error) {
	return fetchDownload(ctx, dyn, client, veleroNS, "RestoreResults", restore, restoreName(restore, "results"), drillID)
}

// fetchBackupResults gets a backup's warnings and errors, item by item
// (<prefix>/backups/<name>/<name>-results.gz, the same shape as a
// restore's), as `velero backup describe --details` does.
func fetchBackupResults(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS, backup, drillID string) (Results, error) {
	return fetchDownload(ctx, dyn, client, veleroNS, "BackupResults", backup, restoreName(drillID, "backup-results"), drillID)
}

// fetchDownload gets the results object of kind (RestoreResults or
// BackupResults) of the Velero Restore or Backup object through a Velero
// DownloadRequest named name:
// Velero answers with a short-lived pre-signed URL to the results object.
// This is what `velero restore describe --details` does. It is chosen over
// reading the bucket directly because it works for whichever location the
// restore used (primary or the copy's) with the credentials Velero already
// has: firedrill needs no bucket credentials and no knowledge of the
// location's layout. The DownloadRequest is deleted afterwards.
func fetchDownload(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS, kind, object, name, drillID string) (Results, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res := dyn.Resource(downloadRequestsGVR).Namespace(veleroNS)
	dr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1",
		"kind":       "DownloadRequest",
		"metadata":   map[string]any{"name": name, "namespace": veleroNS, "labels": drillLabels(drillID)},
		"spec":       map[string]any{"target": map[string]any{"kind": kind, "name": object}},
	}}
	created, err := res.Create(ctx, dr, metav1.CreateOptions{})
	if err != nil {
		return Results{}, fmt.Errorf("create DownloadRequest for %s of %s: %w", kind, object, err)
	}
	defer func() {
		_ = res.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{})
	}()
	url, err := waitDownloadURL(ctx, dyn, veleroNS, name, created.GetResourceVersion())
	if err != nil {
		return Results{}, fmt.Errorf("%s of %s: %w", kind, object, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Results{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL is pre-signed: never print it.
		return Results{}, fmt.Errorf("download %s of %s: %w", kind, object, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Results{}, fmt.Errorf("download %s of %s: HTTP %s", kind, object, resp.Status)
	}
	return ParseResults(resp.Body)
}

func waitDownloadURL(ctx context.Context, dyn dynamic.Interface, ns, name, rv string) (string, error) {
	res := dyn.Resource(downloadRequestsGVR).Namespace(ns)
	w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: rv})
	if err != nil {
		return "", fmt.Errorf("watch DownloadRequest %s: %w", name, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("Velero did not process DownloadRequest %s: %w", name, ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok {
				return "", fmt.Errorf("watch of DownloadRequest %s closed", name)
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			o, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			if url := str(o, "status", "downloadURL"); url != "" && str(o, "status", "phase") == "Processed" {
				return url, nil
			}
		}
	}
}
