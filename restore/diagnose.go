package restore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

// A workloads check that fails must say why, as `kubectl describe` would:
// "not available" after ten minutes sends the person on call digging,
// while "ImagePullBackOff" or "CrashLoopBackOff (last exit 1: ...)" tells
// them where to look. The diagnosis reads pods and events only; it never
// changes anything.

const (
	// diagnoseTimeout bounds the diagnosis after the check's own time ran out.
	diagnoseTimeout = 15 * time.Second
	// maxPodsPerWorkload and maxEvents keep a diagnosis to a few lines.
	maxPodsPerWorkload = 3
	maxEvents          = 3
	// maxText caps each message quoted from the cluster.
	maxText = 240
	// reasonUnhealthy is kubelet's event reason for a failing probe.
	reasonUnhealthy = "Unhealthy"
)

// diagnose says, one line per workload and one per pod, why each workload
// of ws is not ready. Problems reading pods or events end up in the lines:
// a diagnosis never fails the check a second time.
func diagnose(ctx context.Context, cs kubernetes.Interface, ns string, ws []workload) []string {
	var lines []string
	for _, w := range ws {
		lines = append(lines, diagnoseWorkload(ctx, cs, ns, w)...)
	}
	return lines
}

func diagnoseWorkload(ctx context.Context, cs kubernetes.Interface, ns string, w workload) []string {
	verb := "ready"
	if w.kind == "Job" {
		verb = "succeeded"
	}
	head := fmt.Sprintf("%s %s/%s: %d of %d %s", strings.ToLower(w.kind), ns, w.name, w.ready, w.want, verb)
	if w.condition != "" {
		head += "; " + w.condition
	}
	pods, err := podsOf(ctx, cs, ns, w)
	if err != nil {
		return []string{head + "; " + err.Error()}
	}
	var failing []corev1.Pod
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && !podReady(&p) {
			failing = append(failing, p)
		}
	}
	if len(pods) == 0 {
		head += "; no pods"
		// Without pods, the controller's own warnings (FailedCreate: a
		// quota, an admission webhook) are the reason.
		if evs, err := warningEvents(ctx, cs, ns, w.kind, w.name, ""); err == nil {
			if t := eventsText(evs, head); t != "" {
				head += "; " + t
			}
		}
		return []string{head}
	}
	lines := []string{head}
	slices.SortFunc(failing, func(a, b corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	for i, p := range failing {
		if i == maxPodsPerWorkload {
			lines = append(lines, "and "+plural.Count(len(failing)-i, "more pod", "more pods")+" not ready")
			break
		}
		evs, err := warningEvents(ctx, cs, ns, "Pod", p.Name, p.UID)
		line := "pod " + p.Name + ": " + podProblem(&p, evs)
		if err != nil {
			line += "; events not read: " + err.Error()
		} else if t := eventsText(evs, line); t != "" {
			line += "; " + t
		}
		if c, ok := crashed(&p); ok {
			line += "; " + lastLogLine(ctx, cs, ns, p.Name, c)
		}
		lines = append(lines, line)
	}
	return lines
}

// podsOf lists the pods of w by its selector, as its controller finds them.
func podsOf(ctx context.Context, cs kubernetes.Interface, ns string, w workload) ([]corev1.Pod, error) {
	if w.selector == nil {
		return nil, fmt.Errorf("%s %s has no selector", w.kind, w.name)
	}
	sel, err := metav1.LabelSelectorAsSelector(w.selector)
	if err != nil {
		return nil, fmt.Errorf("selector of %s %s: %w", w.kind, w.name, err)
	}
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("pods not listed: %w", err)
	}
	return list.Items, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podProblem says in one line why p is not ready: not scheduled, a
// container waiting (with its last exit when it keeps restarting),
// terminated, or running but failing its readiness probe. evs are the
// pod's warning events, newest first.
func podProblem(p *corev1.Pod, evs []corev1.Event) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return "not scheduled: " + conditionText(c.Reason, c.Message)
		}
	}
	var parts []string
	for _, st := range p.Status.InitContainerStatuses {
		if st.State.Terminated != nil && st.State.Terminated.ExitCode == 0 {
			continue
		}
		if t := containerProblem("init container", st, evs); t != "" {
			// Later init containers and the app's containers wait for this one.
			return t
		}
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.Ready {
			continue
		}
		if t := containerProblem("container", st, evs); t != "" {
			parts = append(parts, t)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	if p.Status.Reason != "" {
		return fmt.Sprintf("%s: %s", p.Status.Phase, conditionText(p.Status.Reason, p.Status.Message))
	}
	return fmt.Sprintf("%s, not ready", cmp.Or(p.Status.Phase, corev1.PodPending))
}

func containerProblem(what string, st corev1.ContainerStatus, evs []corev1.Event) string {
	s := fmt.Sprintf("%s %s ", what, st.Name)
	switch {
	case st.State.Waiting != nil:
		w := st.State.Waiting
		s += "waiting"
		if w.Reason != "" {
			s += ": " + w.Reason
		}
		// CrashLoopBackOff's message only repeats the back-off; the last
		// exit says why.
		if w.Message != "" && w.Reason != "CrashLoopBackOff" {
			s += ": " + clip(w.Message)
		}
		if t := st.LastTerminationState.Terminated; t != nil {
			s += " (last " + exitText(t) + ")"
		}
	case st.State.Terminated != nil:
		s += "terminated: " + exitText(st.State.Terminated)
		if st.RestartCount > 0 {
			// Between two back-offs of a crash loop kubelet shows the
			// exit, not CrashLoopBackOff.
			s += fmt.Sprintf(", restarted %s (crash loop)", plural.Count(st.RestartCount, "time", "times"))
		}
	case st.State.Running != nil:
		s += "running but not ready"
		if e, ok := newest(evs, reasonUnhealthy); ok {
			s += ": " + clip(e.Message)
		}
	default:
		return ""
	}
	return s
}

// crashed names the first container of p that exited with an error (now
// or before its current restart): its log says why, when kubelet's
// termination message does not.
func crashed(p *corev1.Pod) (string, bool) {
	for _, st := range p.Status.ContainerStatuses {
		if st.Ready {
			continue
		}
		if t := st.State.Terminated; t != nil && t.ExitCode != 0 && t.Message == "" {
			return st.Name, true
		}
		if t := st.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && t.Message == "" && st.State.Terminated == nil {
			return st.Name, true
		}
	}
	return "", false
}

// lastLogLine is the last line the crashed container wrote, read through
// the API server as `kubectl logs --previous` does when the container
// already restarted.
func lastLogLine(ctx context.Context, cs kubernetes.Interface, ns, pod, container string) string {
	read := func(previous bool) (string, error) {
		b, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{
			Container: container, Previous: previous, TailLines: ptr.To[int64](1), LimitBytes: ptr.To[int64](512),
		}).DoRaw(ctx)
		return strings.TrimSpace(string(b)), err
	}
	line, err := read(false)
	if err != nil || line == "" {
		line, err = read(true)
	}
	if err != nil {
		return fmt.Sprintf("log of container %s not read: %v", container, err)
	}
	if line == "" {
		return fmt.Sprintf("container %s wrote no log", container)
	}
	return fmt.Sprintf("container %s last logged: %q", container, clip(line))
}

// exitText is "exit 1: "message"", with the reason when it says more than
// "Error" (OOMKilled, ContainerCannotRun).
func exitText(t *corev1.ContainerStateTerminated) string {
	s := fmt.Sprintf("exit %d", t.ExitCode)
	if t.Reason != "" && t.Reason != "Error" && t.Reason != "Completed" {
		s += " " + t.Reason
	}
	if m := clip(t.Message); m != "" {
		s += fmt.Sprintf(": %q", m)
	}
	return s
}

// warningEvents are the Warning events of one object, newest first. The
// field selector keeps the answer small on a real API server; the filter
// below is what decides (the fake clientset ignores field selectors).
// uid, when set, leaves out events of an earlier object of the same name
// (a StatefulSet's pods keep their names).
func warningEvents(ctx context.Context, cs kubernetes.Interface, ns, kind, name string, uid types.UID) ([]corev1.Event, error) {
	set := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name, "type": corev1.EventTypeWarning}
	if uid != "" {
		set["involvedObject.uid"] = string(uid)
	}
	list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.SelectorFromSet(set).String()})
	if err != nil {
		return nil, fmt.Errorf("list events of %s %s: %w", kind, name, err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		o := e.InvolvedObject
		if o.Kind != kind || o.Name != name || e.Type != corev1.EventTypeWarning || (uid != "" && o.UID != "" && o.UID != uid) {
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b corev1.Event) int { return eventTime(b).Compare(eventTime(a)) })
	return out, nil
}

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

func newest(evs []corev1.Event, reason string) (corev1.Event, bool) {
	for _, e := range evs {
		if e.Reason == reason {
			return e, true
		}
	}
	return corev1.Event{}, false
}

// eventsText is "events: Reason: message / ..." for the newest maxEvents
// distinct events of evs (newest first), leaving out those whose message
// already is in line.
func eventsText(evs []corev1.Event, line string) string {
	var seen, out []string
	for _, e := range evs {
		msg := clip(e.Message)
		key := e.Reason + ": " + msg
		if slices.Contains(seen, key) || (msg != "" && strings.Contains(line, msg)) {
			continue
		}
		seen = append(seen, key)
		out = append(out, key)
		if len(out) == maxEvents {
			break
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "events: " + strings.Join(out, " / ")
}

func conditionText(reason, message string) string {
	switch m := clip(message); {
	case reason == "":
		return m
	case m == "":
		return reason
	default:
		return reason + ": " + m
	}
}

// clip makes a message from the cluster one line of at most maxText bytes.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
