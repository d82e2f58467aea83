package restore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

var testReader = Reader{ClusterRole: "firedrill:firedrill:shop-drill:restored", ServiceAccount: "firedrill-shop-drill", Namespace: "firedrill"}

// readerCluster is a fake API server where the drill's identity may list
// Secrets in a namespace only once a RoleBinding grants it there, as RBAC
// would answer: SelfSubjectAccessReviews and Secret lists both follow the
// bindings of the fake.
func readerCluster(t *testing.T, namespaces ...string) *fake.Clientset {
	t.Helper()
	cs := fake.NewClientset()
	for _, n := range namespaces {
		_, err := cs.CoreV1().Namespaces().Create(context.Background(), ns(n), metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = cs.CoreV1().Secrets(n).Create(context.Background(), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: n},
			Data:       map[string][]byte{"password": []byte("restored-" + n)}}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	bound := func(ns string) bool {
		b, err := cs.Tracker().Get(rbacv1.SchemeGroupVersion.WithResource("rolebindings"), ns, ReaderBindingName)
		return err == nil && testReader.grants(b.(*rbacv1.RoleBinding))
	}
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = bound(r.Spec.ResourceAttributes.Namespace)
		if !r.Status.Allowed {
			r.Status.Reason = "RBAC: no rule allows it"
		}
		return true, r, nil
	})
	cs.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if bound(a.GetNamespace()) {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "",
			errors.New(`User "system:serviceaccount:firedrill:firedrill-shop-drill" cannot list resource "secrets"`))
	})
	return cs
}

func readerSession(t *testing.T, cs *fake.Clientset, reader *Reader, restored ...string) *Session {
	t.Helper()
	s, err := NewSession(Target{Kube: cs}, defaulted(Spec{DrillID: "fd-20261201-050913-8e67", IncludedNamespaces: restored,
		Backup: BackupSelector{Schedule: "daily"}}), Options{Reader: reader})
	require.NoError(t, err)
	s.tr.namespaces = restored
	return s
}

func bindingsOf(t *testing.T, cs *fake.Clientset) []rbacv1.RoleBinding {
	t.Helper()
	list, err := cs.RbacV1().RoleBindings("").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	return list.Items
}

// A scheduled drill binds its own ServiceAccount to the reader ClusterRole
// in each namespace it restored, and only there, before it reads the
// restored Secrets: their values are then known and kept out of its output.
func TestReader_BoundInEachRestoredNamespace(t *testing.T) {
	cs := readerCluster(t, "shop", "shop-data", "elsewhere")
	r := testReader
	s := readerSession(t, cs, &r, "shop", "shop-data")
	s.afterPhases(context.Background())

	bindings := bindingsOf(t, cs)
	require.Len(t, bindings, 2)
	for i, n := range []string{"shop", "shop-data"} {
		b := bindings[i]
		assert.Equal(t, n, b.Namespace)
		assert.Equal(t, ReaderBindingName, b.Name)
		assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "firedrill:firedrill:shop-drill:restored"}, b.RoleRef)
		assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "firedrill-shop-drill", Namespace: "firedrill"}}, b.Subjects, "the drill's identity, alone")
		assert.Equal(t, "fd-20261201-050913-8e67", b.Labels[LabelDrillID])
	}
	assert.ElementsMatch(t, []string{"restored-shop", "cmVzdG9yZWQtc2hvcA==", "restored-shop-data", "cmVzdG9yZWQtc2hvcC1kYXRh"}, s.SecretValues(),
		"the Secrets are read after the binding")
	assert.NoError(t, s.secretsErr)
	require.Len(t, s.res.Findings, 1)
	f := s.res.Findings[0]
	assert.Equal(t, finding.StatusPass, f.Status)
	assert.Equal(t, "restore.reader", f.ID)
	assert.Contains(t, f.Message, "shop, shop-data")
}

// A drill run by hand reads with its person's identity: no binding, and
// the Secrets are read as before.
func TestReader_NoneWithoutReader(t *testing.T) {
	cs := readerCluster(t, "shop")
	s := readerSession(t, cs, nil, "shop")
	s.afterPhases(context.Background())
	assert.Empty(t, bindingsOf(t, cs))
	assert.Empty(t, s.res.Findings)
	assert.Error(t, s.secretsErr, "this fake lets only a bound identity read")
}

// What the API server refuses is a warning naming the namespace and the
// API server's reason; the drill goes on.
func TestReader_RefusedIsAFinding(t *testing.T) {
	cs := readerCluster(t, "shop", "shop-data")
	cs.PrependReactor("create", "rolebindings", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() != "shop-data" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}, ReaderBindingName,
			errors.New("ValidatingAdmissionPolicy 'firedrill.firedrill.shop-drill' denied request: only the drill's restored namespaces"))
	})
	r := testReader
	s := readerSession(t, cs, &r, "shop", "shop-data")
	s.afterPhases(context.Background())

	require.Len(t, bindingsOf(t, cs), 1, "shop is bound all the same")
	var warns []finding.Finding
	for _, f := range s.res.Findings {
		if f.Status == finding.StatusWarn {
			warns = append(warns, f)
		}
	}
	require.Len(t, warns, 1)
	w := warns[0]
	assert.Equal(t, "restore.reader", w.ID)
	assert.Equal(t, "RoleBinding shop-data/firedrill-drill-reader", w.Subject)
	assert.Contains(t, w.Message, "system:serviceaccount:firedrill:firedrill-shop-drill cannot read the restored namespace shop-data")
	assert.Contains(t, w.Actual, "forbidden")
	assert.Contains(t, w.Actual, "ValidatingAdmissionPolicy 'firedrill.firedrill.shop-drill' denied request")
	assert.Contains(t, w.Hint, "firedrill schedule render")
	assert.Error(t, s.secretsErr, "the evidence says the Secrets of shop-data could not be read")
}

func TestReader_Cases(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*fake.Clientset)
		restore []string
		bound   []string
		warn    string // "" for none
	}{
		{"a namespace the restore did not create is skipped", nil, []string{"shop", "never-restored"}, []string{"shop"}, ""},
		{"a binding from the backup that grants the same is used", func(cs *fake.Clientset) {
			_, err := cs.RbacV1().RoleBindings("shop").Create(context.Background(), testReader.binding("shop", "older"), metav1.CreateOptions{})
			require.NoError(t, err)
		}, []string{"shop"}, nil, ""},
		{"a binding of that name granting something else is refused", func(cs *fake.Clientset) {
			b := testReader.binding("shop", "")
			b.Subjects[0].Name = "someone-else"
			_, err := cs.RbacV1().RoleBindings("shop").Create(context.Background(), b, metav1.CreateOptions{})
			require.NoError(t, err)
		}, []string{"shop"}, nil, "exists and binds ClusterRole firedrill:firedrill:shop-drill:restored to 1 subject"},
		{"a binding the API server never honours", func(cs *fake.Clientset) {
			cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
				r.Status.Reason = "RBAC: no rule allows it"
				return true, r, nil
			})
		}, []string{"shop"}, []string{"shop"}, "after the binding, the API server still does not allow listing Secrets in shop (RBAC: no rule allows it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := readerCluster(t, "shop")
			if tt.setup != nil {
				tt.setup(cs)
			}
			r := testReader
			r.Wait = 50 * time.Millisecond
			s := readerSession(t, cs, &r, tt.restore...)
			s.bindReader(context.Background())
			assert.Equal(t, tt.bound, s.tr.readerBindings, "bindings the drill created, and deletes if it keeps the namespaces")
			var warns []string
			for _, f := range s.res.Findings {
				if f.Status == finding.StatusWarn {
					warns = append(warns, f.Actual)
				}
			}
			if tt.warn == "" {
				assert.Empty(t, warns)
				return
			}
			require.Len(t, warns, 1)
			assert.Contains(t, warns[0], tt.warn)
		})
	}
}

// Cleanup that keeps the restored namespaces (policy never, or onSuccess
// after a failure) deletes the drill's bindings: its read access does not
// outlive the drill. A binding it found in place stays.
func TestReader_UnboundWhenNamespacesAreKept(t *testing.T) {
	cs := readerCluster(t, "shop", "shop-data")
	_, err := cs.RbacV1().RoleBindings("shop-data").Create(context.Background(), testReader.binding("shop-data", "restored"), metav1.CreateOptions{})
	require.NoError(t, err)
	r := testReader
	s := readerSession(t, cs, &r, "shop", "shop-data")
	s.spec.Cleanup = CleanupNever
	s.afterPhases(context.Background())
	require.Len(t, bindingsOf(t, cs), 2)

	require.NoError(t, s.Cleanup(context.Background(), false))
	left := bindingsOf(t, cs)
	require.Len(t, left, 1)
	assert.Equal(t, "shop-data", left[0].Namespace, "not the drill's to delete")
	assert.Equal(t, []string{"rolebinding/shop/firedrill-drill-reader"}, s.res.Cleanup.Deleted)
	assert.Equal(t, []string{"namespace/shop", "namespace/shop-data"}, s.res.Cleanup.Kept)
	_, err = cs.CoreV1().Namespaces().Get(context.Background(), "shop", metav1.GetOptions{})
	assert.NoError(t, err, "the namespace is kept")
}

func TestReader_Validate(t *testing.T) {
	assert.NoError(t, testReader.Validate())
	err := Reader{ClusterRole: "r"}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the ServiceAccount and the ServiceAccount's namespace not set")
	_, err = NewSession(Target{}, defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Schedule: "daily"}}),
		Options{Reader: &Reader{ServiceAccount: "a", Namespace: "b"}})
	assert.ErrorContains(t, err, "the ClusterRole not set")
}
