package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// ReaderBindingName names the RoleBinding through which a drill reads a
// namespace it restored (see Reader). The rendered RBAC and admission
// policy of a scheduled drill name it too (drill/schedule).
const ReaderBindingName = "firedrill-drill-reader"

// DefaultReaderWait bounds the wait for the API server to honour a new
// reader binding: its authorizer reads RoleBindings from a cache, which
// usually catches up in well under a second.
const DefaultReaderWait = 30 * time.Second

// readerPoll paces the access reviews while waiting: an authorizer's cache
// cannot be watched, only asked.
const readerPoll = 200 * time.Millisecond

// Reader is the identity a drill binds, in each namespace it restored, to
// a ClusterRole that reads everything there: a scheduled drill runs as a
// ServiceAccount with least-privilege RBAC, and its restored namespaces do
// not exist before the restore, so nothing can be bound inside them in
// advance. Without that read access runbook steps cannot wait for the
// restored workloads, and evidence cannot list the restored objects nor
// read the restored Secrets whose values must be kept out of everything
// the drill writes.
type Reader struct {
	// ClusterRole is the role bound. It must never be bound cluster-wide:
	// the RoleBindings are what confine its reads to the restored
	// namespaces.
	ClusterRole string
	// ServiceAccount and Namespace are the drill's own identity, the
	// binding's only subject.
	ServiceAccount, Namespace string
	// Wait bounds the wait until the API server honours a binding;
	// default DefaultReaderWait.
	Wait time.Duration
}

// User is the Reader's user name as the API server sees it.
func (r Reader) User() string {
	return "system:serviceaccount:" + r.Namespace + ":" + r.ServiceAccount
}

// Validate reports a Reader that names no role or no ServiceAccount.
func (r Reader) Validate() error {
	var missing []string
	if r.ClusterRole == "" {
		missing = append(missing, "the ClusterRole")
	}
	if r.ServiceAccount == "" {
		missing = append(missing, "the ServiceAccount")
	}
	if r.Namespace == "" {
		missing = append(missing, "the ServiceAccount's namespace")
	}
	if len(missing) > 0 {
		return fmt.Errorf("reader of the restored namespaces: %s not set", strings.Join(missing, " and "))
	}
	return nil
}

// binding is the RoleBinding that lets r read namespace ns.
func (r Reader) binding(ns, drillID string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ReaderBindingName, Namespace: ns,
			Labels: map[string]string{LabelDrillID: drillID, LabelManagedBy: managedBy}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: r.ClusterRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: r.ServiceAccount, Namespace: r.Namespace}},
	}
}

// grants reports whether b binds exactly what r would.
func (r Reader) grants(b *rbacv1.RoleBinding) bool {
	want := r.binding(b.Namespace, "")
	return b.RoleRef == want.RoleRef && slices.Equal(b.Subjects, want.Subjects)
}

// bindReader gives the Reader, when there is one, read access to each
// restored namespace and waits until the API server honours it, before
// anything reads them (the restored Secrets' values right after, the
// checks, the runbook steps, the evidence). A namespace the restore did not
// create is skipped: there is nothing to read. Whatever is refused is a
// warn finding naming it: the drill goes on, with what it cannot read
// reported again by the evidence.
func (s *Session) bindReader(ctx context.Context) {
	rd := s.opts.Reader
	if rd == nil || ctx.Err() != nil {
		return
	}
	s.tr.mu.Lock()
	namespaces := slices.Clone(s.tr.namespaces)
	s.tr.mu.Unlock()
	var bound []string
	for _, ns := range namespaces {
		ok, err := s.bindReaderIn(ctx, *rd, ns)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.res.Findings = append(s.res.Findings, finding.Warn("restore.reader", fmt.Sprintf("RoleBinding %s/%s", ns, ReaderBindingName),
				fmt.Sprintf("%s cannot read the restored namespace %s: runbook steps and evidence cannot read it, and its Secrets' values cannot be kept out of the drill's output", rd.User(), ns)).
				With(fmt.Sprintf("%s reads namespace %s through ClusterRole %s, bound there by the drill", rd.User(), ns, rd.ClusterRole),
					err.Error(),
					"apply the manifests 'firedrill schedule render' prints for this firedrill version: ClusterRole "+rd.ClusterRole+
						", the bind and rolebindings rules of the drill's ClusterRole, and the ValidatingAdmissionPolicy that admits the binding"))
			s.progressf("reader: %v", err)
			continue
		}
		if ok {
			bound = append(bound, ns)
		}
	}
	if len(bound) > 0 {
		s.res.Findings = append(s.res.Findings, finding.Pass("restore.reader", rd.User(),
			fmt.Sprintf("reads the restored namespaces %s through RoleBindings %s to ClusterRole %s, bound by the drill for the drill",
				strings.Join(bound, ", "), ReaderBindingName, rd.ClusterRole)))
		s.progressf("reader: %s reads %s (ClusterRole %s)", rd.User(), strings.Join(bound, ", "), rd.ClusterRole)
	}
}

// bindReaderIn binds r in ns and waits until listing Secrets there is
// allowed. It returns false, and no error, when ns does not exist.
func (s *Session) bindReaderIn(ctx context.Context, r Reader, ns string) (bool, error) {
	if _, err := s.t.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("read namespace %s: %w", ns, err)
	}
	bindings := s.t.Kube.RbacV1().RoleBindings(ns)
	_, err := bindings.Create(ctx, r.binding(ns, s.spec.DrillID), metav1.CreateOptions{})
	switch {
	case err == nil:
		s.tr.mu.Lock()
		s.tr.readerBindings = append(s.tr.readerBindings, ns)
		s.tr.mu.Unlock()
	case apierrors.IsAlreadyExists(err):
		// Restored from the backup, or left by someone: used when it grants
		// what the drill would, never deleted, since the drill did not
		// create it.
		existing, gerr := bindings.Get(ctx, ReaderBindingName, metav1.GetOptions{})
		if gerr != nil {
			return false, fmt.Errorf("RoleBinding %s/%s exists and cannot be read: %w", ns, ReaderBindingName, gerr)
		}
		if !r.grants(existing) {
			return false, fmt.Errorf("RoleBinding %s/%s exists and binds %s %s to %s, not %s to ClusterRole %s",
				ns, ReaderBindingName, existing.RoleRef.Kind, existing.RoleRef.Name, plural.Count(len(existing.Subjects), "subject", "subjects"), r.User(), r.ClusterRole)
		}
	default:
		return false, fmt.Errorf("create RoleBinding %s/%s to ClusterRole %s: %w", ns, ReaderBindingName, r.ClusterRole, err)
	}
	wait := r.Wait
	if wait <= 0 {
		wait = DefaultReaderWait
	}
	if err := waitAllowed(ctx, s.t.Kube, ns, wait); err != nil {
		return false, err
	}
	return true, nil
}

// waitAllowed asks the API server, with SelfSubjectAccessReviews (which
// every authenticated user may create), until it allows listing Secrets
// in ns, within timeout: the last thing a reader needs, and the first the
// drill does with it.
func waitAllowed(ctx context.Context, cs kubernetes.Interface, ns string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "list", Resource: "secrets"}}}
	for {
		res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("ask whether Secrets in %s may be listed (SelfSubjectAccessReview): %w", ns, err)
		}
		if res.Status.Allowed {
			return nil
		}
		select {
		case <-ctx.Done():
			why := res.Status.Reason
			if res.Status.EvaluationError != "" {
				why = strings.TrimSpace(why + " " + res.Status.EvaluationError)
			}
			if why == "" {
				why = "no reason given"
			}
			return fmt.Errorf("%s after the binding, the API server still does not allow listing Secrets in %s (%s): %w", timeout, ns, why, ctx.Err())
		case <-time.After(readerPoll):
		}
	}
}

// unbindReader deletes the reader bindings the drill created, for when
// cleanup keeps the restored namespaces: the read access must not outlive
// the drill. Without that, they go with their namespaces.
func unbindReader(ctx context.Context, cs kubernetes.Interface, tr *tracker, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var deleted []string
	var errs []error
	for _, ns := range tr.readerBindings {
		err := cs.RbacV1().RoleBindings(ns).Delete(ctx, ReaderBindingName, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete RoleBinding %s/%s: %w", ns, ReaderBindingName, err))
			continue
		}
		deleted = append(deleted, "rolebinding/"+ns+"/"+ReaderBindingName)
	}
	tr.readerBindings = nil
	return deleted, errors.Join(errs...)
}
