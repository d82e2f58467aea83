package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/procenv"
)

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Passed bool   `json:"passed"`
	// Skipped: the check did not run because the restore did not
	// complete; neither passed nor failed (the restore's own finding
	// says why), and no finding of its own.
	Skipped bool `json:"skipped,omitempty"`
	// Message says what was seen; on failure, why it failed.
	Message string `json:"message"`
	// Details list per-object states (workloads) when useful; a failed
	// workloads check adds why each workload and pod is not ready.
	Details  []string  `json:"details,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// DurationSeconds is Finished - Started; TimeoutSeconds the check's timeout.
	DurationSeconds float64 `json:"duration_seconds"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
	// CanaryTime and ApplicationRPOSeconds are set by a data canary check.
	CanaryTime            *time.Time `json:"canary_time,omitempty"`
	ApplicationRPOSeconds *float64   `json:"application_rpo_seconds,omitempty"`
}

// checkEnv is what checks need from the run.
type checkEnv struct {
	cs         kubernetes.Interface
	kubeconfig string
	context    string
	disaster   time.Time
	now        func() time.Time
	http       *http.Client
	// exec runs exec checks and file data canaries; nil fails them.
	exec Execer
}

// retryInterval paces HTTP, TCP and command checks, which have nothing to
// watch; Kubernetes checks use watches.
const retryInterval = time.Second

func runCheck(ctx context.Context, env checkEnv, c Check) CheckResult {
	r := CheckResult{Name: c.Name, Started: env.now(), TimeoutSeconds: c.Timeout.Seconds()}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var err error
	switch {
	case c.Workloads != nil:
		r.Kind = "workloads"
		r.Details, err = checkWorkloads(ctx, env.cs, c.Workloads.Namespace)
		if err == nil {
			r.Message = fmt.Sprintf("%s in namespace %s %s Available or complete", plural.Count(len(r.Details), "workload", "workloads"), c.Workloads.Namespace, plural.Of(len(r.Details), "is", "are"))
		}
	case c.DataCanary != nil:
		r.Kind = "dataCanary"
		dc := *c.DataCanary
		var (
			t     time.Time
			where string
		)
		if dc.inPod() {
			err = retryErr(ctx, func() error {
				var err error
				t, where, err = fileCanary(ctx, env, dc)
				return err
			})
		} else {
			t, err = checkCanary(ctx, env.cs, dc)
			where = fmt.Sprintf("ConfigMap %s/%s key %s", dc.Namespace, dc.ConfigMap, dc.Key)
		}
		if err == nil {
			rpo := env.disaster.Sub(t).Seconds()
			r.CanaryTime, r.ApplicationRPOSeconds = &t, &rpo
			r.Message = fmt.Sprintf("%s holds %s: the application's RPO is %s",
				where, t.UTC().Format(time.RFC3339Nano), durfmt.Seconds(rpo))
			if t.After(env.disaster) {
				err = fmt.Errorf("canary time %s is after the disaster (%s): the restored data cannot be from the backup",
					t.UTC().Format(time.RFC3339), env.disaster.UTC().Format(time.RFC3339))
			}
		}
	case c.HTTP != nil && c.HTTP.Service != nil:
		r.Kind = "http"
		r.Message, err = retry(ctx, func() (string, error) { return checkServiceHTTP(ctx, env.cs, *c.HTTP) })
	case c.HTTP != nil:
		r.Kind = "http"
		r.Message, err = retry(ctx, func() (string, error) { return checkHTTP(ctx, env.http, *c.HTTP) })
	case c.TCP != nil:
		r.Kind = "tcp"
		r.Message, err = retry(ctx, func() (string, error) { return checkTCP(ctx, c.TCP.Address) })
	case c.Command != nil:
		r.Kind = "command"
		r.Message, err = retry(ctx, func() (string, error) { return checkCommand(ctx, env, c.Command.Run) })
	case c.Exec != nil:
		r.Kind = "exec"
		r.Message, err = retry(ctx, func() (string, error) { return checkExec(ctx, env, *c.Exec) })
	case c.ServiceAccount != nil:
		r.Kind = "serviceAccount"
		r.Message, err = retry(ctx, func() (string, error) { return checkServiceAccount(ctx, env.cs, *c.ServiceAccount) })
	default:
		err = errors.New("check has no kind")
	}
	r.Finished = env.now()
	r.DurationSeconds = r.Finished.Sub(r.Started).Seconds()
	if err != nil {
		r.Message = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			r.Message = fmt.Sprintf("not passed within %s: %v", c.Timeout, err)
		}
		return r
	}
	r.Passed = true
	return r
}

// retry runs f until it passes or ctx ends, returning the last error,
// except that it returns at once an error f marks final (see final), and
// a settled error (see settled) when the attempt before failed settled
// too.
func retry(ctx context.Context, f func() (string, error)) (string, error) {
	settledRun := 0
	for {
		msg, err := f()
		if err == nil {
			return msg, nil
		}
		var fin *finalError
		if errors.As(err, &fin) {
			return "", err
		}
		var set *settledError
		if errors.As(err, &set) {
			settledRun++
			if settledRun >= settledAttempts {
				return "", err
			}
		} else {
			settledRun = 0
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w; last attempt: %v", ctx.Err(), err)
		case <-time.After(retryInterval):
		}
	}
}

// finalError is a check's failure that waiting cannot fix (a program
// not in the image, a container not in the pod, too much output, a
// permission missing): retry ends the check with it at once, since the
// check's time counts toward the drill's RTO.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// final marks err final (see finalError).
func final(err error) error { return &finalError{err} }

// finalIf is final(err) when cond holds, else err.
func finalIf(cond bool, err error) error {
	if cond {
		return final(err)
	}
	return err
}

// settledError is the failure of a command that ran in a pod that was
// Ready: it exited non-zero, or printed other than expected. Before the
// pod is Ready such a failure is retried (the application may still be
// starting: a database not yet accepting connections); once Ready, the
// pod's own readiness probe says the application is up, and the same
// answer again is the check's result: retry ends the check at the
// settledAttempts-th settled failure in a row. The second attempt keeps
// a read that met a file being rewritten from failing the check.
type settledError struct{ err error }

func (e *settledError) Error() string { return e.err.Error() }
func (e *settledError) Unwrap() error { return e.err }

// settled marks err settled (see settledError).
func settled(err error) error { return &settledError{err} }

// settledIf is settled(err) when ready holds, else err.
func settledIf(ready bool, err error) error {
	if ready {
		return settled(err)
	}
	return err
}

// settledAttempts is how many settled failures in a row end a check.
const settledAttempts = 2

// retryErr is retry for a function without a message.
func retryErr(ctx context.Context, f func() error) error {
	_, err := retry(ctx, func() (string, error) { return "", f() })
	return err
}

// checkWorkloads waits, re-evaluating on every watch event, until every
// Deployment, StatefulSet and DaemonSet of ns is Available and every Job
// has completed. A namespace without workloads fails: the restore brought
// nothing to run. When the check's time runs out, the error says why each
// workload is not ready, pod by pod, as kubelet and the scheduler report it
// (see diagnose), and the details carry the same lines.
func checkWorkloads(ctx context.Context, cs kubernetes.Interface, ns string) ([]string, error) {
	events := make(chan struct{}, 1)
	var watchers []watch.Interface
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()
	opens := []func(context.Context, metav1.ListOptions) (watch.Interface, error){
		cs.AppsV1().Deployments(ns).Watch, cs.AppsV1().StatefulSets(ns).Watch,
		cs.AppsV1().DaemonSets(ns).Watch, cs.BatchV1().Jobs(ns).Watch,
	}
	for _, open := range opens {
		w, err := open(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("watch workloads of namespace %s: %w", ns, err)
		}
		watchers = append(watchers, w)
		go func() {
			for range w.ResultChan() {
				select {
				case events <- struct{}{}:
				default:
				}
			}
		}()
	}
	var last []workload
	var lastErr error
	for {
		ws, err := workloadsOf(ctx, cs, ns)
		if err == nil {
			last = ws
			waiting := notReady(ws)
			if len(waiting) == 0 {
				return workloadDetails(ws), nil
			}
			texts := make([]string, len(waiting))
			for i, w := range waiting {
				texts[i] = w.detail
			}
			err = fmt.Errorf("not ready in namespace %s: %s", ns, strings.Join(texts, "; "))
		}
		lastErr = err
		select {
		case <-ctx.Done():
			waiting := notReady(last)
			if len(waiting) == 0 || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return workloadDetails(last), fmt.Errorf("%w: %v", ctx.Err(), lastErr)
			}
			// The check's own time is up, not the drill's: finding out why
			// gets a little more, on a context that has not ended.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseTimeout)
			defer cancel()
			lines := diagnose(dctx, cs, ns, waiting)
			return append(workloadDetails(last), lines...),
				fmt.Errorf("%w: not ready in namespace %s: %s", ctx.Err(), ns, strings.Join(lines, "; "))
		case <-events:
		}
	}
}

// workload is one Deployment, StatefulSet, DaemonSet or Job as the
// workloads check saw it.
type workload struct {
	// kind is the API kind: Deployment, StatefulSet, DaemonSet or Job.
	kind, name string
	ok         bool
	// detail is the line of the check's details: "Deployment web: 1/1 available".
	detail string
	// ready and want count pods (succeeded pods for a Job).
	ready, want int32
	selector    *metav1.LabelSelector
	// condition is the workload's own explanation, when its controller
	// gives one (a Deployment's ReplicaFailure, a Job's Failed).
	condition string
}

func notReady(ws []workload) []workload {
	var out []workload
	for _, w := range ws {
		if !w.ok {
			out = append(out, w)
		}
	}
	return out
}

func workloadDetails(ws []workload) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.detail
	}
	return out
}

func workloadsOf(ctx context.Context, cs kubernetes.Interface, ns string) ([]workload, error) {
	var ws []workload
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Deployments of %s: %w", ns, err)
	}
	for _, d := range deps.Items {
		w := workload{kind: "Deployment", name: d.Name, ok: deploymentAvailable(&d),
			detail: fmt.Sprintf("Deployment %s: %d/%d available", d.Name, d.Status.AvailableReplicas, replicas(d.Spec.Replicas)),
			ready:  d.Status.ReadyReplicas, want: replicas(d.Spec.Replicas), selector: d.Spec.Selector}
		for _, c := range d.Status.Conditions {
			failed := c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue
			stalled := c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse
			if (failed || stalled) && w.condition == "" {
				w.condition = conditionText(c.Reason, c.Message)
			}
		}
		ws = append(ws, w)
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list StatefulSets of %s: %w", ns, err)
	}
	for _, s := range sts.Items {
		ws = append(ws, workload{kind: "StatefulSet", name: s.Name,
			ok:     s.Status.ReadyReplicas >= replicas(s.Spec.Replicas) && s.Status.ObservedGeneration >= s.Generation,
			detail: fmt.Sprintf("StatefulSet %s: %d/%d ready", s.Name, s.Status.ReadyReplicas, replicas(s.Spec.Replicas)),
			ready:  s.Status.ReadyReplicas, want: replicas(s.Spec.Replicas), selector: s.Spec.Selector})
	}
	dss, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list DaemonSets of %s: %w", ns, err)
	}
	for _, d := range dss.Items {
		ws = append(ws, workload{kind: "DaemonSet", name: d.Name,
			ok:     d.Status.NumberAvailable >= d.Status.DesiredNumberScheduled && d.Status.ObservedGeneration >= d.Generation,
			detail: fmt.Sprintf("DaemonSet %s: %d/%d available", d.Name, d.Status.NumberAvailable, d.Status.DesiredNumberScheduled),
			ready:  d.Status.NumberReady, want: d.Status.DesiredNumberScheduled, selector: d.Spec.Selector})
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Jobs of %s: %w", ns, err)
	}
	for _, j := range jobs.Items {
		if len(j.OwnerReferences) > 0 {
			// Jobs of a CronJob come and go with its schedule.
			continue
		}
		w := workload{kind: "Job", name: j.Name, ok: jobComplete(&j),
			detail: fmt.Sprintf("Job %s: %d succeeded", j.Name, j.Status.Succeeded),
			ready:  j.Status.Succeeded, want: replicas(j.Spec.Completions), selector: j.Spec.Selector}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				w.condition = conditionText(c.Reason, c.Message)
			}
		}
		ws = append(ws, w)
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("no Deployment, StatefulSet, DaemonSet or Job in namespace %s", ns)
	}
	return ws, nil
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas < replicas(d.Spec.Replicas) {
		return false
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return replicas(d.Spec.Replicas) == 0
}

func jobComplete(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// checkCanary reads the canary time, waiting with a watch (see
// untilObject) for the ConfigMap to appear.
func checkCanary(ctx context.Context, cs kubernetes.Interface, c DataCanaryCheck) (time.Time, error) {
	sel := fields.OneTermEqualSelector("metadata.name", c.ConfigMap).String()
	cms := cs.CoreV1().ConfigMaps(c.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return cms.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return cms.Watch(ctx, o)
		},
	}
	var (
		t         time.Time
		canaryErr error
	)
	err := untilObject(ctx, cs, lw, &corev1.ConfigMap{}, c.Namespace+"/"+c.ConfigMap, nil, func(ev watch.Event) (bool, error) {
		if ev.Type == watch.Deleted {
			return false, nil
		}
		t, canaryErr = canaryTime(ev.Object.(*corev1.ConfigMap), c)
		return true, nil
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return time.Time{}, fmt.Errorf("ConfigMap %s/%s was not restored: %w", c.Namespace, c.ConfigMap, err)
	case err != nil:
		return time.Time{}, fmt.Errorf("read ConfigMap %s/%s: %w", c.Namespace, c.ConfigMap, err)
	}
	return t, canaryErr
}

func canaryTime(cm *corev1.ConfigMap, c DataCanaryCheck) (time.Time, error) {
	v, ok := cm.Data[c.Key]
	if !ok {
		return time.Time{}, fmt.Errorf("ConfigMap %s/%s has no key %q", c.Namespace, c.ConfigMap, c.Key)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("ConfigMap %s/%s key %q is not an RFC 3339 time: %q", c.Namespace, c.ConfigMap, c.Key, v)
	}
	return t, nil
}

func checkHTTP(ctx context.Context, client *http.Client, c HTTPCheck) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", c.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	minS, maxS := c.statusRange()
	if resp.StatusCode < minS || resp.StatusCode > maxS {
		return "", fmt.Errorf("GET %s answered %d, want %s", c.URL, resp.StatusCode, statusText(minS, maxS))
	}
	if c.BodyContains != "" {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return "", fmt.Errorf("GET %s: read body: %w", c.URL, err)
		}
		if !strings.Contains(string(body), c.BodyContains) {
			return "", fmt.Errorf("GET %s answered %d without %q in the body", c.URL, resp.StatusCode, c.BodyContains)
		}
	}
	return fmt.Sprintf("GET %s answered %d", c.URL, resp.StatusCode), nil
}

// statusRange is [MinStatus, MaxStatus], any 2xx when unset.
func (c HTTPCheck) statusRange() (minStatus, maxStatus int) {
	if c.MinStatus == 0 && c.MaxStatus == 0 {
		return 200, 299
	}
	return c.MinStatus, c.MaxStatus
}

// statusText is "200" or "200-299".
func statusText(minStatus, maxStatus int) string {
	if minStatus == maxStatus {
		return strconv.Itoa(minStatus)
	}
	return fmt.Sprintf("%d-%d", minStatus, maxStatus)
}

func checkTCP(ctx context.Context, addr string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn.Close()
	return "connected to " + addr, nil
}

// checkCommand runs one attempt of a command check. The command gets the
// environment of procenv (nothing of firedrill's credentials) with
// KUBECONFIG, the drill's private kubeconfig of the target (/dev/null
// without one: never the user's own file), and FIREDRILL_TARGET_CONTEXT,
// in a private temporary directory.
// It runs in a process group of its own, killed whole when the check's
// time runs out or the drill is interrupted, and when the command exits
// (see procenv.Run).
func checkCommand(ctx context.Context, env checkEnv, run []string) (string, error) {
	if len(run) == 0 {
		return "", errors.New("empty command")
	}
	kubeconfig := env.kubeconfig
	if kubeconfig == "" {
		kubeconfig = os.DevNull
	}
	// A private working directory, as runbook steps get: never firedrill's
	// own (the drill directory about to be signed, a user's checkout).
	dir, err := os.MkdirTemp("", "firedrill-check-")
	if err != nil {
		return "", fmt.Errorf("no working directory for %s: %w", strings.Join(run, " "), err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(run[0], run[1:]...)
	cmd.Dir = dir
	cmd.Env = procenv.Child("KUBECONFIG=" + kubeconfig)
	if env.context != "" {
		cmd.Env = append(cmd.Env, "FIREDRILL_TARGET_CONTEXT="+env.context)
	}
	out := &procenv.Tail{Max: 400}
	err = procenv.Run(ctx, cmd, out)
	tail := strings.TrimSpace(out.String())
	if err != nil {
		return "", fmt.Errorf("%s: %v: %s", strings.Join(run, " "), err, tail)
	}
	return fmt.Sprintf("%s exited 0", strings.Join(run, " ")), nil
}
