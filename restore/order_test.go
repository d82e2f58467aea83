package restore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestVerifyOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	np := func(ns, rv string) Appearance {
		return Appearance{Kind: KindNetworkPolicy, Namespace: ns, Name: "np-" + rv, ResourceVersion: rv}
	}
	dep := func(ns, rv string) Appearance {
		return Appearance{Kind: "Deployment", Namespace: ns, Name: "d-" + rv, ResourceVersion: rv}
	}
	tests := []struct {
		name       string
		in         []Appearance
		verified   bool
		violations int
		method     string
	}{
		{"policies first", []Appearance{dep("a", "20"), np("a", "10"), np("b", "11"), dep("b", "21")}, true, 0, "resourceVersion"},
		{"workload first", []Appearance{dep("a", "5"), np("a", "10")}, false, 1, "resourceVersion"},
		{"policy only in another namespace", []Appearance{np("a", "1"), dep("b", "2")}, false, 1, "resourceVersion"},
		{"nothing seen", nil, false, 1, "resourceVersion"},
		{"by arrival time", []Appearance{
			{Kind: KindNetworkPolicy, Namespace: "a", Name: "np", ResourceVersion: "x1", Seen: t0},
			{Kind: "StatefulSet", Namespace: "a", Name: "db", ResourceVersion: "x2", Seen: t0.Add(time.Millisecond)},
		}, true, 0, "watch arrival time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := VerifyOrder(tt.in)
			assert.Equal(t, tt.verified, p.Verified)
			assert.Len(t, p.Violations, tt.violations, "%v", p.Violations)
			assert.Equal(t, tt.method, p.Method)
		})
	}
}

func TestOrderWatch_RecordsTargetNamespacesOnly(t *testing.T) {
	cs := fake.NewClientset()
	ctx := context.Background()
	ow, err := startOrderWatch(ctx, cs, []string{"shop"}, time.Now)
	require.NoError(t, err)
	_, err = cs.NetworkingV1().NetworkPolicies("shop").Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "shop"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// The fake sets no resourceVersion, so the order is the watches'
	// arrival times; each kind has its own watch, so the policy must have
	// arrived before the workload is created, as a restore phase ensures.
	require.Eventually(t, func() bool {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		return len(ow.seen) == 1
	}, 5*time.Second, time.Millisecond)
	_, err = cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.AppsV1().Deployments("other").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "other"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		return len(ow.seen) == 2
	}, 5*time.Second, 10*time.Millisecond)
	got, gaps := ow.stop()
	assert.Empty(t, gaps)
	require.Len(t, got, 2)
	p := VerifyOrder(got)
	assert.True(t, p.Verified, "%v", p.Violations)
}

// TestOrderWatch_ResumesAWatchTheServerClosed: the API server breaks off
// the watch of Deployments (a restart); the watch is opened again, refused
// once (the server is still starting), from the last resourceVersion it
// saw, and the Deployment created after is still seen.
func TestOrderWatch_ResumesAWatchTheServerClosed(t *testing.T) {
	cs := fake.NewClientset()
	first := watch.NewFake()
	var calls atomic.Int32
	var resumedFrom atomic.Value
	cs.PrependWatchReactor("deployments", func(a k8stesting.Action) (bool, watch.Interface, error) {
		switch calls.Add(1) {
		case 1:
			return true, first, nil
		case 2:
			return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
		}
		resumedFrom.Store(a.(k8stesting.WatchActionImpl).WatchRestrictions.ResourceVersion)
		return false, nil, nil // the fake's own watch
	})
	ctx := context.Background()
	ow, err := startOrderWatch(ctx, cs, []string{"shop"}, time.Now)
	require.NoError(t, err)
	first.Add(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", ResourceVersion: "41"}})
	// What client-go's stream watcher sends when the connection breaks.
	first.Error(&apierrors.NewInternalError(errors.New("unable to decode an event from the watch stream: http2: response body closed")).ErrStatus)
	require.Eventually(t, func() bool { return calls.Load() >= 3 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, "41", resumedFrom.Load(), "resumed from the last resourceVersion seen")
	_, err = cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		_, ok := ow.seen["Deployment/shop/web"]
		return ok
	}, 5*time.Second, 10*time.Millisecond)
	got, gaps := ow.stop()
	assert.Len(t, got, 2)
	assert.Empty(t, gaps)
}

// TestOrderWatch_StopIsNoGap: the errors of watches that stop closes (a
// real stream watcher reports its closed stream as an error event) are
// not the server's: no gap.
func TestOrderWatch_StopIsNoGap(t *testing.T) {
	cs := fake.NewClientset()
	var ws []*watch.FakeWatcher
	var mu sync.Mutex
	cs.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		w := watch.NewFakeWithChanSize(1, false)
		ws = append(ws, w)
		return true, &erringOnStop{w}, nil
	})
	ow, err := startOrderWatch(context.Background(), cs, []string{"shop"}, time.Now)
	require.NoError(t, err)
	_, gaps := ow.stop()
	assert.Empty(t, gaps)
	assert.Len(t, ws, 6, "one watch per kind, none resumed")
}

// erringOnStop is a watch that, as client-go's stream watcher does when
// its stream is closed under it, sends an error event as it stops.
type erringOnStop struct{ *watch.FakeWatcher }

func (e *erringOnStop) Stop() {
	if !e.IsStopped() {
		e.Error(&apierrors.NewInternalError(errors.New("unable to decode an event from the watch stream: http2: response body closed")).ErrStatus)
		e.FakeWatcher.Stop()
	}
}

// TestOrderWatch_GapFailsTheProof: a watch that ends with 410 Gone cannot
// be resumed: the proof names the gap and does not hold, whatever was seen.
func TestOrderWatch_GapFailsTheProof(t *testing.T) {
	cs := fake.NewClientset()
	first := watch.NewFake()
	cs.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, first, nil
	})
	ctx := context.Background()
	ow, err := startOrderWatch(ctx, cs, []string{"shop"}, time.Now)
	require.NoError(t, err)
	first.Error(&apierrors.NewResourceExpired("too old resource version: 41 (97)").ErrStatus)
	require.Eventually(t, func() bool {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		return len(ow.gaps) == 1
	}, 5*time.Second, 10*time.Millisecond)
	seen := []Appearance{
		{Kind: KindNetworkPolicy, Namespace: "shop", Name: "deny", ResourceVersion: "10"},
		{Kind: "Deployment", Namespace: "shop", Name: "web", ResourceVersion: "20"},
	}
	_, gaps := ow.stop()
	p := VerifyOrder(seen).withGaps(gaps)
	assert.False(t, p.Verified)
	require.Len(t, p.Violations, 1)
	assert.Equal(t, "the watch of Deployments ended and could not be resumed (too old resource version: 41 (97)): what was created after it is unseen", p.Violations[0])
}
