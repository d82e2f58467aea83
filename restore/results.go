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

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	watchtools "k8s.io/client-go/tools/watch"
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
	return fetchDownload(ctx, dyn, client, veleroNS, velerov1.DownloadTargetKindRestoreResults, restore, restoreName(restore, "results"), drillID)
}

// fetchBackupResults gets a backup's warnings and errors, item by item
// (<prefix>/backups/<name>/<name>-results.gz, the same shape as a
// restore's), as `velero backup describe --details` does.
func fetchBackupResults(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS, backup, drillID string) (Results, error) {
	return fetchDownload(ctx, dyn, client, veleroNS, velerov1.DownloadTargetKindBackupResults, backup, restoreName(drillID, "backup-results"), drillID)
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
func fetchDownload(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS string, kind velerov1.DownloadTargetKind,
	object, name, drillID string) (Results, error) {
	var res Results
	err := download(ctx, dyn, client, veleroNS, kind, object, name, drillID, func(r io.Reader) error {
		var err error
		res, err = ParseResults(r)
		return err
	})
	return res, err
}

// download gets the object of kind of a Velero Restore or Backup through
// a DownloadRequest named name (see fetchDownload) and hands its body to
// read.
func download(ctx context.Context, dyn dynamic.Interface, client *http.Client, veleroNS string, kind velerov1.DownloadTargetKind,
	object, name, drillID string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res := dyn.Resource(downloadRequestsGVR).Namespace(veleroNS)
	dr, err := toObject(&velerov1.DownloadRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: veleroNS, Labels: drillLabels(drillID)},
		Spec:       velerov1.DownloadRequestSpec{Target: velerov1.DownloadTarget{Kind: kind, Name: object}},
	}, "DownloadRequest")
	if err != nil {
		return err
	}
	created, err := res.Create(ctx, dr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create DownloadRequest for %s of %s: %w", kind, object, err)
	}
	defer func() {
		_ = res.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{})
	}()
	url, err := waitDownloadURL(ctx, dyn, veleroNS, name, created.GetResourceVersion())
	if err != nil {
		return fmt.Errorf("%s of %s: %w", kind, object, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL is pre-signed: never print it.
		return fmt.Errorf("download %s of %s: %w", kind, object, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s of %s: HTTP %s", kind, object, resp.Status)
	}
	return read(resp.Body)
}

// waitDownloadURL waits with a watch of DownloadRequest name from its
// creation's resourceVersion rv until Velero has processed it, and returns
// its pre-signed URL. The watch is client-go's RetryWatcher, which resumes
// a dropped watch from the last resourceVersion; it needs no list, so the
// drill's RBAC need not let it list other DownloadRequests' URLs.
func waitDownloadURL(ctx context.Context, dyn dynamic.Interface, ns, name, rv string) (string, error) {
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, rv, listWatchOne(dyn.Resource(downloadRequestsGVR).Namespace(ns), name))
	if err != nil {
		return "", fmt.Errorf("watch DownloadRequest %s: %w", name, err)
	}
	var url string
	_, err = watchtools.UntilWithoutRetry(ctx, rw, func(ev watch.Event) (bool, error) {
		switch ev.Type {
		case watch.Error:
			// A refusal (RBAC) or an expired resourceVersion.
			return false, fmt.Errorf("watch DownloadRequest %s: %w", name, apierrors.FromObject(ev.Object))
		case watch.Deleted:
			return false, fmt.Errorf("DownloadRequest %s was deleted before Velero processed it", name)
		case watch.Added, watch.Modified:
		default:
			return false, nil
		}
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok || u.GetName() != name {
			return false, nil
		}
		var dr velerov1.DownloadRequest
		if err := fromObject(u, &dr); err != nil {
			return false, err
		}
		url = dr.Status.DownloadURL
		return url != "" && dr.Status.Phase == velerov1.DownloadRequestPhaseProcessed, nil
	})
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("Velero did not process DownloadRequest %s: %w", name, ctx.Err())
	}
	return url, err
}
