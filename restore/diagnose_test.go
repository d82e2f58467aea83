package restore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

var diagnoseT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func deployment(name string, want int32) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Replicas: &want, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}}
}

// pod is a pod of app (matched by the selectors above), not ready unless
// set is told otherwise.
func pod(name, app string, set func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name), Labels: map[string]string{"app": app}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}}}
	if set != nil {
		set(p)
	}
	return p
}

func waiting(container, reason, message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: container,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}})
	}
}

// event is an event of kind/name (a pod's UID is uid-NAME), minutes after
// diagnoseT0.
func event(kind, name, typ, reason, message string, minutes int) *corev1.Event {
	uid := types.UID("")
	if kind == "Pod" {
		uid = types.UID("uid-" + name)
	}
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%s.%d", name, reason, minutes), Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: "shop", UID: uid},
		Type:           typ, Reason: reason, Message: message,
		LastTimestamp: metav1.NewTime(diagnoseT0.Add(time.Duration(minutes) * time.Minute)),
	}
}

func warningOf(pod, reason, message string, minutes int) *corev1.Event {
	return event("Pod", pod, corev1.EventTypeWarning, reason, message, minutes)
}

// TestCheckWorkloads_SaysWhyNotReady: when the check's time runs out, the
// result's message names, per workload and per pod, the reason kubelet or
// the scheduler gave, and the pod's newest warning events.
func TestCheckWorkloads_SaysWhyNotReady(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		// want are fragments of the message, in this order.
		want []string
		// exact, when set, is the whole message.
		exact string
		// not must not occur in the message.
		not []string
	}{
		{
			name: "crash loop with its last exit",
			objects: []runtime.Object{
				deployment("web", 2),
				pod("web-7d9f-abc", "web", func(p *corev1.Pod) {
					waiting("web", "CrashLoopBackOff", "back-off 5m0s restarting failed container=web pod=web-7d9f-abc")(p)
					p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "dial api: connection refused\n"}
				}),
				warningOf("web-7d9f-abc", "BackOff", "Back-off restarting failed container", 5),
				warningOf("web-7d9f-abc", "BackOff", "Back-off restarting failed container", 4),
				event("Pod", "web-7d9f-abc", corev1.EventTypeNormal, "Pulled", "Container image already present", 6),
			},
			exact: `not passed within 300ms: context deadline exceeded: not ready in namespace shop: deployment shop/web: 0 of 2 ready; ` +
				`pod web-7d9f-abc: container web waiting: CrashLoopBackOff (last exit 1: "dial api: connection refused"); ` +
				`events: BackOff: Back-off restarting failed container`,
		},
		{
			name: "crash loop between two back-offs: the exit, the restarts and the last log line",
			objects: []runtime.Object{
				deployment("worker", 1),
				pod("worker-1", "worker", func(p *corev1.Pod) {
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "worker", RestartCount: 3,
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}}}
				}),
			},
			// The fake clientset's log is "fake logs".
			want: []string{`deployment shop/worker: 0 of 1 ready; pod worker-1: container worker terminated: exit 2, restarted 3 times (crash loop); container worker last logged: "fake logs"`},
		},
		{
			name: "image never pulled",
			objects: []runtime.Object{
				deployment("web", 1),
				pod("web-1", "web", waiting("web", "ErrImageNeverPull", `Container image "shop/web:1.4" is not present with pull policy of Never`)),
				warningOf("web-1", "ErrImageNeverPull", `Container image "shop/web:1.4" is not present with pull policy of Never`, 1),
			},
			want: []string{`deployment shop/web: 0 of 1 ready; pod web-1: container web waiting: ErrImageNeverPull: Container image "shop/web:1.4" is not present with pull policy of Never`},
			not:  []string{"events:"}, // the one event says what the line already says
		},
		{
			name: "image pull back-off, newest three distinct warnings",
			objects: []runtime.Object{
				deployment("web", 1),
				pod("web-1", "web", waiting("web", "ImagePullBackOff", `Back-off pulling image "registry.example.com/web:1.4"`)),
				warningOf("web-1", "Failed", `Failed to pull image "registry.example.com/web:1.4": not found`, 1),
				warningOf("web-1", "Failed", "Error: ErrImagePull", 2),
				warningOf("web-1", "Failed", "Error: ImagePullBackOff", 3),
				warningOf("web-1", "Failed", "Error: ErrImagePull", 4),
				warningOf("web-1", "FailedMount", "secret token not found", 5),
			},
			want: []string{`container web waiting: ImagePullBackOff: Back-off pulling image "registry.example.com/web:1.4"`,
				"; events: FailedMount: secret token not found / Failed: Error: ErrImagePull / Failed: Error: ImagePullBackOff"},
			not: []string{"Failed to pull image", "ErrImagePull / Failed: Error: ErrImagePull"},
		},
		{
			name: "configuration error",
			objects: []runtime.Object{
				deployment("api", 1),
				pod("api-1", "api", waiting("api", "CreateContainerConfigError", `secret "db-credentials" not found`)),
			},
			want: []string{`pod api-1: container api waiting: CreateContainerConfigError: secret "db-credentials" not found`},
		},
		{
			name: "running, readiness probe failing",
			objects: []runtime.Object{
				deployment("web", 1),
				pod("web-1", "web", func(p *corev1.Pod) {
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
				}),
				warningOf("web-1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", 1),
				warningOf("web-1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", 2),
			},
			want: []string{"pod web-1: container web running but not ready: Readiness probe failed: HTTP probe failed with statuscode: 503",
				"; events: Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500"},
			not: []string{"events: Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503"},
		},
		{
			name: "not scheduled",
			objects: []runtime.Object{
				&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
					Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}},
				pod("db-0", "db", func(p *corev1.Pod) {
					p.Status.Phase = corev1.PodPending
					p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
						Message: "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available"}}
				}),
				// The pod of the same name before this one.
				&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "shop"},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "db-0", UID: "uid-earlier"},
					Type:           corev1.EventTypeWarning, Reason: "OldPodEvent", Message: "from the pod before"},
			},
			want: []string{"statefulset shop/db: 0 of 1 ready; pod db-0: not scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient memory."},
			not:  []string{"OldPodEvent"},
		},
		{
			name: "no pods: the controller's warnings",
			objects: []runtime.Object{
				&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop"},
					Spec:   appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}}},
					Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2}},
				event("DaemonSet", "agent", corev1.EventTypeWarning, "FailedCreate", `Error creating: pods "agent-x" is forbidden: no NetworkPolicy selects it`, 1),
				// A pod of another workload: not this one's.
				pod("web-1", "web", waiting("web", "ErrImagePull", "nope")),
			},
			want: []string{`daemonset shop/agent: 0 of 2 ready; no pods; events: FailedCreate: Error creating: pods "agent-x" is forbidden: no NetworkPolicy selects it`},
			not:  []string{"web-1"},
		},
		{
			name: "deployment's replica failure",
			objects: []runtime.Object{
				func() *appsv1.Deployment {
					d := deployment("web", 1)
					d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue,
						Reason: "FailedCreate", Message: `pods "web-1" is forbidden: exceeded quota: compute`}}
					return d
				}(),
			},
			want: []string{`deployment shop/web: 0 of 1 ready; FailedCreate: pods "web-1" is forbidden: exceeded quota: compute; no pods`},
		},
		{
			name: "failed init container and job",
			objects: []runtime.Object{
				&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: "shop"},
					Spec: batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "migrate"}}},
					Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue,
						Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}},
				pod("migrate-abc", "migrate", func(p *corev1.Pod) {
					p.Status.Phase = corev1.PodFailed
					p.Status.InitContainerStatuses = []corev1.ContainerStatus{
						{Name: "wait-db", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
						{Name: "schema", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}},
					}
					waiting("migrate", "PodInitializing", "")(p)
				}),
			},
			want: []string{"job shop/migrate: 0 of 1 succeeded; BackoffLimitExceeded: Job has reached the specified backoff limit",
				"; pod migrate-abc: init container schema terminated: exit 137 OOMKilled"},
			not: []string{"wait-db", "PodInitializing"},
		},
		{
			name: "many pods: the first three",
			objects: []runtime.Object{
				deployment("web", 5),
				pod("web-1", "web", waiting("web", "ContainerCreating", "")),
				pod("web-2", "web", waiting("web", "ContainerCreating", "")),
				pod("web-3", "web", waiting("web", "ContainerCreating", "")),
				pod("web-4", "web", waiting("web", "ContainerCreating", "")),
				pod("web-5", "web", waiting("web", "ContainerCreating", "")),
				pod("web-ready", "web", func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionTrue }),
			},
			want: []string{"pod web-1: container web waiting: ContainerCreating; pod web-2", "pod web-3", "; and 2 more pods not ready"},
			not:  []string{"web-4", "web-ready"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := checkEnv{cs: fake.NewClientset(tt.objects...), now: time.Now}
			r := runCheck(context.Background(), env, Check{Name: "shop", Timeout: 300 * time.Millisecond, Workloads: &WorkloadsCheck{Namespace: "shop"}})
			require.False(t, r.Passed, r.Message)
			if tt.exact != "" {
				assert.Equal(t, tt.exact, r.Message)
			}
			rest := r.Message
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				require.GreaterOrEqual(t, i, 0, "%q in order in\n%s", w, r.Message)
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				assert.NotContains(t, r.Message, n)
			}
			assert.NotContains(t, r.Message, "\n", "one line")
			_, diagnosis, ok := strings.Cut(r.Message, "not ready in namespace shop: ")
			require.True(t, ok, r.Message)
			assert.True(t, strings.HasSuffix(strings.Join(r.Details, "; "), diagnosis), "the details carry the diagnosis too: %q", r.Details)
		})
	}
}
