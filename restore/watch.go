package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// restoreStatus is what the watch saw last of a Restore.
type restoreStatus struct {
	obj *unstructured.Unstructured
	// seen is firedrill's clock when the terminal event arrived.
	seen time.Time
}

// watchRestore follows Restore name through its phases with a watch until a
// terminal phase, writing progress lines to progress. It returns the last
// object and when (firedrill's clock) the terminal phase was seen. A closed
// watch (API server timeout) is resumed from the last resourceVersion.
func watchRestore(ctx context.Context, dyn dynamic.Interface, ns, name, fromRV string, now func() time.Time,
	progress io.Writer, tty bool, label string) (restoreStatus, error) {
	res := dyn.Resource(restoresGVR).Namespace(ns)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	rv := fromRV
	last := ""
	report := func(o *unstructured.Unstructured) {
		line := fmt.Sprintf("restore %s: %s, %d/%d items restored", label, phaseOrNew(str(o, "status", "phase")),
			num(o, "status", "progress", "itemsRestored"), num(o, "status", "progress", "totalItems"))
		if line == last || progress == nil {
			return
		}
		last = line
		if tty && !terminal(str(o, "status", "phase")) {
			// One line rewritten in place on a terminal; the terminal
			// phase ends it.
			fmt.Fprint(progress, "\r\033[K"+line)
			return
		}
		if tty {
			fmt.Fprint(progress, "\r\033[K")
		}
		fmt.Fprintln(progress, line)
	}
	for {
		// Watching from the creation's resourceVersion delivers every later
		// change, however fast the restore. Without one (a resumed watch
		// whose resourceVersion expired), read the current state first: the
		// restore may have ended meanwhile.
		if rv == "" {
			cur, err := res.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return restoreStatus{}, fmt.Errorf("read restore %s: %w", name, err)
			}
			report(cur)
			if terminal(str(cur, "status", "phase")) {
				return restoreStatus{obj: cur, seen: now()}, nil
			}
			rv = cur.GetResourceVersion()
		}
		w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			return restoreStatus{}, fmt.Errorf("watch restore %s: %w", name, err)
		}
		st, done, err := followRestore(ctx, w, now, report, &rv)
		w.Stop()
		if err != nil || done {
			return st, err
		}
		// The watch closed; resume from where it was.
	}
}

func followRestore(ctx context.Context, w watch.Interface, now func() time.Time, report func(*unstructured.Unstructured),
	rv *string) (restoreStatus, bool, error) {
	for {
		select {
		case <-ctx.Done():
			return restoreStatus{}, true, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return restoreStatus{}, false, nil
			}
			seen := now()
			switch ev.Type {
			case watch.Error:
				// Typically "too old resource version": resume from a fresh read.
				*rv = ""
				return restoreStatus{}, false, nil
			case watch.Deleted:
				return restoreStatus{}, true, errors.New("restore was deleted while it ran")
			}
			o, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			*rv = o.GetResourceVersion()
			if ev.Type == watch.Bookmark {
				continue
			}
			report(o)
			if terminal(str(o, "status", "phase")) {
				return restoreStatus{obj: o, seen: seen}, true, nil
			}
		}
	}
}

func phaseOrNew(p string) string {
	if p == "" {
		return "New"
	}
	return p
}

// WaitRestore follows Velero Restore name in namespace ns with a watch,
// starting after resourceVersion fromRV (empty: from its current state),
// until it reaches a terminal phase. It returns the Restore as last seen
// and firedrill's time (opts.Now) when the terminal event arrived. Progress
// lines go to opts.Progress.
func WaitRestore(ctx context.Context, dyn dynamic.Interface, ns, name, fromRV string, opts Options) (*unstructured.Unstructured, time.Time, error) {
	opts = opts.withDefaults()
	st, err := watchRestore(ctx, dyn, ns, name, fromRV, opts.Now, opts.Progress, opts.ProgressTTY, name)
	return st.obj, st.seen, err
}
