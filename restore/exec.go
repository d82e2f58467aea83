package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/firedrill-dev/firedrill/internal/procenv"
)

// Execer runs a command in a container of a pod of the target, as the API
// server's pods/exec subresource does.
type Execer interface {
	// Exec runs argv (no shell) in container of pod namespace/pod (empty
	// container: the API server's choice, which fails for a pod of several
	// containers), copying its stdout and stderr until it exits or ctx
	// ends. It returns nil when the command exited 0, an error satisfying
	// k8s.io/client-go/util/exec.ExitError when it ran and exited non-zero,
	// and any other error when it could not be run (no such pod or
	// container, forbidden) or a writer failed. Each call runs the command
	// again: nothing is idempotent about it.
	Exec(ctx context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error
}

// APIExecer is the Execer of a real API server: client-go's remotecommand,
// over WebSocket with a fallback to SPDY for API servers that do not
// upgrade to it, as kubectl exec does (k8s.io/kubectl/pkg/cmd/exec).
type APIExecer struct {
	Config *rest.Config
	Kube   kubernetes.Interface
}

var _ Execer = APIExecer{}

// Exec implements Execer.
func (e APIExecer) Exec(ctx context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error {
	req := e.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: argv, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(e.Config, "GET", req.URL().String())
	if err != nil {
		return fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(e.Config, "POST", req.URL())
	if err != nil {
		return fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
}

// MaxExecOutput is the most stdout an exec check or a file data canary
// reads: 64 KiB. A command that prints more fails, rather than having the
// drill hold (and report) whatever a restored container prints.
const MaxExecOutput = 64 << 10

// errOutputLimit is the failure of a command whose stdout passed MaxExecOutput.
var errOutputLimit = fmt.Errorf("stdout is longer than %d bytes", MaxExecOutput)

// cappedBuffer keeps what is written up to max bytes. A write past max
// keeps what fits, discards the rest, sets over and calls stop (once),
// which ends the exec stream: client-go's stream copier reads a stream to
// its end whatever the writer says, and reports a writer's error on
// stderr (runtime.HandleError), so the buffer never fails a write.
type cappedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
	stop func()
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.over {
		return len(p), nil
	}
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:room])
		c.over = true
		if c.stop != nil {
			c.stop()
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// execRun is one run of a command in a restored pod.
type execRun struct {
	// where is "pod NS/NAME container C", for messages.
	where  string
	stdout string
	// ready is whether the pod was Ready (its PodReady condition True)
	// when it was chosen, just before the command ran.
	ready bool
}

// execIn runs argv once in the container choice names (see choosePod),
// reading at most MaxExecOutput bytes of stdout and the last 400 of
// stderr. Its errors say where and why, and are classed for retry:
//
//   - final (waiting cannot fix them; retry stops at once): stdout past
//     MaxExecOutput; a command the container runtime could not start
//     (no such program in the image, not executable: see startFailure);
//     a container no chosen pod has; pods/exec forbidden or unauthorized;
//   - settled (the command ran and exited non-zero in a Ready pod: see
//     settled): the caller's expectation failing in a Ready pod is too;
//   - anything else is worth another attempt: no pod yet, not Running or
//     its container not started, not Ready, the API server unreachable or
//     answering 5xx, the stream cut.
func execIn(ctx context.Context, env checkEnv, choice PodChoice, argv []string) (execRun, error) {
	if env.exec == nil {
		return execRun{}, final(errors.New("no pods/exec client for the target"))
	}
	pod, container, err := choosePod(ctx, env.cs, choice)
	if err != nil {
		return execRun{}, err
	}
	run := execRun{where: fmt.Sprintf("pod %s/%s container %s", choice.Namespace, pod.Name, container), ready: podReady(pod)}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	out := &cappedBuffer{max: MaxExecOutput, stop: stop}
	errOut := &procenv.Tail{Max: 400}
	err = env.exec.Exec(sctx, choice.Namespace, pod.Name, container, argv, out, errOut)
	cmd := strings.Join(argv, " ")
	var exit utilexec.ExitError
	switch {
	case out.over:
		return run, final(fmt.Errorf("%s in %s: %w", cmd, run.where, errOutputLimit))
	case errors.As(err, &exit):
		err = fmt.Errorf("%s in %s exited %d: %s", cmd, run.where, exit.ExitStatus(), strings.TrimSpace(errOut.String()))
		if run.ready {
			return run, settled(err)
		}
		return run, err
	case err != nil && ctx.Err() == nil:
		if reason, ok := startFailure(err); ok {
			return run, final(&notStartedError{cmd: cmd, where: run.where, program: argv[0], reason: reason})
		}
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return run, final(fmt.Errorf("%s in %s: %w", cmd, run.where, err))
		}
		return run, fmt.Errorf("%s in %s: %w", cmd, run.where, err)
	case err != nil:
		return run, fmt.Errorf("%s in %s: %w", cmd, run.where, err)
	}
	run.stdout = out.buf.String()
	return run, nil
}

// notStartedError is a command the container runtime could not start.
type notStartedError struct {
	cmd, where, program string
	// reason is the runtime's, e.g. `exec: "cat": executable file not found in $PATH`.
	reason string
}

func (e *notStartedError) Error() string {
	return fmt.Sprintf("%s in %s could not start: %s (the image has no such program, or it is not executable: name one the image has)",
		e.cmd, e.where, e.reason)
}

// startFailures are how container runtimes say, through the kubelet and
// the API server, that an exec's process could not start: runc (through
// containerd, CRI-O or Docker) "OCI runtime exec failed: exec failed:
// unable to start container process: exec: "cat": executable file not
// found in $PATH", crun "executable file `cat` not found in $PATH".
var startFailures = []string{"unable to start container process: ", "executable file not found", "not found in $PATH"}

// startFailure reports whether err is the container runtime refusing to
// start the command, and its reason without the layers of prefixes the
// kubelet and the API server add ("Internal error occurred: Internal error
// occurred: error executing command in container: failed to exec in
// container: failed to start exec "ID": OCI runtime exec failed: exec
// failed: unable to start container process: ") and runc's ": unknown".
func startFailure(err error) (string, bool) {
	msg := err.Error()
	if !slices.ContainsFunc(startFailures, func(s string) bool { return strings.Contains(msg, s) }) {
		return "", false
	}
	reason := msg
	if _, after, ok := strings.Cut(msg, startFailures[0]); ok {
		reason = after
	} else if i := strings.LastIndex(msg, "exec failed: "); i >= 0 {
		reason = msg[i+len("exec failed: "):]
	}
	return strings.TrimSuffix(reason, ": unknown"), true
}

// choosePod finds the pod and container a check runs in: pod c.Pod, or
// of the pods c.Selector selects the first by name that is Ready, else
// the first that is Running; the container c.Container, else the pod's
// kubectl.kubernetes.io/default-container, else its first (as kubectl
// exec chooses). The container must be running: a restored pod waits in
// Velero's restore-helper init container until its volumes' data is
// written. That no pod is there or running yet is worth waiting for; a
// container none of the pods has is final (a pod's containers never
// change), as is a pod that cannot be read for lack of permission.
func choosePod(ctx context.Context, cs kubernetes.Interface, c PodChoice) (*corev1.Pod, string, error) {
	var pods []corev1.Pod
	if c.Pod != "" {
		p, err := cs.CoreV1().Pods(c.Namespace).Get(ctx, c.Pod, metav1.GetOptions{})
		if err != nil {
			return nil, "", finalIf(apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err),
				fmt.Errorf("read pod %s/%s: %w", c.Namespace, c.Pod, err))
		}
		pods = []corev1.Pod{*p}
	} else {
		l, err := cs.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: c.Selector})
		if err != nil {
			return nil, "", finalIf(apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err),
				fmt.Errorf("list pods %s of namespace %s: %w", c.Selector, c.Namespace, err))
		}
		pods = l.Items
		if len(pods) == 0 {
			return nil, "", fmt.Errorf("no pod of namespace %s matches %s", c.Namespace, c.Selector)
		}
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	var (
		states    []string
		running   *corev1.Pod
		runningIn string
		missing   int
	)
	for i := range pods {
		p := &pods[i]
		container := c.Container
		if container == "" {
			container = p.Annotations["kubectl.kubernetes.io/default-container"]
		}
		if container == "" && len(p.Spec.Containers) > 0 {
			container = p.Spec.Containers[0].Name
		}
		if !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == container }) {
			missing++
			states = append(states, fmt.Sprintf("%s has no container %s (its containers: %s)", p.Name, container, containerNames(p)))
			continue
		}
		started := slices.ContainsFunc(p.Status.ContainerStatuses, func(st corev1.ContainerStatus) bool {
			return st.Name == container && st.State.Running != nil
		})
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && started {
			if podReady(p) {
				return p, container, nil
			}
			if running == nil {
				running, runningIn = p, container
			}
			continue
		}
		states = append(states, fmt.Sprintf("%s is %s", p.Name, podState(p, container)))
	}
	if running != nil {
		return running, runningIn, nil
	}
	err := fmt.Errorf("no running pod to exec in, in namespace %s: %s", c.Namespace, strings.Join(states, "; "))
	return nil, "", finalIf(missing == len(pods), err)
}

func containerNames(p *corev1.Pod) string {
	names := make([]string, len(p.Spec.Containers))
	for i, c := range p.Spec.Containers {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// podState says why a pod's container is not running yet: its phase, and
// the waiting reason of an init container or of the container.
func podState(p *corev1.Pod, container string) string {
	state := string(p.Status.Phase)
	if p.DeletionTimestamp != nil {
		return state + ", being deleted"
	}
	for _, st := range p.Status.InitContainerStatuses {
		if st.State.Running != nil || st.State.Waiting != nil {
			return fmt.Sprintf("%s, init container %s not done", state, st.Name)
		}
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.Name == container && st.State.Waiting != nil {
			return fmt.Sprintf("%s, container %s waiting: %s", state, container, st.State.Waiting.Reason)
		}
	}
	return state
}

// checkExec runs one attempt of an exec check. Its errors are classed as
// execIn's; output not as expected is settled when the pod was Ready.
func checkExec(ctx context.Context, env checkEnv, c ExecCheck) (string, error) {
	run, err := execIn(ctx, env, c.PodChoice, c.Command)
	if err != nil {
		return "", err
	}
	cmd := strings.Join(c.Command, " ")
	switch {
	case c.ExpectOutput != nil:
		if got := strings.TrimRight(run.stdout, "\n"); got != *c.ExpectOutput {
			return "", settledIf(run.ready, fmt.Errorf("%s in %s printed %s, want %q", cmd, run.where, quoteOutput(got), *c.ExpectOutput))
		}
		return fmt.Sprintf("%s in %s printed %q", cmd, run.where, *c.ExpectOutput), nil
	case c.ExpectRegexp != "":
		re, err := regexp.Compile(c.ExpectRegexp)
		if err != nil {
			return "", final(fmt.Errorf("expected output: %w", err))
		}
		if !re.MatchString(run.stdout) {
			return "", settledIf(run.ready, fmt.Errorf("%s in %s printed %s, which %q does not match", cmd, run.where, quoteOutput(run.stdout), c.ExpectRegexp))
		}
		return fmt.Sprintf("%s in %s printed %s, which matches %q", cmd, run.where, quoteOutput(run.stdout), c.ExpectRegexp), nil
	}
	return fmt.Sprintf("%s in %s exited 0", cmd, run.where), nil
}

// quoteOutput quotes at most 200 bytes of a command's output for a message.
func quoteOutput(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%q (%d bytes)", s[:200]+"...", len(s))
	}
	return fmt.Sprintf("%q", s)
}

// fileCanary reads the data canary in the container c.Pod chooses (`cat
// FILE`, or c.Command, through execIn) and returns the newest time of its
// lines and where it was read. Its errors are classed as execIn's; content
// that holds no time is settled when the pod was Ready. An image without
// cat is said once, with the way out: a command of the image's own.
func fileCanary(ctx context.Context, env checkEnv, c DataCanaryCheck) (time.Time, string, error) {
	argv := c.reader()
	run, err := execIn(ctx, env, c.Pod, argv)
	var notStarted *notStartedError
	if len(c.Command) == 0 && errors.As(err, &notStarted) {
		return time.Time{}, "", final(fmt.Errorf("read file %s in %s: the image has no %s (%s): "+
			"use command: [PROGRAM, ARGS...] instead of file: a program the image has that prints %s",
			c.File, notStarted.where, argv[0], notStarted.reason, c.File))
	}
	if err != nil {
		return time.Time{}, "", err
	}
	where := fmt.Sprintf("file %s in %s", c.File, run.where)
	if c.File == "" {
		where = fmt.Sprintf("the output of %s in %s", strings.Join(argv, " "), run.where)
	}
	t, err := newestTime(run.stdout)
	if err != nil {
		return time.Time{}, where, settledIf(run.ready, fmt.Errorf("%s: %w", where, err))
	}
	return t, where, nil
}

// newestTime is the newest of the RFC 3339 times in s, one per non-empty
// line; a line that is not one is an error.
func newestTime(s string) (time.Time, error) {
	var newest time.Time
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, line)
		if err != nil {
			return time.Time{}, fmt.Errorf("line %d is not an RFC 3339 time: %s", i+1, quoteOutput(line))
		}
		if t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return time.Time{}, errors.New("it holds no time")
	}
	return newest, nil
}
