package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// untilObject follows the one object with key (namespace/name, or name of
// a cluster-scoped object) that lw lists and watches, with client-go's
// watchtools.UntilWithSync: an informer lists it, watches from there,
// resumes a dropped watch from the last resourceVersion and lists again
// when that expired (410 Gone), so a change is never missed, only
// intermediate states may be. When the first list holds no such object,
// absent decides (nil: wait for it to appear). Each event of the object
// (Added for the listed state, Modified, Deleted) goes to done until it
// returns true or an error; events of other objects are ignored (a fake
// client ignores field selectors). A list or watch the API server refuses
// for good (forbidden, unauthorized, no such resource, invalid) ends the
// wait with the API's error, where the informer alone would retry until
// ctx ends; anything else (a connection refused) is retried. When ctx ends
// first, ctx's error is returned. client is the client lw calls: a fake
// client supports no watch-list streaming, and the informer must know.
func untilObject(ctx context.Context, client any, lw *cache.ListWatch, objType runtime.Object, key string,
	absent func() (bool, error), done func(watch.Event) (bool, error)) error {
	var pre watchtools.PreconditionFunc
	if absent != nil {
		pre = func(store cache.Store) (bool, error) {
			if _, exists, err := store.GetByKey(key); err != nil || exists {
				return false, err
			}
			return absent()
		}
	}
	return until(ctx, client, lw, objType, pre, func(ev watch.Event) (bool, error) {
		if k, err := cache.MetaNamespaceKeyFunc(ev.Object); err != nil || k != key {
			return false, nil
		}
		return done(ev)
	})
}

// until is watchtools.UntilWithSync over lw, as untilObject describes it,
// for any number of objects: pre sees the store once the first list is in
// (nil: no precondition), then every event goes to cond until it returns
// true or an error. A list or watch the API server refuses for good ends
// the wait with the API's error; when ctx ends first, ctx's error is
// returned.
func until(ctx context.Context, client any, lw *cache.ListWatch, objType runtime.Object,
	pre watchtools.PreconditionFunc, cond watchtools.ConditionFunc) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	refused := func(err error) error {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) ||
			apierrors.IsMethodNotSupported(err) || apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) {
			cancel(err)
		}
		return err
	}
	guarded := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			obj, err := lw.ListWithContextFunc(ctx, o)
			return obj, refused(err)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			w, err := lw.WatchFuncWithContext(ctx, o)
			return w, refused(err)
		},
	}
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(guarded, client), objType, pre, cond)
	if err != nil && ctx.Err() != nil {
		// UntilWithSync says "interrupted" or "unable to sync caches";
		// the cause is the API's refusal or the caller's ctx.
		return context.Cause(ctx)
	}
	return err
}

// listWatchOne lists and watches object name of res only (a field selector
// on metadata.name).
func listWatchOne(res dynamic.ResourceInterface, name string) *cache.ListWatch {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	return listWatch(res, func(o *metav1.ListOptions) { o.FieldSelector = sel })
}

// listWatchLabel lists and watches the objects of res with label key=value.
func listWatchLabel(res dynamic.ResourceInterface, key, value string) *cache.ListWatch {
	sel := labels.Set{key: value}.String()
	return listWatch(res, func(o *metav1.ListOptions) { o.LabelSelector = sel })
}

// listWatch lists and watches res with the options narrowed by selector,
// as client-go's cache.NewFilteredListWatchFromClient does for a REST
// client.
func listWatch(res dynamic.ResourceInterface, selector func(*metav1.ListOptions)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			selector(&o)
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			selector(&o)
			return res.Watch(ctx, o)
		},
	}
}

// restoreStatus is what the watch saw last of a Restore.
type restoreStatus struct {
	restore *velerov1.Restore
	// seen is firedrill's clock when the terminal event arrived.
	seen time.Time
}

// RestoreProgress is what a watched Velero Restore shows at one change
// of its phase or item counts (status.phase, status.progress).
type RestoreProgress struct {
	// Label names the Restore as the drill does ("1/2 network-policies"),
	// or is its name.
	Label         string
	Phase         velerov1.RestorePhase
	ItemsRestored int
	TotalItems    int
}

// Done reports whether Phase is terminal: the Restore's last change.
func (p RestoreProgress) Done() bool { return terminal(p.Phase) }

// String is the progress line: "restore LABEL: PHASE, N/M items restored".
func (p RestoreProgress) String() string {
	return fmt.Sprintf("restore %s: %s, %d/%d items restored", p.Label, phaseOrNew(p.Phase), p.ItemsRestored, p.TotalItems)
}

// watchRestore follows Restore name through its phases until a terminal
// phase (see untilObject: a dropped watch resumes), calling progress at
// each change of phase or count. It returns the Restore as last seen and
// when (firedrill's clock) its terminal phase was seen. A Restore that
// does not exist is an error wrapping the API's NotFound; one deleted
// before it ended, an error.
func watchRestore(ctx context.Context, dyn dynamic.Interface, ns, name string, now func() time.Time,
	progress func(RestoreProgress), label string) (restoreStatus, error) {
	var last *RestoreProgress
	report := func(r *velerov1.Restore) {
		p := RestoreProgress{Label: label, Phase: phaseOrNew(r.Status.Phase)}
		if rp := r.Status.Progress; rp != nil {
			p.ItemsRestored, p.TotalItems = rp.ItemsRestored, rp.TotalItems
		}
		if last != nil && *last == p {
			return
		}
		last = &p
		progress(p)
	}
	var st restoreStatus
	err := untilObject(ctx, dyn, listWatchOne(dyn.Resource(restoresGVR).Namespace(ns), name), &unstructured.Unstructured{}, ns+"/"+name,
		func() (bool, error) {
			return false, fmt.Errorf("read restore %s: %w", name, apierrors.NewNotFound(restoresGVR.GroupResource(), name))
		},
		func(ev watch.Event) (bool, error) {
			seen := now()
			if ev.Type == watch.Deleted {
				return false, errors.New("restore was deleted while it ran")
			}
			var r velerov1.Restore
			if err := fromObject(ev.Object.(*unstructured.Unstructured), &r); err != nil {
				return false, err
			}
			report(&r)
			if !terminal(r.Status.Phase) {
				return false, nil
			}
			st = restoreStatus{restore: &r, seen: seen}
			return true, nil
		})
	return st, err
}

func phaseOrNew(p velerov1.RestorePhase) velerov1.RestorePhase {
	if p == "" {
		return velerov1.RestorePhaseNew
	}
	return p
}

// WaitRestore follows Velero Restore name in namespace ns from its current
// state until it reaches a terminal phase (a dropped watch resumes). It
// returns the Restore as last seen and firedrill's time (opts.Now) when the
// terminal event arrived. Progress goes to opts.RestoreProgress.
func WaitRestore(ctx context.Context, dyn dynamic.Interface, ns, name string, opts Options) (*velerov1.Restore, time.Time, error) {
	opts = opts.withDefaults()
	st, err := watchRestore(ctx, dyn, ns, name, opts.Now, opts.RestoreProgress, name)
	return st.restore, st.seen, err
}
