package restore

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/utils/ptr"
)

// execCall is one command the fake Execer ran.
type execCall struct {
	namespace, pod, container string
	argv                      []string
}

// fakeExecer answers every command with Stdout and Stderr and then
// ExitCode (non-zero: an exit error as client-go's executors return it),
// or fails with Err before running anything. It records the calls.
type fakeExecer struct {
	Stdout, Stderr string
	ExitCode       int
	Err            error
	calls          []execCall
	// writeErr is what writing Stdout returned.
	writeErr error
}

func (f *fakeExecer) Exec(_ context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error {
	f.calls = append(f.calls, execCall{namespace, pod, container, argv})
	if f.Err != nil {
		return f.Err
	}
	if _, err := io.WriteString(stdout, f.Stdout); err != nil {
		f.writeErr = err
		return err
	}
	_, _ = io.WriteString(stderr, f.Stderr)
	if f.ExitCode != 0 {
		return utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: f.ExitCode}
	}
	return nil
}

// restoredPod is a pod of a restored workload: Running with its container
// running, or (running false) still in Velero's restore-helper init
// container, as a pod whose volume data node-agent is writing is.
func restoredPod(ns, name string, running bool, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "backend"}}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		st := corev1.ContainerStatus{Name: c, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}
		if running {
			st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
	p.Status.Phase = corev1.PodRunning
	if !running {
		p.Status.Phase = corev1.PodPending
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "restore-wait",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	}
	return p
}

func TestCheckExec(t *testing.T) {
	cs := fake.NewClientset(
		restoredPod("shop-x", "backend-1", true, "backend", "sidecar"),
		restoredPod("shop-x", "backend-0", false, "backend"),
	)
	sel := PodChoice{Namespace: "shop-x", Selector: "app=backend"}
	tests := []struct {
		name  string
		check ExecCheck
		exec  fakeExecer
		pass  bool
		// msg must occur in the check's message.
		msg string
	}{
		{"output equal once trailing newlines are removed", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}, ExpectOutput: ptr.To("42")},
			fakeExecer{Stdout: "42\n\n"}, true, `cat /data/x in pod shop-x/backend-1 container backend printed "42"`},
		{"output differs", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}, ExpectOutput: ptr.To("42")},
			fakeExecer{Stdout: "41\n"}, false, `printed "41", want "42"`},
		{"empty output expected, some printed", ExecCheck{PodChoice: sel, Command: []string{"ls", "/data"}, ExpectOutput: ptr.To("")},
			fakeExecer{Stdout: "orders.log\n"}, false, `printed "orders.log", want ""`},
		{"regexp matches", ExecCheck{PodChoice: sel, Command: []string{"wc", "-l"}, ExpectRegexp: `^[1-9][0-9]* `},
			fakeExecer{Stdout: "120 /data/orders.log\n"}, true, "which matches"},
		{"regexp does not match", ExecCheck{PodChoice: sel, Command: []string{"wc", "-l"}, ExpectRegexp: `^[1-9][0-9]* `},
			fakeExecer{Stdout: "0 /data/orders.log\n"}, false, `"0 /data/orders.log\n", which "^[1-9][0-9]* " does not match`},
		{"non-zero exit", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}},
			fakeExecer{Stderr: "cat: /data/x: No such file or directory\n", ExitCode: 1}, false,
			"cat /data/x in pod shop-x/backend-1 container backend exited 1: cat: /data/x: No such file or directory"},
		{"exit 0 is enough without an expectation", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{Stdout: "anything"}, true, "exited 0"},
		{"output too long", ExecCheck{PodChoice: sel, Command: []string{"cat", "/dev/zero"}},
			fakeExecer{Stdout: strings.Repeat("0", MaxExecOutput+1)}, false, "stdout is longer than 65536 bytes"},
		{"exec refused", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{Err: errors.New(`pods "backend-1" is forbidden`)}, false, "is forbidden"},
		{"named container", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-1", Container: "sidecar"}, Command: []string{"true"}},
			fakeExecer{}, true, "container sidecar exited 0"},
		{"named pod still initializing", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-0"}, Command: []string{"true"}},
			fakeExecer{}, false, "backend-0 is Pending, init container restore-wait not done"},
		{"no pod selected", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Selector: "app=frontend"}, Command: []string{"true"}},
			fakeExecer{}, false, "no pod of namespace shop-x matches app=frontend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := tt.exec
			env := checkEnv{cs: cs, now: time.Now, exec: &ex}
			r := runCheck(context.Background(), env, Check{Name: "x", Timeout: 300 * time.Millisecond, Exec: &tt.check})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Equal(t, "exec", r.Kind)
			assert.Contains(t, r.Message, tt.msg)
			for _, c := range ex.calls {
				assert.Equal(t, "shop-x", c.namespace, "runs in the namespace as the target names it")
				assert.Equal(t, "backend-1", c.pod, "the running pod, never the one still restoring its volumes")
				assert.Equal(t, tt.check.Command, c.argv, "the command as written, no shell")
			}
			if tt.name == "output too long" {
				assert.ErrorIs(t, ex.writeErr, errOutputLimit, "the stream is ended at the cap, not read to the end")
			}
		})
	}
}

// TestChoosePod_DefaultContainer: without a container the pod's
// kubectl.kubernetes.io/default-container is used, else its first.
func TestChoosePod_DefaultContainer(t *testing.T) {
	p := restoredPod("shop", "backend-0", true, "backend", "sidecar")
	p.Annotations = map[string]string{"kubectl.kubernetes.io/default-container": "sidecar"}
	cs := fake.NewClientset(p, restoredPod("shop", "web-0", true, "web", "proxy"))
	_, c, err := choosePod(context.Background(), cs, PodChoice{Namespace: "shop", Pod: "backend-0"})
	require.NoError(t, err)
	assert.Equal(t, "sidecar", c)
	_, c, err = choosePod(context.Background(), cs, PodChoice{Namespace: "shop", Pod: "web-0"})
	require.NoError(t, err)
	assert.Equal(t, "web", c)
}

func TestFileCanary(t *testing.T) {
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cs := fake.NewClientset(restoredPod("shop-x", "backend-0", true, "backend"))
	canary := DataCanaryCheck{Namespace: "shop-x", File: "/data/canary", Pod: PodChoice{Namespace: "shop-x", Selector: "app=backend"}}
	tests := []struct {
		name   string
		stdout string
		pass   bool
		rpo    float64
		msg    string
	}{
		{"one time", "2026-11-22T11:59:30Z\n", true, 30,
			"file /data/canary in pod shop-x/backend-0 container backend holds 2026-11-22T11:59:30Z: the application's RPO is 30s"},
		{"newest line counts", "2026-11-22T11:58:00Z\n2026-11-22T11:59:55.5+00:00\n2026-11-22T11:59:00Z\n", true, 4.5, "RPO is 5s"},
		{"not a time", "2026-11-22T11:58:00Z\nhello\n", false, 0, "line 2 is not an RFC 3339 time: \"hello\""},
		{"empty", "\n", false, 0, "it holds no time"},
		{"after the disaster", "2026-11-22T12:00:10Z\n", false, 0, "is after the disaster"},
		{"read by a command of the image", "2026-11-22T11:59:00Z\n", true, 60,
			"the output of /shop cat /data/canary in pod shop-x/backend-0 container backend holds 2026-11-22T11:59:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &fakeExecer{Stdout: tt.stdout}
			env := checkEnv{cs: cs, now: time.Now, exec: ex, disaster: disaster}
			c, argv := canary, []string{"cat", "/data/canary"}
			if tt.name == "read by a command of the image" {
				c.File, c.Command = "", []string{"/shop", "cat", "/data/canary"}
				argv = c.Command
			}
			r := runCheck(context.Background(), env, Check{Name: "canary", Timeout: 300 * time.Millisecond, DataCanary: &c})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Contains(t, r.Message, tt.msg)
			require.NotEmpty(t, ex.calls)
			assert.Equal(t, argv, ex.calls[0].argv)
			if tt.pass {
				require.NotNil(t, r.ApplicationRPOSeconds)
				assert.InDelta(t, tt.rpo, *r.ApplicationRPOSeconds, 1e-9)
			}
		})
	}
}
