package restore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// Appearance is the first time the order watch saw an object.
type Appearance struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Seen is firedrill's clock when the watch event arrived.
	Seen time.Time `json:"seen"`
	// ResourceVersion is the object's at creation: on etcd-backed API
	// servers a number that grows with every write, so it orders creations
	// across kinds exactly.
	ResourceVersion string `json:"resource_version"`
	// Created is the creationTimestamp (whole seconds), the last resort.
	Created time.Time `json:"created"`
}

// KindNetworkPolicy and the workload kinds the order proof watches.
const KindNetworkPolicy = "NetworkPolicy"

var workloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

// orderWatch records the order in which NetworkPolicies and workloads
// appear in a set of namespaces.
type orderWatch struct {
	mu   sync.Mutex
	seen map[string]Appearance // kind/ns/name -> first appearance
	nss  map[string]bool
	now  func() time.Time
	// watchers is each kind's current watch; cancel ends the resumes.
	watchers map[string]watch.Interface
	cancel   context.CancelFunc
	// gaps name the watches that ended without being resumed: what was
	// created after is unseen, so the proof cannot hold.
	gaps []string
	wg   sync.WaitGroup
}

// orderResumeEvery is how often a watch the API server closed is tried
// again (a restarting API server refuses connections for a while).
const orderResumeEvery = time.Second

// startOrderWatch watches NetworkPolicies and workloads in every namespace
// and keeps those of namespaces. Watches are cluster-wide because the
// namespaces do not exist yet when the restore starts.
func startOrderWatch(ctx context.Context, cs kubernetes.Interface, namespaces []string, now func() time.Time) (*orderWatch, error) {
	ctx, cancel := context.WithCancel(ctx)
	ow := &orderWatch{seen: map[string]Appearance{}, nss: map[string]bool{}, now: now, watchers: map[string]watch.Interface{}, cancel: cancel}
	for _, ns := range namespaces {
		ow.nss[ns] = true
	}
	listRV := func(f func(context.Context, metav1.ListOptions) (metav1.ListInterface, error)) func(context.Context, metav1.ListOptions) (string, error) {
		return func(ctx context.Context, o metav1.ListOptions) (string, error) {
			l, err := f(ctx, o)
			if err != nil {
				return "", err
			}
			return l.GetResourceVersion(), nil
		}
	}
	kinds := []orderKind{
		{KindNetworkPolicy, listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.NetworkingV1().NetworkPolicies("").List(ctx, o)
		}), cs.NetworkingV1().NetworkPolicies("").Watch},
		{"Deployment", listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.AppsV1().Deployments("").List(ctx, o)
		}), cs.AppsV1().Deployments("").Watch},
		{"StatefulSet", listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.AppsV1().StatefulSets("").List(ctx, o)
		}), cs.AppsV1().StatefulSets("").Watch},
		{"DaemonSet", listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.AppsV1().DaemonSets("").List(ctx, o)
		}), cs.AppsV1().DaemonSets("").Watch},
		{"Job", listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.BatchV1().Jobs("").List(ctx, o)
		}), cs.BatchV1().Jobs("").Watch},
		{"CronJob", listRV(func(ctx context.Context, o metav1.ListOptions) (metav1.ListInterface, error) {
			return cs.BatchV1().CronJobs("").List(ctx, o)
		}), cs.BatchV1().CronJobs("").Watch},
	}
	for _, k := range kinds {
		// A one-item list gives the resourceVersion to watch from, so only
		// objects created from now on are reported.
		rv, err := k.list(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			ow.stop()
			return nil, fmt.Errorf("list %ss of the target: %w", k.kind, err)
		}
		w, err := k.watch(ctx, metav1.ListOptions{ResourceVersion: rv})
		if err != nil {
			ow.stop()
			return nil, fmt.Errorf("watch %ss of the target: %w", k.kind, err)
		}
		ow.watchers[k.kind] = w
		ow.wg.Add(1)
		go ow.follow(ctx, k, w, rv)
	}
	return ow, nil
}

// orderKind is one kind the order watch lists and watches.
type orderKind struct {
	kind  string
	list  func(context.Context, metav1.ListOptions) (string, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

// follow records what watch w of k sees. When the API server closes the
// watch or breaks it off (a restart, its watch timeout), follow resumes
// it from the last resourceVersion seen, trying every orderResumeEvery
// until the server answers or ctx ends, so no creation is missed. A
// resourceVersion the server no longer has (410 Gone) cannot be resumed:
// that is a gap. Once ctx ends (stop), what the closing watch says is
// not the server's.
func (ow *orderWatch) follow(ctx context.Context, k orderKind, w watch.Interface, rv string) {
	defer ow.wg.Done()
	for {
	events:
		for ev := range w.ResultChan() {
			if ctx.Err() != nil {
				return // stopped
			}
			if ev.Type == watch.Error {
				err := apierrors.FromObject(ev.Object)
				if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
					ow.gap(k.kind, err)
					return
				}
				break events // broken off: resume
			}
			m, err := meta.Accessor(ev.Object)
			if err != nil {
				continue
			}
			if v := m.GetResourceVersion(); v != "" {
				rv = v
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			ow.record(Appearance{Kind: k.kind, Namespace: m.GetNamespace(), Name: m.GetName(), Seen: ow.now(),
				ResourceVersion: m.GetResourceVersion(), Created: m.GetCreationTimestamp().Time})
		}
		w.Stop()
		for {
			if ctx.Err() != nil {
				return // stopped
			}
			next, err := k.watch(ctx, metav1.ListOptions{ResourceVersion: rv})
			if err == nil {
				ow.mu.Lock()
				ow.watchers[k.kind] = next
				ow.mu.Unlock()
				w = next
				break
			}
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				ow.gap(k.kind, err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(orderResumeEvery):
			}
		}
	}
}

// gap records that the watch of kind ended for err and was not resumed.
func (ow *orderWatch) gap(kind string, err error) {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	ow.gaps = append(ow.gaps, fmt.Sprintf("the watch of %ss ended and could not be resumed (%v): what was created after it is unseen", kind, err))
}

func (ow *orderWatch) record(a Appearance) {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if !ow.nss[a.Namespace] {
		return
	}
	key := a.Kind + "/" + a.Namespace + "/" + a.Name
	if _, ok := ow.seen[key]; !ok {
		ow.seen[key] = a
	}
}

// stop ends the watches and returns what they saw, in order of
// appearance, and the gaps (watches that ended unresumed).
func (ow *orderWatch) stop() ([]Appearance, []string) {
	ow.cancel()
	ow.mu.Lock()
	for _, w := range ow.watchers {
		w.Stop()
	}
	ow.mu.Unlock()
	ow.wg.Wait()
	ow.mu.Lock()
	defer ow.mu.Unlock()
	out := make([]Appearance, 0, len(ow.seen))
	for _, a := range ow.seen {
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out, ow.gaps
}

// before orders two appearances: by resourceVersion when both are numbers
// (the creation order etcd assigned), else by when the watch saw them,
// else by creationTimestamp.
func before(a, b Appearance) bool {
	ra, ea := strconv.ParseUint(a.ResourceVersion, 10, 64)
	rb, eb := strconv.ParseUint(b.ResourceVersion, 10, 64)
	if ea == nil && eb == nil {
		return ra < rb
	}
	if !a.Seen.IsZero() && !b.Seen.IsZero() {
		return a.Seen.Before(b.Seen)
	}
	return a.Created.Before(b.Created)
}

// OrderProof says whether every restored workload appeared after a
// NetworkPolicy of its namespace.
type OrderProof struct {
	// Verified is true when every workload came after a NetworkPolicy of its
	// namespace (and at least one object was seen).
	Verified bool `json:"verified"`
	// Method says how appearances were ordered.
	Method string `json:"method"`
	// Violations name the workloads that came first, or that have no
	// NetworkPolicy in their namespace.
	Violations []string `json:"violations,omitempty"`
	// Appearances are what the watch saw, in order.
	Appearances []Appearance `json:"appearances"`
}

// VerifyOrder checks appearances: every workload must come after the first
// NetworkPolicy of its namespace.
func VerifyOrder(appearances []Appearance) OrderProof {
	as := slices.Clone(appearances)
	sort.SliceStable(as, func(i, j int) bool { return before(as[i], as[j]) })
	p := OrderProof{Appearances: as, Method: "resourceVersion"}
	firstNP := map[string]Appearance{}
	for _, a := range as {
		if _, err := strconv.ParseUint(a.ResourceVersion, 10, 64); err != nil {
			p.Method = "watch arrival time"
		}
		if a.Kind == KindNetworkPolicy {
			if _, ok := firstNP[a.Namespace]; !ok {
				firstNP[a.Namespace] = a
			}
		}
	}
	for _, a := range as {
		if a.Kind == KindNetworkPolicy {
			continue
		}
		np, ok := firstNP[a.Namespace]
		switch {
		case !ok:
			p.Violations = append(p.Violations, fmt.Sprintf("%s %s/%s: no NetworkPolicy in its namespace", a.Kind, a.Namespace, a.Name))
		case !before(np, a):
			p.Violations = append(p.Violations, fmt.Sprintf("%s %s/%s appeared before NetworkPolicy %s", a.Kind, a.Namespace, a.Name, np.Name))
		}
	}
	p.Verified = len(as) > 0 && len(p.Violations) == 0
	if len(as) == 0 {
		p.Violations = append(p.Violations, "no NetworkPolicy and no workload appeared in the restored namespaces")
	}
	return p
}

// withGaps is p for a watch that had gaps: each is a violation, and the
// order is not proven (a workload created in a gap was never seen).
func (p OrderProof) withGaps(gaps []string) OrderProof {
	if len(gaps) > 0 {
		p.Violations = append(p.Violations, gaps...)
		p.Verified = false
	}
	return p
}
