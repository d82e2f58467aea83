package restore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// restoreWatches hands the test each watch of Restores the code opens, once
// it is open: the fake API server, unlike a real one, does not replay from
// a resourceVersion, so a test changes the Restore only while a watch is open.
func restoreWatches(dyn *dynamicfake.FakeDynamicClient) <-chan watch.Interface {
	opened := make(chan watch.Interface, 10)
	dyn.PrependWatchReactor("restores", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := dyn.Tracker().Watch(restoresGVR, a.GetNamespace())
		if err == nil {
			opened <- w
		}
		return true, w, err
	})
	return opened
}

// setRestoreStatus writes st as the Restore's status, as Velero does.
func setRestoreStatus(ctx context.Context, t *testing.T, dyn *dynamicfake.FakeDynamicClient, name string, st velerov1.RestoreStatus) {
	t.Helper()
	res := dyn.Resource(restoresGVR).Namespace("velero")
	cur, err := res.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	var r velerov1.Restore
	require.NoError(t, fromObject(cur, &r))
	r.Status = st
	u, err := toObject(&r, "Restore")
	require.NoError(t, err)
	_, err = res.Update(ctx, u, metav1.UpdateOptions{})
	require.NoError(t, err)
}

func TestWatchRestore_FollowsPhasesToTerminal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	dyn := fakeDynamic(PlannedRestore{Name: "fd-1-workloads", Backup: "b"}.object("velero", "fd-1"))
	watches := restoreWatches(dyn)

	var events []RestoreProgress // read after done
	type out struct {
		st  restoreStatus
		err error
	}
	done := make(chan out, 1)
	go func() {
		st, err := watchRestore(ctx, dyn, "velero", "fd-1-workloads", time.Now, func(p RestoreProgress) { events = append(events, p) }, "2/2 workloads")
		done <- out{st, err}
	}()
	<-watches
	setRestoreStatus(ctx, t, dyn, "fd-1-workloads", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress,
		Progress: &velerov1.RestoreProgress{ItemsRestored: 4, TotalItems: 10}, StartTimestamp: ptr.To(metav1.NewTime(started))})
	setRestoreStatus(ctx, t, dyn, "fd-1-workloads", velerov1.RestoreStatus{Phase: velerov1.RestorePhasePartiallyFailed,
		Progress: &velerov1.RestoreProgress{ItemsRestored: 10, TotalItems: 10}, Warnings: 2, Errors: 1, FailureReason: "",
		StartTimestamp: ptr.To(metav1.NewTime(started)), CompletionTimestamp: ptr.To(metav1.NewTime(started.Add(3 * time.Second)))})
	var o out
	select {
	case o = <-done:
	case <-ctx.Done():
		t.Fatal("watch did not see the terminal phase")
	}
	require.NoError(t, o.err)
	require.NotNil(t, o.st.restore)
	assert.False(t, o.st.seen.IsZero())
	assert.Equal(t, []RestoreProgress{
		{Label: "2/2 workloads", Phase: velerov1.RestorePhaseNew},
		{Label: "2/2 workloads", Phase: velerov1.RestorePhaseInProgress, ItemsRestored: 4, TotalItems: 10},
		{Label: "2/2 workloads", Phase: velerov1.RestorePhasePartiallyFailed, ItemsRestored: 10, TotalItems: 10},
	}, events, "each change once, in order")
	require.Len(t, events, 3)
	assert.False(t, events[1].Done())
	assert.True(t, events[2].Done(), "the terminal phase is the last change")
	assert.Equal(t, "restore 2/2 workloads: InProgress, 4/10 items restored", events[1].String())

	// The phase's result is read from Velero's fields.
	ph := PhaseResult{Started: started, Finished: started.Add(4 * time.Second)}
	fillPhase(&ph, o.st.restore)
	assert.Equal(t, PhaseResult{Status: velerov1.RestorePhasePartiallyFailed, ItemsRestored: 10, TotalItems: 10, Warnings: 2, Errors: 1,
		Started: started, Finished: started.Add(4 * time.Second), DurationSeconds: 4,
		VeleroStarted: started, VeleroCompleted: started.Add(3 * time.Second)}, ph)
}

// TestWatchRestore_ResumesAfterDroppedWatch: the API server closes a watch
// (its timeout, a restart); the watch resumes and still sees the end.
func TestWatchRestore_ResumesAfterDroppedWatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dyn := fakeDynamic(PlannedRestore{Name: "fd-1-all", Backup: "b"}.object("velero", "fd-1"))
	watches := restoreWatches(dyn)
	var progress bytes.Buffer
	type out struct {
		st  restoreStatus
		err error
	}
	done := make(chan out, 1)
	go func() {
		st, err := watchRestore(ctx, dyn, "velero", "fd-1-all", time.Now, Options{Progress: &progress}.withDefaults().RestoreProgress, "1/1 all")
		done <- out{st, err}
	}()
	first := <-watches
	setRestoreStatus(ctx, t, dyn, "fd-1-all", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress,
		Progress: &velerov1.RestoreProgress{ItemsRestored: 1, TotalItems: 3}})
	first.Stop()
	select {
	case <-watches:
	case o := <-done:
		t.Fatalf("the watch ended when the server closed it: %+v", o)
	case <-ctx.Done():
		t.Fatal("the watch was not resumed")
	}
	setRestoreStatus(ctx, t, dyn, "fd-1-all", velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted,
		Progress: &velerov1.RestoreProgress{ItemsRestored: 3, TotalItems: 3}})
	var o out
	select {
	case o = <-done:
	case <-ctx.Done():
		t.Fatal("the resumed watch did not see the terminal phase")
	}
	require.NoError(t, o.err)
	assert.Equal(t, velerov1.RestorePhaseCompleted, o.st.restore.Status.Phase)
	assert.Contains(t, progress.String(), "restore 1/1 all: InProgress, 1/3 items restored\n")
	assert.Contains(t, progress.String(), "restore 1/1 all: Completed, 3/3 items restored\n")
}

func TestWatchRestore_MissingOrDeleted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dyn := fakeDynamic(PlannedRestore{Name: "fd-1-all", Backup: "b"}.object("velero", "fd-1"))
	watches := restoreWatches(dyn)

	_, err := watchRestore(ctx, dyn, "velero", "fd-1-none", time.Now, Options{}.withDefaults().RestoreProgress, "x")
	assert.True(t, apierrors.IsNotFound(err), "a Restore that does not exist: %v", err)
	<-watches

	done := make(chan error, 1)
	lines := lineWriter(make(chan string, 10))
	go func() {
		_, err := watchRestore(ctx, dyn, "velero", "fd-1-all", time.Now, Options{Progress: lines}.withDefaults().RestoreProgress, "x")
		done <- err
	}()
	<-watches
	assert.Equal(t, "restore x: New, 0/0 items restored\n", <-lines, "the watch has the Restore")
	require.NoError(t, dyn.Resource(restoresGVR).Namespace("velero").Delete(ctx, "fd-1-all", metav1.DeleteOptions{}))
	assert.EqualError(t, <-done, "restore was deleted while it ran")
}

// lineWriter hands each write to the test.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// TestWatchRestore_RefusedEndsTheWait: a watch the API server refuses for
// good (RBAC) is the error, not a wait until the phase times out.
func TestWatchRestore_RefusedEndsTheWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dyn := fakeDynamic(PlannedRestore{Name: "fd-1-all", Backup: "b"}.object("velero", "fd-1"))
	dyn.PrependWatchReactor("restores", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(restoresGVR.GroupResource(), "", errors.New(`cannot watch resource "restores"`))
	})
	_, err := watchRestore(ctx, dyn, "velero", "fd-1-all", time.Now, func(RestoreProgress) {}, "x")
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.NoError(t, ctx.Err(), "ended by the refusal")
}
