package restore

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestRunCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("shop is open"))
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()

	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	one := int32(1)
	cs := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: appsv1.DeploymentSpec{Replicas: &one},
			Status: appsv1.DeploymentStatus{AvailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "stuck"}, Spec: appsv1.DeploymentSpec{Replicas: &one}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "data-canary", Namespace: "shop"}, Data: map[string]string{"written-at": "2026-11-22T11:00:00Z"}},
	)
	env := checkEnv{cs: cs, disaster: disaster, now: time.Now, http: srv.Client()}
	short := 300 * time.Millisecond
	tests := []struct {
		name string
		c    Check
		pass bool
	}{
		{"http ok", Check{HTTP: &HTTPCheck{URL: srv.URL, BodyContains: "open"}}, true},
		{"http body missing", Check{HTTP: &HTTPCheck{URL: srv.URL, BodyContains: "closed"}}, false},
		{"http status", Check{HTTP: &HTTPCheck{URL: srv.URL + "/missing", MinStatus: 200, MaxStatus: 299}}, false},
		{"http 404 expected", Check{HTTP: &HTTPCheck{URL: srv.URL + "/missing", MinStatus: 404, MaxStatus: 404}}, true},
		{"tcp ok", Check{TCP: &TCPCheck{Address: ln.Addr().String()}}, true},
		{"tcp refused", Check{TCP: &TCPCheck{Address: closedAddr}}, false},
		{"command ok", Check{Command: &CommandCheck{Run: []string{"sh", "-c", `test -n "$KUBECONFIG"`}}}, true},
		{"command fails", Check{Command: &CommandCheck{Run: []string{"false"}}}, false},
		{"workloads available", Check{Workloads: &WorkloadsCheck{Namespace: "shop"}}, true},
		{"workloads not available", Check{Workloads: &WorkloadsCheck{Namespace: "stuck"}}, false},
		{"workloads none", Check{Workloads: &WorkloadsCheck{Namespace: "empty"}}, false},
		{"canary", Check{DataCanary: &DataCanaryCheck{Namespace: "shop", ConfigMap: "data-canary", Key: "written-at"}}, true},
		{"canary missing key", Check{DataCanary: &DataCanaryCheck{Namespace: "shop", ConfigMap: "data-canary", Key: "nope"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Name, tt.c.Timeout = tt.name, short
			e := env
			e.kubeconfig = "/dev/null"
			r := runCheck(context.Background(), e, tt.c)
			assert.Equal(t, tt.pass, r.Passed, "%s", r.Message)
			assert.NotEmpty(t, r.Message)
			if tt.name == "canary" {
				require.NotNil(t, r.ApplicationRPOSeconds)
				assert.Equal(t, 3600.0, *r.ApplicationRPOSeconds)
			}
		})
	}
}

// TestCheckCanary_WaitsForTheConfigMap: a canary ConfigMap restored after
// the check started is read as soon as it appears.
func TestCheckCanary_WaitsForTheConfigMap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs := fake.NewClientset()
	watches := make(chan struct{}, 10)
	cs.PrependWatchReactor("configmaps", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := cs.Tracker().Watch(corev1.SchemeGroupVersion.WithResource("configmaps"), a.GetNamespace())
		watches <- struct{}{}
		return true, w, err
	})
	c := DataCanaryCheck{Namespace: "shop", ConfigMap: "data-canary", Key: "written-at"}
	type out struct {
		t   time.Time
		err error
	}
	done := make(chan out, 1)
	go func() {
		tm, err := checkCanary(ctx, cs, c)
		done <- out{tm, err}
	}()
	<-watches
	written := time.Date(2026, 11, 22, 11, 59, 30, 0, time.UTC)
	_, err := cs.CoreV1().ConfigMaps("shop").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "data-canary", Namespace: "shop"},
		Data: map[string]string{"written-at": written.Format(time.RFC3339Nano)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, written, o.t)
}
