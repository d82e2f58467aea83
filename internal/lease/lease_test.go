package lease

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

const ns = "velero"

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// held is a Lease of drill id, renewed at renewed.
func held(id string, renewed time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: ns, Annotations: map[string]string{
			AnnotationScenario: "other-scenario", AnnotationHost: "laptop", AnnotationPID: "4242", AnnotationSince: "2026-12-01T11:50:00Z"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr(id), LeaseDurationSeconds: ptr(int32(60)),
			AcquireTime: &metav1.MicroTime{Time: renewed}, RenewTime: &metav1.MicroTime{Time: renewed}, LeaseTransitions: ptr(int32(2))},
	}
}

func lockOf(cs *fake.Clientset, fc *clocktesting.FakeClock, id string, progress *strings.Builder) *Lock {
	l := &Lock{Leases: cs.CoordinationV1(), Namespace: ns, Clock: fc,
		Holder: Holder{DrillID: id, Scenario: "lab-region-loss", Host: "runner", PID: 7}}
	if progress != nil {
		l.Progress = progress
	}
	return l
}

func get(t *testing.T, cs *fake.Clientset) *coordinationv1.Lease {
	t.Helper()
	le, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), DefaultName, metav1.GetOptions{})
	require.NoError(t, err)
	return le
}

// updates signals each update of a Lease once the fake has stored it.
func updates(cs *fake.Clientset) <-chan struct{} {
	ch := make(chan struct{}, 16)
	cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.UpdateAction).GetObject()
		err := cs.Tracker().Update(coordinationv1.SchemeGroupVersion.WithResource("leases"), obj, ns)
		ch <- struct{}{}
		return true, obj, err
	})
	return ch
}

func TestAcquire_CreatesLease(t *testing.T) {
	cs := fake.NewClientset()
	fc := clocktesting.NewFakeClock(t0)
	h, err := lockOf(cs, fc, "fd-1", nil).Acquire(context.Background(), 0)
	require.NoError(t, err)
	defer h.Release(context.Background())

	le := get(t, cs)
	assert.Equal(t, "fd-1", *le.Spec.HolderIdentity)
	assert.Equal(t, int32(60), *le.Spec.LeaseDurationSeconds)
	assert.True(t, le.Spec.RenewTime.Time.Equal(t0))
	assert.Equal(t, map[string]string{AnnotationScenario: "lab-region-loss", AnnotationHost: "runner", AnnotationPID: "7", AnnotationSince: "2026-12-01T12:00:00Z"}, le.Annotations)
	assert.Equal(t, "firedrill", le.Labels[LabelManagedBy])
}

func TestAcquire_RefusesHeldLeaseAtOnce(t *testing.T) {
	other := held("fd-other", t0.Add(-10*time.Second))
	cs := fake.NewClientset(other)
	fc := clocktesting.NewFakeClock(t0)
	_, err := lockOf(cs, fc, "fd-1", nil).Acquire(context.Background(), 0)

	var he *HeldError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, Holder{DrillID: "fd-other", Scenario: "other-scenario", Host: "laptop", PID: 4242, Since: time.Date(2026, 12, 1, 11, 50, 0, 0, time.UTC)}, he.Holder)
	assert.Equal(t, "velero/firedrill-drill", he.Lease)
	assert.Equal(t, time.Duration(0), he.Waited)
	assert.True(t, he.Expires.Equal(t0.Add(50*time.Second)))
	assert.Contains(t, err.Error(), "held by drill fd-other of scenario other-scenario on host laptop (pid 4242), since 2026-12-01T11:50:00Z")
	assert.Equal(t, "fd-other", *get(t, cs).Spec.HolderIdentity, "a refusal writes nothing")
}

func TestAcquire_TakesOverExpiredLease(t *testing.T) {
	for name, renewed := range map[string]time.Time{
		"expired a second ago": t0.Add(-61 * time.Second),
		"expires right now":    t0.Add(-60 * time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			cs := fake.NewClientset(held("fd-dead", renewed))
			fc := clocktesting.NewFakeClock(t0)
			var progress strings.Builder
			h, err := lockOf(cs, fc, "fd-1", &progress).Acquire(context.Background(), 0)
			require.NoError(t, err)
			defer h.Release(context.Background())
			le := get(t, cs)
			assert.Equal(t, "fd-1", *le.Spec.HolderIdentity)
			assert.Equal(t, int32(3), *le.Spec.LeaseTransitions)
			assert.True(t, le.Spec.AcquireTime.Time.Equal(t0))
			assert.Equal(t, "lab-region-loss", le.Annotations[AnnotationScenario])
			assert.Contains(t, progress.String(), "taking over from drill fd-dead")
		})
	}
}

func TestAcquire_RetriesAfterConflict(t *testing.T) {
	cs := fake.NewClientset(held("", t0.Add(-time.Hour)))
	conflicts := 1
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, DefaultName, errors.New("changed"))
		}
		return false, nil, nil
	})
	h, err := lockOf(cs, clocktesting.NewFakeClock(t0), "fd-1", nil).Acquire(context.Background(), 0)
	require.NoError(t, err)
	defer h.Release(context.Background())
	assert.Equal(t, 0, conflicts)
	assert.Equal(t, "fd-1", *get(t, cs).Spec.HolderIdentity)
}

// acquireLater starts Acquire and returns its result channel once it
// waits (its timer is set after its watch is open).
func acquireLater(t *testing.T, l *Lock, fc *clocktesting.FakeClock, wait time.Duration) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		h, err := l.Acquire(context.Background(), wait)
		if err == nil {
			err = h.Release(context.Background())
		}
		done <- err
	}()
	for !fc.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	return done
}

func TestAcquire_WaitsForRelease(t *testing.T) {
	cs := fake.NewClientset(held("fd-other", t0))
	fc := clocktesting.NewFakeClock(t0)
	var progress strings.Builder
	done := acquireLater(t, lockOf(cs, fc, "fd-1", &progress), fc, 10*time.Minute)

	le := get(t, cs)
	le.Spec.HolderIdentity = nil
	_, err := cs.CoordinationV1().Leases(ns).Update(context.Background(), le, metav1.UpdateOptions{})
	require.NoError(t, err)

	require.NoError(t, <-done)
	assert.Contains(t, progress.String(), "waiting for Lease velero/firedrill-drill, held by drill fd-other")
	assert.Contains(t, progress.String(), "holding Lease velero/firedrill-drill")
}

func TestAcquire_WaitsForExpiry(t *testing.T) {
	cs := fake.NewClientset(held("fd-dead", t0.Add(-10*time.Second)))
	fc := clocktesting.NewFakeClock(t0)
	done := acquireLater(t, lockOf(cs, fc, "fd-1", nil), fc, 10*time.Minute)
	fc.Step(50 * time.Second) // the dead drill's renewTime + 60 s
	require.NoError(t, <-done)
}

func TestAcquire_GivesUpAfterWait(t *testing.T) {
	cs := fake.NewClientset(held("fd-other", t0))
	fc := clocktesting.NewFakeClock(t0)
	done := acquireLater(t, lockOf(cs, fc, "fd-1", nil), fc, 30*time.Second)
	fc.Step(30 * time.Second)
	err := <-done
	var he *HeldError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "fd-other", he.Holder.DrillID)
	assert.Equal(t, 30*time.Second, he.Waited)
	assert.Contains(t, err.Error(), "waited 30s for it")
}

func TestHeld_Renews(t *testing.T) {
	cs := fake.NewClientset()
	updated := updates(cs)
	fc := clocktesting.NewFakeClock(t0)
	h, err := lockOf(cs, fc, "fd-1", nil).Acquire(context.Background(), 0)
	require.NoError(t, err)

	fc.Step(20 * time.Second)
	<-updated
	le := get(t, cs)
	assert.True(t, le.Spec.RenewTime.Time.Equal(t0.Add(20*time.Second)), "renewTime %s", le.Spec.RenewTime)
	assert.True(t, le.Spec.AcquireTime.Time.Equal(t0))
	assert.False(t, Free(le, t0.Add(79*time.Second)), "a renewed Lease lasts 60 s from the renewal")

	require.NoError(t, h.Release(context.Background()))
	<-updated
	le = get(t, cs)
	assert.Nil(t, le.Spec.HolderIdentity)
	assert.NotContains(t, le.Annotations, AnnotationScenario)
	assert.True(t, Free(le, t0.Add(20*time.Second)))
	assert.NoError(t, h.Release(context.Background()), "Release is idempotent")
}

func TestHeld_LostToAnotherDrill(t *testing.T) {
	cs := fake.NewClientset()
	fc := clocktesting.NewFakeClock(t0)
	h, err := lockOf(cs, fc, "fd-1", nil).Acquire(context.Background(), 0)
	require.NoError(t, err)
	// Another drill took it over (this one did not renew, say).
	_, err = cs.CoordinationV1().Leases(ns).Update(context.Background(), held("fd-2", t0.Add(time.Minute)), metav1.UpdateOptions{})
	require.NoError(t, err)
	gets := make(chan struct{}, 4)
	cs.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		gets <- struct{}{}
		return false, nil, nil
	})
	fc.Step(20 * time.Second)
	<-gets // the renewal read it

	err = h.Release(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "taken over by drill fd-2")
	assert.Equal(t, "fd-2", *get(t, cs).Spec.HolderIdentity, "release leaves another drill's Lease alone")
}

func TestHeld_LostAfterFailedRenewals(t *testing.T) {
	cs := fake.NewClientset()
	fc := clocktesting.NewFakeClock(t0)
	h, err := lockOf(cs, fc, "fd-1", nil).Acquire(context.Background(), 0)
	require.NoError(t, err)
	failed := make(chan struct{}, 8)
	cs.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		failed <- struct{}{}
		return true, nil, errors.New("connection refused")
	})
	for range 3 {
		fc.Step(20 * time.Second)
		<-failed
	}
	err = h.Release(context.Background()) // waits for the renewal to end
	require.Error(t, err)
	assert.Contains(t, h.Lost().Error(), "not renewed since 2026-12-01T12:00:00Z")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestFree(t *testing.T) {
	tests := map[string]struct {
		lease *coordinationv1.Lease
		free  bool
	}{
		"released":           {&coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: t0}}}, true},
		"renewed 59 s ago":   {held("a", t0.Add(-59*time.Second)), false},
		"renewed 60 s ago":   {held("a", t0.Add(-60*time.Second)), true},
		"acquired, no renew": {&coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("a"), LeaseDurationSeconds: ptr(int32(60)), AcquireTime: &metav1.MicroTime{Time: t0.Add(-30 * time.Second)}}}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tt.free, Free(tt.lease, t0)) })
	}
}
