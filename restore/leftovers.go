package restore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Leftovers is what a drill that did not clean up after itself (its
// process died, or its policy kept what it restored) left in the target,
// each item proven the drill's own, and what is in the way but is not
// (NotOwned), which is never deleted. LeftoversOf finds them,
// RemoveLeftovers removes them.
type Leftovers struct {
	DrillID string `json:"drill_id"`
	// Restores are the Velero Restores labelled firedrill.dev/drill-id.
	Restores []string `json:"restores"`
	// Namespaces are those Velero's record of one of the Restores (its
	// restore resource list, what `velero restore describe --details`
	// prints) says the Restore created, and whose creation time lies
	// within the Restore's run: a namespace deleted and created again
	// since is someone else's.
	Namespaces []string `json:"namespaces"`
	// CRDs are the CustomResourceDefinitions labelled by one of the
	// Restores (velero.io/restore-name): Velero labels only what a Restore
	// creates.
	CRDs []string `json:"custom_resource_definitions"`
	// Locations are the BackupStorageLocations labelled with the drill id
	// (a drill restoring from a copy creates one), Secrets their
	// credentials Secrets.
	Locations []string `json:"backup_storage_locations"`
	Secrets   []string `json:"secrets"`
	// Backups are the Backups the drill pointed at its copy's location
	// (annotation firedrill.dev/drill-id), to be put back on their own.
	Backups []string `json:"backups"`
	// Pending are the Restores still running in Velero: what they create
	// is known when they end.
	Pending []string `json:"pending_restores,omitempty"`
	// NotOwned are in the way but not proven the drill's: named, with the
	// command a person would run, never deleted.
	NotOwned []NotOwned `json:"not_owned"`

	patches     []backupPatch
	crdRestores []string
}

// NotOwned is an object firedrill will not delete, and why.
type NotOwned struct {
	// Kind and Name (and Namespace, for a namespaced object) name it.
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Why       string `json:"why"`
	// Command is what a person who knows it is not needed would run.
	Command string `json:"command"`
}

// Empty reports whether nothing of the drill is left and nothing is in
// the way.
func (l *Leftovers) Empty() bool {
	return len(l.Restores)+len(l.Namespaces)+len(l.CRDs)+len(l.Locations)+len(l.Secrets)+len(l.Backups)+len(l.NotOwned) == 0
}

// Items lists what RemoveLeftovers deletes, as kind/name.
func (l *Leftovers) Items() []string {
	var out []string
	for _, n := range l.Namespaces {
		out = append(out, "namespace/"+n)
	}
	for _, n := range l.Restores {
		out = append(out, "restore/"+n)
	}
	for _, n := range l.CRDs {
		out = append(out, "customresourcedefinition/"+n)
	}
	for _, n := range l.Locations {
		out = append(out, "backupstoragelocation/"+n)
	}
	for _, n := range l.Secrets {
		out = append(out, "secret/"+n)
	}
	for _, p := range l.patches {
		out = append(out, fmt.Sprintf("backup/%s (back to storage location %s)", p.backup, p.location))
	}
	return out
}

// LeftoverOptions are how LeftoversOf looks.
type LeftoverOptions struct {
	// Wait bounds the wait for a Restore of the drill that Velero is still
	// running (Velero goes on after firedrill dies) to end: Velero records
	// what a Restore created when it ends. Zero does not wait: the
	// Restore is Pending and its namespaces are NotOwned until it ends.
	Wait time.Duration
	// Namespaces are namespaces the caller needs free (the scenario's
	// target namespaces): one that exists and is not proven the drill's is
	// NotOwned.
	Namespaces []string
	// SecretNames are credentials Secrets the drill may have created
	// before it died, without a location yet (CopySecretName of the
	// scenario's copy location): each is the drill's when labelled with
	// its id.
	SecretNames []string
	// HTTPClient downloads Velero's records; a 30s-timeout client when nil.
	HTTPClient *http.Client
	// ResourceList reads Velero's record of what Restore name created
	// (kind "v1/Namespace" -> ["shop(created)", ...]); nil reads it
	// through a DownloadRequest, as `velero restore describe --details`.
	ResourceList func(ctx context.Context, name string) (map[string][]string, error)
}

// LeftoversOf finds what drill drillID left in target (Velero in
// namespace veleroNS). It only reads (and creates DownloadRequests, which
// it deletes). The error is one of reading the cluster; what cannot be
// proven is NotOwned, not an error.
func LeftoversOf(ctx context.Context, t Target, veleroNS, drillID string, opts LeftoverOptions) (*Leftovers, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.ResourceList == nil {
		opts.ResourceList = func(ctx context.Context, name string) (map[string][]string, error) {
			return fetchResourceList(ctx, t, opts.HTTPClient, veleroNS, name, drillID)
		}
	}
	l := &Leftovers{DrillID: drillID, Restores: []string{}, Namespaces: []string{}, CRDs: []string{}, Locations: []string{},
		Secrets: []string{}, Backups: []string{}, NotOwned: []NotOwned{}}
	sel := metav1.ListOptions{LabelSelector: LabelDrillID + "=" + drillID}
	list, err := t.Dynamic.Resource(restoresGVR).Namespace(veleroNS).List(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("list the Restores of drill %s in namespace %s: %w", drillID, veleroNS, err)
	}
	// Each namespace a Restore of the drill aims at, and why it is or is
	// not proven the drill's.
	owned := map[string]bool{}
	why := map[string]string{}
	for _, u := range list.Items {
		var r velerov1.Restore
		if err := fromObject(&u, &r); err != nil {
			return nil, err
		}
		l.Restores = append(l.Restores, r.Name)
		if r.Spec.IncludeClusterResources != nil && *r.Spec.IncludeClusterResources {
			l.crdRestores = append(l.crdRestores, r.Name)
		}
		targets := restoreTargets(&r)
		if !terminal(r.Status.Phase) && opts.Wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, opts.Wait)
			st, err := watchRestore(wctx, t.Dynamic, veleroNS, r.Name, time.Now, func(RestoreProgress) {}, r.Name)
			cancel()
			if err == nil {
				r = *st.restore
			}
		}
		if !terminal(r.Status.Phase) {
			l.Pending = append(l.Pending, r.Name)
			for _, ns := range targets {
				why[ns] = fmt.Sprintf("Restore %s is %s: Velero records what it created when it ends; run the cleanup again then", r.Name, phaseOrNew(r.Status.Phase))
			}
			continue
		}
		created, err := opts.ResourceList(ctx, r.Name)
		if err != nil {
			for _, ns := range targets {
				why[ns] = fmt.Sprintf("Velero's record of what Restore %s created could not be read: %v", r.Name, err)
			}
			continue
		}
		for _, ns := range createdNamespaces(created) {
			targets = appendNew(targets, ns)
			got, err := t.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				owned[ns] = false
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read namespace %s of the target: %w", ns, err)
			}
			if createdBy(got, &r) {
				owned[ns] = true
			} else if !owned[ns] {
				why[ns] = fmt.Sprintf("Restore %s created a namespace %s, but this one was created at %s, outside that Restore's run: someone made it again",
					r.Name, ns, got.CreationTimestamp.UTC().Format(time.RFC3339))
			}
		}
		for _, ns := range targets {
			if _, seen := why[ns]; !seen && !owned[ns] {
				why[ns] = fmt.Sprintf("Velero's record of Restore %s does not say it created namespace %s: it existed before the drill", r.Name, ns)
			}
		}
	}
	for ns, mine := range owned {
		if mine {
			l.Namespaces = append(l.Namespaces, ns)
		}
	}
	// The namespaces in the way: those the Restores aimed at and those
	// the caller needs, when they exist and are not the drill's.
	candidates := slices.Sorted(maps.Keys(why))
	for _, ns := range opts.Namespaces {
		if _, seen := why[ns]; !seen {
			why[ns] = "no Restore of drill " + drillID + " created it"
			candidates = append(candidates, ns)
		}
	}
	for _, ns := range candidates {
		if owned[ns] {
			continue
		}
		if _, err := t.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("read namespace %s of the target: %w", ns, err)
		}
		l.NotOwned = append(l.NotOwned, NotOwned{Kind: "Namespace", Name: ns, Why: why[ns], Command: "kubectl delete namespace " + ns})
	}
	if err := l.findCRDs(ctx, t); err != nil {
		return nil, err
	}
	if err := l.findLocations(ctx, t, veleroNS, sel, opts.SecretNames); err != nil {
		return nil, err
	}
	if err := l.findBackups(ctx, t, veleroNS); err != nil {
		return nil, err
	}
	sort.Strings(l.Restores)
	sort.Strings(l.Namespaces)
	sort.Strings(l.Pending)
	return l, nil
}

// restoreTargets are the namespaces Restore r restores into.
func restoreTargets(r *velerov1.Restore) []string {
	var out []string
	for _, ns := range r.Spec.IncludedNamespaces {
		if ns == "*" {
			continue
		}
		if to, ok := r.Spec.NamespaceMapping[ns]; ok {
			ns = to
		}
		out = appendNew(out, ns)
	}
	return out
}

func appendNew(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// createdNamespaces are the namespaces a restore resource list says the
// Restore created: entries "NAME(created)" of kind v1/Namespace (Velero's
// Request.RestoredResourceList, pkg/restore/request.go).
func createdNamespaces(list map[string][]string) []string {
	var out []string
	for _, e := range list["v1/Namespace"] {
		if name, ok := strings.CutSuffix(e, "(created)"); ok {
			out = append(out, name)
		}
	}
	return out
}

// createdBy reports whether ns was created while Restore r ran (times in
// whole seconds, as the API gives them).
func createdBy(ns *corev1.Namespace, r *velerov1.Restore) bool {
	at := ns.CreationTimestamp.Time
	if at.Before(r.CreationTimestamp.Time.Truncate(time.Second)) {
		return false
	}
	return r.Status.CompletionTimestamp == nil || !at.After(r.Status.CompletionTimestamp.Time)
}

func (l *Leftovers) findCRDs(ctx context.Context, t Target) error {
	for _, n := range l.crdRestores {
		list, err := t.Dynamic.Resource(crdsGVR).List(ctx, metav1.ListOptions{LabelSelector: labelRestoreName + "=" + n})
		if err != nil {
			return fmt.Errorf("list the CustomResourceDefinitions restore %s created: %w", n, err)
		}
		for _, u := range list.Items {
			l.CRDs = append(l.CRDs, u.GetName())
		}
	}
	sort.Strings(l.CRDs)
	return nil
}

// findLocations finds the drill's BackupStorageLocations and their
// credentials Secrets: a Secret named by a location the drill created is
// the drill's (it creates the Secret first, and refuses one that exists).
// A Secret of names without a location is the drill's when labelled with
// its id.
func (l *Leftovers) findLocations(ctx context.Context, t Target, veleroNS string, sel metav1.ListOptions, names []string) error {
	list, err := t.Dynamic.Resource(locationsGVR).Namespace(veleroNS).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list the BackupStorageLocations of drill %s: %w", l.DrillID, err)
	}
	for _, u := range list.Items {
		var b velerov1.BackupStorageLocation
		if err := fromObject(&u, &b); err != nil {
			return err
		}
		l.Locations = append(l.Locations, b.Name)
		if c := b.Spec.Credential; c != nil && c.Name == CopySecretName(b.Name) {
			l.Secrets = appendNew(l.Secrets, c.Name)
		}
	}
	for _, n := range names {
		if slices.Contains(l.Secrets, n) {
			continue
		}
		s, err := t.Kube.CoreV1().Secrets(veleroNS).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			// A scheduled drill may delete its Secret, not read it: without
			// its location nothing proves it the drill's.
			continue
		}
		if err != nil {
			return fmt.Errorf("read Secret %s/%s: %w", veleroNS, n, err)
		}
		if s.Labels[LabelDrillID] == l.DrillID {
			l.Secrets = append(l.Secrets, n)
		}
	}
	sort.Strings(l.Locations)
	sort.Strings(l.Secrets)
	return nil
}

// findBackups finds the Backups the drill pointed at its copy's location.
func (l *Leftovers) findBackups(ctx context.Context, t Target, veleroNS string) error {
	if len(l.Locations) == 0 {
		return nil // no copy's location: no Backup was pointed at one
	}
	list, err := t.Dynamic.Resource(backupsGVR).Namespace(veleroNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the Backups in namespace %s: %w", veleroNS, err)
	}
	for _, u := range list.Items {
		a := u.GetAnnotations()
		if a[annotationDrillID] != l.DrillID || a[annotationLocationBefore] == "" {
			continue
		}
		l.Backups = append(l.Backups, u.GetName())
		l.patches = append(l.patches, backupPatch{backup: u.GetName(), location: a[annotationLocationBefore], label: a[annotationLocationLabelBefore]})
	}
	sort.Strings(l.Backups)
	return nil
}

// RemoveLeftovers removes what l proves the drill's, as the drill's own
// cleanup does (see cleanup: Restores end first, namespaces are waited
// for until gone, Backups go back to their location before the copy's
// location goes), within timeout, on a context Ctrl-C does not cancel.
// NotOwned is left alone. It returns what was deleted, as kind/name, and
// the errors joined.
func RemoveLeftovers(ctx context.Context, t Target, veleroNS string, l *Leftovers, timeout time.Duration) ([]string, error) {
	tr := &tracker{namespaces: l.Namespaces, restores: l.Restores, secrets: l.Secrets, locations: l.Locations,
		backupPatches: l.patches, crdRestores: l.crdRestores}
	return cleanup(ctx, t.Kube, t.Dynamic, veleroNS, tr, timeout)
}

// fetchResourceList gets Velero's restore resource list of Restore name
// (<prefix>/restores/<name>/restore-<name>-resource-list.json.gz) through
// a DownloadRequest (see fetchDownload).
func fetchResourceList(ctx context.Context, t Target, client *http.Client, veleroNS, name, drillID string) (map[string][]string, error) {
	var list map[string][]string
	err := download(ctx, t.Dynamic, client, veleroNS, velerov1.DownloadTargetKindRestoreResourceList, name, restoreName(name, "resources"), drillID,
		func(r io.Reader) error {
			var err error
			list, err = ParseResourceList(r)
			return err
		})
	return list, err
}

// ParseResourceList reads a restore resource list (gzipped JSON: kind ->
// ["NAMESPACE/NAME(ACTION)", ...]).
func ParseResourceList(r io.Reader) (map[string][]string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read restore resource list: %w", err)
	}
	defer zr.Close()
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read restore resource list: %w", err)
	}
	var list map[string][]string
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&list); err != nil {
		return nil, fmt.Errorf("parse restore resource list: %w", err)
	}
	return list, nil
}
