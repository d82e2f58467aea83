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

// errOutputLimit ends a stream whose stdout passed MaxExecOutput.
var errOutputLimit = fmt.Errorf("stdout is longer than %d bytes", MaxExecOutput)

// cappedBuffer keeps what is written up to max bytes and fails the write
// that would pass it, which ends the exec stream.
type cappedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:room])
		c.over = true
		return room, errOutputLimit
	}
	return c.buf.Write(p)
}

// execRun is one run of a command in a restored pod.
type execRun struct {
	// where is "pod NS/NAME container C", for messages.
	where  string
	stdout string
}

// execIn runs argv once in the container choice names (see choosePod),
// reading at most MaxExecOutput bytes of stdout and the last 400 of
// stderr. A non-zero exit, an unreadable pod or too much output is an
// error that says where and why.
func execIn(ctx context.Context, env checkEnv, choice PodChoice, argv []string) (execRun, error) {
	if env.exec == nil {
		return execRun{}, errors.New("no pods/exec client for the target")
	}
	pod, container, err := choosePod(ctx, env.cs, choice)
	if err != nil {
		return execRun{}, err
	}
	run := execRun{where: fmt.Sprintf("pod %s/%s container %s", choice.Namespace, pod.Name, container)}
	out := &cappedBuffer{max: MaxExecOutput}
	errOut := &procenv.Tail{Max: 400}
	err = env.exec.Exec(ctx, choice.Namespace, pod.Name, container, argv, out, errOut)
	cmd := strings.Join(argv, " ")
	var exit utilexec.ExitError
	switch {
	case out.over:
		return run, fmt.Errorf("%s in %s: %w", cmd, run.where, errOutputLimit)
	case errors.As(err, &exit):
		return run, fmt.Errorf("%s in %s exited %d: %s", cmd, run.where, exit.ExitStatus(), strings.TrimSpace(errOut.String()))
	case err != nil:
		return run, fmt.Errorf("%s in %s: %w", cmd, run.where, err)
	}
	run.stdout = out.buf.String()
	return run, nil
}

// choosePod finds the pod and container a check runs in: pod c.Pod, or
// the first pod by name that c.Selector selects and that is Running; the
// container c.Container, else the pod's kubectl.kubernetes.io/default-container,
// else its first container (as kubectl exec chooses). The container must be
// running: a restored pod waits in Velero's restore-helper init container
// until its volumes' data is written.
func choosePod(ctx context.Context, cs kubernetes.Interface, c PodChoice) (*corev1.Pod, string, error) {
	var pods []corev1.Pod
	if c.Pod != "" {
		p, err := cs.CoreV1().Pods(c.Namespace).Get(ctx, c.Pod, metav1.GetOptions{})
		if err != nil {
			return nil, "", fmt.Errorf("read pod %s/%s: %w", c.Namespace, c.Pod, err)
		}
		pods = []corev1.Pod{*p}
	} else {
		l, err := cs.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: c.Selector})
		if err != nil {
			return nil, "", fmt.Errorf("list pods %s of namespace %s: %w", c.Selector, c.Namespace, err)
		}
		pods = l.Items
		if len(pods) == 0 {
			return nil, "", fmt.Errorf("no pod of namespace %s matches %s", c.Namespace, c.Selector)
		}
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	var states []string
	for i := range pods {
		p := &pods[i]
		container := c.Container
		if container == "" {
			container = p.Annotations["kubectl.kubernetes.io/default-container"]
		}
		if container == "" && len(p.Spec.Containers) > 0 {
			container = p.Spec.Containers[0].Name
		}
		running := false
		for _, st := range p.Status.ContainerStatuses {
			if st.Name == container && st.State.Running != nil {
				running = true
			}
		}
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && running {
			return p, container, nil
		}
		states = append(states, fmt.Sprintf("%s is %s", p.Name, podState(p, container)))
	}
	return nil, "", fmt.Errorf("no running pod to exec in, in namespace %s: %s", c.Namespace, strings.Join(states, "; "))
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
	if !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == container }) {
		return fmt.Sprintf("%s, without a container %s", state, container)
	}
	return state
}

// checkExec runs one attempt of an exec check.
func checkExec(ctx context.Context, env checkEnv, c ExecCheck) (string, error) {
	run, err := execIn(ctx, env, c.PodChoice, c.Command)
	if err != nil {
		return "", err
	}
	cmd := strings.Join(c.Command, " ")
	switch {
	case c.ExpectOutput != nil:
		if got := strings.TrimRight(run.stdout, "\n"); got != *c.ExpectOutput {
			return "", fmt.Errorf("%s in %s printed %s, want %q", cmd, run.where, quoteOutput(got), *c.ExpectOutput)
		}
		return fmt.Sprintf("%s in %s printed %q", cmd, run.where, *c.ExpectOutput), nil
	case c.ExpectRegexp != "":
		re, err := regexp.Compile(c.ExpectRegexp)
		if err != nil {
			return "", fmt.Errorf("expected output: %w", err)
		}
		if !re.MatchString(run.stdout) {
			return "", fmt.Errorf("%s in %s printed %s, which %q does not match", cmd, run.where, quoteOutput(run.stdout), c.ExpectRegexp)
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
// lines and where it was read.
func fileCanary(ctx context.Context, env checkEnv, c DataCanaryCheck) (time.Time, string, error) {
	argv := c.reader()
	run, err := execIn(ctx, env, c.Pod, argv)
	if err != nil {
		return time.Time{}, "", err
	}
	where := fmt.Sprintf("file %s in %s", c.File, run.where)
	if c.File == "" {
		where = fmt.Sprintf("the output of %s in %s", strings.Join(argv, " "), run.where)
	}
	t, err := newestTime(run.stdout)
	if err != nil {
		return time.Time{}, where, fmt.Errorf("%s: %w", where, err)
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
