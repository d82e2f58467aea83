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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/utils/ptr"
)

// execCall is one command the fake Execer ran.
type execCall struct {
	namespace, pod, container string
	argv                      []string
}

// execAnswer is what the fake Execer does for one call: fail with Err
// before running anything, or write Stdout and Stderr and then exit with
// ExitCode (non-zero: an exit error as client-go's executors return it).
type execAnswer struct {
	Stdout, Stderr string
	ExitCode       int
	Err            error
}

// fakeExecer answers the calls with then's answers in order, and every
// call after them with its own execAnswer. It records the calls.
type fakeExecer struct {
	execAnswer
	then []execAnswer

	calls []execCall
	// writeErr is what writing Stdout returned; stopped is whether the
	// exec's context had ended once Stdout was written (the stream was
	// ended by the reader).
	writeErr error
	stopped  bool
}

func (f *fakeExecer) Exec(ctx context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error {
	a := f.execAnswer
	if n := len(f.calls); n < len(f.then) {
		a = f.then[n]
	}
	f.calls = append(f.calls, execCall{namespace, pod, container, argv})
	if a.Err != nil {
		return a.Err
	}
	if _, err := io.WriteString(stdout, a.Stdout); err != nil {
		f.writeErr = err
		return err
	}
	if ctx.Err() != nil {
		f.stopped = true
		return ctx.Err()
	}
	_, _ = io.WriteString(stderr, a.Stderr)
	if a.ExitCode != 0 {
		return utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: a.ExitCode}
	}
	return nil
}

// restoredPod is a pod of a restored workload: Running and Ready with its
// containers running, or (running false) still in Velero's restore-helper
// init container, as a pod whose volume data node-agent is writing is.
func restoredPod(ns, name string, running bool, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "backend"}}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		st := corev1.ContainerStatus{Name: c, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}
		if running {
			st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
			st.Ready = true
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if !running {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions[0].Status = corev1.ConditionFalse
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "restore-wait",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	}
	return p
}

// startingPod is a pod whose containers run but which is not Ready: its
// readiness probe does not pass yet (a database still starting).
func startingPod(ns, name string, containers ...string) *corev1.Pod {
	p := restoredPod(ns, name, true, containers...)
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].Ready = false
	}
	return p
}

// runcNotFound is how the lab's kubelet (containerd, runc) answers an exec
// of a program the image lacks, as kubectl exec prints it.
const runcNotFound = `Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: ` +
	`failed to start exec "38196b90d99c": OCI runtime exec failed: exec failed: unable to start container process: ` +
	`exec: "cat": executable file not found in $PATH: unknown`

// TestCheckExec runs exec checks against a fake Execer. A check ends at
// once (one call) on a final error, after two calls on a settled one (the
// command ran in a Ready pod and failed twice), and keeps trying, until
// it passes or its timeout, on everything else. The checks that must end
// early have a minute to run: ending within it by deadline would show as
// "not passed within".
func TestCheckExec(t *testing.T) {
	cs := fake.NewClientset(
		restoredPod("shop-x", "backend-1", true, "backend", "sidecar"),
		restoredPod("shop-x", "backend-0", false, "backend"),
		// Sorted before backend-1 but not Ready: a selector takes the Ready pod.
		startingPod("shop-x", "backend-01", "backend"),
	)
	sel := PodChoice{Namespace: "shop-x", Selector: "app=backend"}
	starting := PodChoice{Namespace: "shop-x", Pod: "backend-01"}
	const (
		long  = time.Minute
		short = 300 * time.Millisecond
	)
	tests := []struct {
		name    string
		check   ExecCheck
		exec    fakeExecer
		timeout time.Duration
		pass    bool
		// msg must occur in the check's message; calls is how many
		// commands ran (-1: some, until the timeout). A check given the
		// long timeout must end before it.
		msg   string
		calls int
		// pod is the pod every command ran in (default backend-1).
		pod string
	}{
		{"output equal once trailing newlines are removed", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}, ExpectOutput: ptr.To("42")},
			fakeExecer{execAnswer: execAnswer{Stdout: "42\n\n"}}, long, true, `cat /data/x in pod shop-x/backend-1 container backend printed "42"`, 1, ""},
		{"output differs in a Ready pod: settled", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}, ExpectOutput: ptr.To("42")},
			fakeExecer{execAnswer: execAnswer{Stdout: "41\n"}}, long, false, `printed "41", want "42"`, 2, ""},
		{"empty output expected, some printed", ExecCheck{PodChoice: sel, Command: []string{"ls", "/data"}, ExpectOutput: ptr.To("")},
			fakeExecer{execAnswer: execAnswer{Stdout: "orders.log\n"}}, long, false, `printed "orders.log", want ""`, 2, ""},
		{"regexp matches", ExecCheck{PodChoice: sel, Command: []string{"wc", "-l"}, ExpectRegexp: `^[1-9][0-9]* `},
			fakeExecer{execAnswer: execAnswer{Stdout: "120 /data/orders.log\n"}}, long, true, "which matches", 1, ""},
		{"regexp does not match in a Ready pod: settled", ExecCheck{PodChoice: sel, Command: []string{"wc", "-l"}, ExpectRegexp: `^[1-9][0-9]* `},
			fakeExecer{execAnswer: execAnswer{Stdout: "0 /data/orders.log\n"}}, long, false, `"0 /data/orders.log\n", which "^[1-9][0-9]* " does not match`, 2, ""},
		{"non-zero exit in a Ready pod: settled", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}},
			fakeExecer{execAnswer: execAnswer{Stderr: "cat: /data/x: No such file or directory\n", ExitCode: 1}}, long, false,
			"cat /data/x in pod shop-x/backend-1 container backend exited 1: cat: /data/x: No such file or directory", 2, ""},
		{"one failed read in a Ready pod, then the expected output", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}, ExpectOutput: ptr.To("42")},
			fakeExecer{then: []execAnswer{{Stdout: "4"}}, execAnswer: execAnswer{Stdout: "42\n"}}, long, true, `printed "42"`, 2, ""},
		{"non-zero exit in a pod not Ready yet: retried", ExecCheck{PodChoice: starting, Command: []string{"pg_isready"}},
			fakeExecer{execAnswer: execAnswer{Stderr: "no response", ExitCode: 2}}, short, false,
			"not passed within 300ms: context deadline exceeded; last attempt: pg_isready in pod shop-x/backend-01 container backend exited 2: no response", -1, "backend-01"},
		{"non-zero exits in a pod not Ready yet, then exit 0", ExecCheck{PodChoice: starting, Command: []string{"pg_isready"}},
			fakeExecer{then: []execAnswer{{ExitCode: 2}, {ExitCode: 2}, {ExitCode: 2}}}, long, true, "pg_isready in pod shop-x/backend-01 container backend exited 0", 4, "backend-01"},
		{"exit 0 is enough without an expectation", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{execAnswer: execAnswer{Stdout: "anything"}}, long, true, "exited 0", 1, ""},
		{"output too long: final", ExecCheck{PodChoice: sel, Command: []string{"cat", "/dev/zero"}},
			fakeExecer{execAnswer: execAnswer{Stdout: strings.Repeat("0", MaxExecOutput+1)}}, long, false,
			"cat /dev/zero in pod shop-x/backend-1 container backend: stdout is longer than 65536 bytes", 1, ""},
		{"program not in the image: final", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}},
			fakeExecer{execAnswer: execAnswer{Err: errors.New(runcNotFound)}}, long, false,
			`cat /data/x in pod shop-x/backend-1 container backend could not start: exec: "cat": executable file not found in $PATH (the image has no such program`, 1, ""},
		{"program not executable: final", ExecCheck{PodChoice: sel, Command: []string{"/data/orders.log"}},
			fakeExecer{execAnswer: execAnswer{Err: errors.New(`Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "0e5e": ` +
				`OCI runtime exec failed: exec failed: unable to start container process: exec: "/data/orders.log": permission denied: unknown`)}}, long, false,
			`could not start: exec: "/data/orders.log": permission denied (the image`, 1, ""},
		{"program not in the image, crun: final", ExecCheck{PodChoice: sel, Command: []string{"cat", "/data/x"}},
			fakeExecer{execAnswer: execAnswer{Err: errors.New("Internal error occurred: error executing command in container: OCI runtime exec failed: exec failed: executable file `cat` not found in $PATH: No such file or directory")}}, long, false,
			"could not start: executable file `cat` not found in $PATH: No such file or directory", 1, ""},
		{"exec forbidden: final", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{execAnswer: execAnswer{Err: apierrors.NewForbidden(schema.GroupResource{Resource: "pods/exec"}, "backend-1", errors.New("RBAC: access denied"))}}, long, false,
			`pods/exec "backend-1" is forbidden`, 1, ""},
		{"API server unreachable, then the command runs", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{then: []execAnswer{{Err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")}}}, long, true, "exited 0", 2, ""},
		{"API server 5xx, then the command runs", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{then: []execAnswer{{Err: apierrors.NewInternalError(errors.New("etcdserver: request timed out"))}}}, long, true, "exited 0", 2, ""},
		{"kubelet has not created the container yet, then it runs", ExecCheck{PodChoice: sel, Command: []string{"true"}},
			fakeExecer{then: []execAnswer{{Err: errors.New(`unable to upgrade connection: container not found ("backend")`)}}}, long, true, "exited 0", 2, ""},
		{"named container", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-1", Container: "sidecar"}, Command: []string{"true"}},
			fakeExecer{}, long, true, "container sidecar exited 0", 1, ""},
		{"container not in the pod: final", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-1", Container: "nosuch"}, Command: []string{"true"}},
			fakeExecer{}, long, false, "backend-1 has no container nosuch (its containers: backend, sidecar)", 0, ""},
		{"named pod still initializing: retried", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-0"}, Command: []string{"true"}},
			fakeExecer{}, short, false, "not passed within 300ms: context deadline exceeded; last attempt: no running pod to exec in, in namespace shop-x: backend-0 is Pending, init container restore-wait not done", 0, ""},
		{"pod not restored yet: retried", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Pod: "backend-9"}, Command: []string{"true"}},
			fakeExecer{}, short, false, `not passed within 300ms: context deadline exceeded; last attempt: read pod shop-x/backend-9: pods "backend-9" not found`, 0, ""},
		{"no pod selected: retried", ExecCheck{PodChoice: PodChoice{Namespace: "shop-x", Selector: "app=frontend"}, Command: []string{"true"}},
			fakeExecer{}, short, false, "not passed within 300ms: context deadline exceeded; last attempt: no pod of namespace shop-x matches app=frontend", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := &tt.exec
			env := checkEnv{cs: cs, now: time.Now, exec: ex}
			r := runCheck(context.Background(), env, Check{Name: "x", Timeout: tt.timeout, Exec: &tt.check})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Equal(t, "exec", r.Kind)
			assert.Contains(t, r.Message, tt.msg)
			if tt.calls >= 0 {
				assert.Len(t, ex.calls, tt.calls, "how many times the command ran")
			}
			if tt.timeout == long {
				assert.NotContains(t, r.Message, "not passed within", "ended by its class, not its timeout")
			}
			pod := tt.pod
			if pod == "" {
				pod = "backend-1"
			}
			for _, c := range ex.calls {
				assert.Equal(t, "shop-x", c.namespace, "runs in the namespace as the target names it")
				assert.Equal(t, pod, c.pod, "the Ready pod, never the one still restoring its volumes")
				assert.Equal(t, tt.check.Command, c.argv, "the command as written, no shell")
			}
			if strings.HasPrefix(tt.name, "output too long") {
				assert.NoError(t, ex.writeErr, "no write error for client-go to print on stderr")
				assert.True(t, ex.stopped, "the stream is ended at the cap, not read to the end")
			}
		})
	}
}

// TestCappedBuffer: past its cap the buffer keeps what fits, never fails
// a write (client-go would print the error on stderr and read on), and
// stops the stream once.
func TestCappedBuffer(t *testing.T) {
	stops := 0
	b := &cappedBuffer{max: 5, stop: func() { stops++ }}
	n, err := b.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.False(t, b.over)
	n, err = b.Write([]byte("defg"))
	require.NoError(t, err)
	assert.Equal(t, 4, n, "the whole write is taken, the rest discarded")
	n, err = b.Write([]byte("hij"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.True(t, b.over)
	assert.Equal(t, "abcde", b.buf.String())
	assert.Equal(t, 1, stops)

	exact := &cappedBuffer{max: 3, stop: func() { stops++ }}
	_, err = exact.Write([]byte("abc"))
	require.NoError(t, err)
	assert.False(t, exact.over, "exactly the cap is not over it")
}

// TestStartFailure: the container runtimes' ways of saying a command
// could not start are final, stripped of the kubelet's and the API
// server's prefixes; other exec errors are not.
func TestStartFailure(t *testing.T) {
	tests := []struct {
		msg, reason string
		ok          bool
	}{
		{runcNotFound, `exec: "cat": executable file not found in $PATH`, true},
		{`error executing command in container: failed to exec in container: failed to start exec "0e5e": OCI runtime exec failed: exec failed: unable to start container process: exec: "/nope": stat /nope: no such file or directory: unknown`,
			`exec: "/nope": stat /nope: no such file or directory`, true},
		{"OCI runtime exec failed: exec failed: executable file `cat` not found in $PATH: No such file or directory",
			"executable file `cat` not found in $PATH: No such file or directory", true},
		{`unable to upgrade connection: container not found ("db")`, "", false},
		{"dial tcp 127.0.0.1:6443: connect: connection refused", "", false},
		{`error dialing backend: dial tcp 10.0.0.7:10250: i/o timeout`, "", false},
	}
	for _, tt := range tests {
		reason, ok := startFailure(errors.New(tt.msg))
		assert.Equal(t, tt.ok, ok, tt.msg)
		assert.Equal(t, tt.reason, reason, tt.msg)
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

// TestChoosePod_Selector: a selector takes the first Ready pod by name,
// else the first Running one; a container only some pods lack is waited
// for on the others, one all lack is final.
func TestChoosePod_Selector(t *testing.T) {
	odd := restoredPod("shop", "backend-2", true, "other")
	cs := fake.NewClientset(startingPod("shop", "backend-0", "backend"), restoredPod("shop", "backend-1", true, "backend"), odd,
		startingPod("db", "db-0", "db"), startingPod("db", "db-1", "db"))
	p, _, err := choosePod(context.Background(), cs, PodChoice{Namespace: "shop", Selector: "app=backend", Container: "backend"})
	require.NoError(t, err)
	assert.Equal(t, "backend-1", p.Name)
	p, _, err = choosePod(context.Background(), cs, PodChoice{Namespace: "db", Selector: "app=backend"})
	require.NoError(t, err)
	assert.Equal(t, "db-0", p.Name, "none Ready: the first Running")

	_, _, err = choosePod(context.Background(), cs, PodChoice{Namespace: "shop", Selector: "app=backend", Container: "other"})
	require.NoError(t, err, "backend-2 has it")
	_, _, err = choosePod(context.Background(), cs, PodChoice{Namespace: "shop", Selector: "app=backend", Container: "nosuch"})
	var fin *finalError
	require.ErrorAs(t, err, &fin)
	assert.EqualError(t, err, "no running pod to exec in, in namespace shop: backend-0 has no container nosuch (its containers: backend); "+
		"backend-1 has no container nosuch (its containers: backend); backend-2 has no container nosuch (its containers: other)")
}

func TestFileCanary(t *testing.T) {
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cs := fake.NewClientset(restoredPod("shop-x", "backend-0", true, "backend"))
	canary := DataCanaryCheck{Namespace: "shop-x", File: "/data/canary", Pod: PodChoice{Namespace: "shop-x", Selector: "app=backend"}}
	byCommand := canary
	byCommand.File, byCommand.Command = "", []string{"/shop", "cat", "/data/canary"}
	tests := []struct {
		name   string
		canary DataCanaryCheck
		exec   fakeExecer
		pass   bool
		rpo    float64
		msg    string
		// calls is how many times the canary was read.
		calls int
	}{
		{"one time", canary, fakeExecer{execAnswer: execAnswer{Stdout: "2026-11-22T11:59:30Z\n"}}, true, 30,
			"file /data/canary in pod shop-x/backend-0 container backend holds 2026-11-22T11:59:30Z: the application's RPO is 30.0s", 1},
		{"newest line counts", canary, fakeExecer{execAnswer: execAnswer{Stdout: "2026-11-22T11:58:00Z\n2026-11-22T11:59:55.5+00:00\n2026-11-22T11:59:00Z\n"}}, true, 4.5, "RPO is 4.5s", 1},
		{"not a time, twice in a Ready pod: settled", canary, fakeExecer{execAnswer: execAnswer{Stdout: "2026-11-22T11:58:00Z\nhello\n"}}, false, 0,
			"file /data/canary in pod shop-x/backend-0 container backend: line 2 is not an RFC 3339 time: \"hello\"", 2},
		{"read while being rewritten, then whole", canary, fakeExecer{then: []execAnswer{{Stdout: "2026-11-2"}}, execAnswer: execAnswer{Stdout: "2026-11-22T11:59:30Z\n"}}, true, 30,
			"holds 2026-11-22T11:59:30Z", 2},
		{"empty", canary, fakeExecer{execAnswer: execAnswer{Stdout: "\n"}}, false, 0, "it holds no time", 2},
		{"after the disaster", canary, fakeExecer{execAnswer: execAnswer{Stdout: "2026-11-22T12:00:10Z\n"}}, false, 0, "is after the disaster", 1},
		{"read by a command of the image", byCommand, fakeExecer{execAnswer: execAnswer{Stdout: "2026-11-22T11:59:00Z\n"}}, true, 60,
			"the output of /shop cat /data/canary in pod shop-x/backend-0 container backend holds 2026-11-22T11:59:00Z", 1},
		{"image without cat: final, with the way out", canary, fakeExecer{execAnswer: execAnswer{Err: errors.New(runcNotFound)}}, false, 0,
			`read file /data/canary in pod shop-x/backend-0 container backend: the image has no cat (exec: "cat": executable file not found in $PATH): ` +
				`use command: [PROGRAM, ARGS...] instead of file: a program the image has that prints /data/canary`, 1},
		{"command not in the image: final", byCommand, fakeExecer{execAnswer: execAnswer{Err: errors.New(strings.ReplaceAll(runcNotFound, `"cat"`, `"/shop"`))}}, false, 0,
			`/shop cat /data/canary in pod shop-x/backend-0 container backend could not start: exec: "/shop": executable file not found in $PATH`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := &tt.exec
			env := checkEnv{cs: cs, now: time.Now, exec: ex, disaster: disaster}
			c := tt.canary
			r := runCheck(context.Background(), env, Check{Name: "canary", Timeout: time.Minute, DataCanary: &c})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Contains(t, r.Message, tt.msg)
			assert.NotContains(t, r.Message, "not passed within", "ended by its class, not its timeout")
			assert.LessOrEqual(t, strings.Count(r.Message, "executable file not found"), 1, "the runtime's reason is said once")
			assert.NotContains(t, r.Message, "Internal error occurred")
			require.Len(t, ex.calls, tt.calls)
			assert.Equal(t, c.reader(), ex.calls[0].argv)
			if tt.pass {
				require.NotNil(t, r.ApplicationRPOSeconds)
				assert.InDelta(t, tt.rpo, *r.ApplicationRPOSeconds, 1e-9)
			}
		})
	}
}
