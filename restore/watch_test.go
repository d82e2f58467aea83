package restore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestWatchRestore_FollowsPhasesToTerminal(t *testing.T) {
	dyn := fakeDynamic()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj := PlannedRestore{Name: "fd-1-workloads", Backup: "b"}.object("velero", "fd-1")
	res := dyn.Resource(restoresGVR).Namespace("velero")
	_, err := res.Create(ctx, obj, metav1.CreateOptions{})
	require.NoError(t, err)

	var progress bytes.Buffer
	done := make(chan restoreStatus, 1)
	go func() {
		st, err := watchRestore(ctx, dyn, "velero", "fd-1-workloads", "", time.Now, &progress, false, "2/2 workloads")
		assert.NoError(t, err)
		done <- st
	}()
	update := func(phase string, restored int64) {
		cur, err := res.Get(ctx, "fd-1-workloads", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, unstructured.SetNestedField(cur.Object, phase, "status", "phase"))
		require.NoError(t, unstructured.SetNestedField(cur.Object, restored, "status", "progress", "itemsRestored"))
		require.NoError(t, unstructured.SetNestedField(cur.Object, int64(10), "status", "progress", "totalItems"))
		_, err = res.Update(ctx, cur, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	time.Sleep(100 * time.Millisecond) // let the watch start
	update("InProgress", 4)
	update(PhasePartiallyFailed, 10)
	select {
	case st := <-done:
		assert.Equal(t, PhasePartiallyFailed, str(st.obj, "status", "phase"))
		assert.False(t, st.seen.IsZero())
	case <-ctx.Done():
		t.Fatal("watch did not see the terminal phase")
	}
	assert.Contains(t, progress.String(), "restore 2/2 workloads: PartiallyFailed, 10/10 items restored")
}
