package restore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// tokenAPI is an API server's token endpoints, for the fake clientset:
// TokenRequest issues "requested-token-of-NS-NAME", and TokenReview
// knows the tokens in users. Each field is a fault to inject.
type tokenAPI struct {
	// users maps a valid token to the user it authenticates.
	users map[string]string
	// requestErr refuses every TokenRequest.
	requestErr error
	// reviewErr refuses every TokenReview.
	reviewErr error
	// expirations records the expiry of each TokenRequest.
	expirations []int64
}

func (api *tokenAPI) install(cs *fake.Clientset) {
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca := a.(k8stesting.CreateActionImpl)
		if ca.GetSubresource() != "token" {
			return false, nil, nil
		}
		if api.requestErr != nil {
			return true, nil, api.requestErr
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest)
		if tr.Spec.ExpirationSeconds != nil {
			api.expirations = append(api.expirations, *tr.Spec.ExpirationSeconds)
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token: "requested-token-of-" + ca.GetNamespace() + "-" + ca.Name}}, nil
	})
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if api.reviewErr != nil {
			return true, nil, api.reviewErr
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		out := &authenticationv1.TokenReview{}
		if user, ok := api.users[tr.Spec.Token]; ok {
			out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: user}}
		} else {
			out.Status.Error = "invalid bearer token, service account token has been invalidated"
		}
		return true, out, nil
	})
}

func serviceAccount(name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}}
}

func tokenSecret(name, account, token string, set func(*corev1.Secret)) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: map[string]string{corev1.ServiceAccountNameKey: account}},
		Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{corev1.ServiceAccountTokenKey: []byte(token), "ca.crt": []byte("CA")}}
	if set != nil {
		set(s)
	}
	return s
}

// legacyToken is the long-lived token the tests keep in Secrets; it must
// never show in a message.
const legacyToken = "eyJhbGciOiJSUzI1NiJ9.legacy-token-of-ci-deployer"

func TestCheckServiceAccount(t *testing.T) {
	valid := map[string]string{
		"requested-token-of-shop-shop-api": "system:serviceaccount:shop:shop-api",
		"requested-token-of-shop-shop-web": "system:serviceaccount:shop:other",
		legacyToken:                        "system:serviceaccount:shop:ci-deployer",
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts/token"}, "shop-api",
		errors.New(`User "drill" cannot create resource "serviceaccounts/token"`))
	tests := []struct {
		name    string
		check   ServiceAccountCheck
		objects []runtime.Object
		api     tokenAPI
		pass    bool
		want    string
	}{
		{name: "requested token authenticates", check: ServiceAccountCheck{Namespace: "shop", Name: "shop-api"},
			objects: []runtime.Object{serviceAccount("shop-api")}, pass: true,
			want: "serviceaccount shop/shop-api authenticated as system:serviceaccount:shop:shop-api with a requested token (TokenReview)"},
		{name: "not restored", check: ServiceAccountCheck{Namespace: "shop", Name: "shop-api"},
			want: "last attempt: serviceaccount shop/shop-api is not in the target: not restored, or not in the backup"},
		{name: "token request refused", check: ServiceAccountCheck{Namespace: "shop", Name: "shop-api"},
			objects: []runtime.Object{serviceAccount("shop-api")}, api: tokenAPI{requestErr: forbidden},
			want: `TokenRequest for serviceaccount shop/shop-api refused: serviceaccounts/token "shop-api" is forbidden: User "drill" cannot create`},
		{name: "token review refused", check: ServiceAccountCheck{Namespace: "shop", Name: "shop-api"},
			objects: []runtime.Object{serviceAccount("shop-api")}, api: tokenAPI{reviewErr: apierrors.NewServiceUnavailable("authenticator down")},
			want: "TokenReview of a requested token of serviceaccount shop/shop-api refused: authenticator down"},
		{name: "wrong user", check: ServiceAccountCheck{Namespace: "shop", Name: "shop-web"},
			objects: []runtime.Object{serviceAccount("shop-web")},
			want:    `a requested token of serviceaccount shop/shop-web authenticated as "system:serviceaccount:shop:other", want system:serviceaccount:shop:shop-web`},
		{name: "legacy token authenticates", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer"), tokenSecret("ci-deployer-token", "ci-deployer", legacyToken, nil)}, pass: true,
			want: "serviceaccount shop/ci-deployer authenticated as system:serviceaccount:shop:ci-deployer with the token of Secret ci-deployer-token (TokenReview)"},
		{name: "legacy token invalidated", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "old-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer"), tokenSecret("old-token", "ci-deployer", "eyJhbGciOiJSUzI1NiJ9.from-the-lost-cluster", nil)},
			want:    "the API server did not authenticate the token of Secret old-token of serviceaccount shop/ci-deployer: invalid bearer token, service account token has been invalidated"},
		{name: "token secret not restored", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer")},
			want:    "secret shop/ci-deployer-token (the token of serviceaccount shop/ci-deployer) is not in the target: not restored, or not in the backup"},
		{name: "token secret of another type", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer"), tokenSecret("ci-deployer-token", "ci-deployer", legacyToken, func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque })},
			want:    "secret shop/ci-deployer-token is of type Opaque, want kubernetes.io/service-account-token"},
		{name: "token secret of another account", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer"), tokenSecret("ci-deployer-token", "shop-api", legacyToken, nil)},
			want:    `secret shop/ci-deployer-token is annotated kubernetes.io/service-account.name="shop-api", want "ci-deployer"`},
		{name: "token secret empty", check: ServiceAccountCheck{Namespace: "shop", Name: "ci-deployer", TokenSecret: "ci-deployer-token"},
			objects: []runtime.Object{serviceAccount("ci-deployer"), tokenSecret("ci-deployer-token", "ci-deployer", "", nil)},
			want:    `secret shop/ci-deployer-token holds no token (its key "token" is empty)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := fake.NewClientset(tt.objects...)
			api := tt.api
			api.users = valid
			api.install(cs)
			r := runCheck(context.Background(), checkEnv{cs: cs, now: time.Now},
				Check{Name: "identity", Timeout: 200 * time.Millisecond, ServiceAccount: &tt.check})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Equal(t, "serviceAccount", r.Kind)
			assert.Contains(t, r.Message, tt.want)
			for token := range valid {
				assert.NotContains(t, r.Message, token, "a token is never printed")
			}
			assert.NotContains(t, r.Message, "from-the-lost-cluster", "a token is never printed")
			for _, e := range api.expirations {
				assert.Equal(t, int64(600), e, "tokens are requested for ten minutes")
			}
			if tt.pass && tt.check.TokenSecret == "" {
				assert.NotEmpty(t, api.expirations, "a token was requested")
			}
		})
	}
}

// TestCheckServiceAccount_RetriesUntilRestored: the check waits, within
// its timeout, for a ServiceAccount that arrives late.
func TestCheckServiceAccount_RetriesUntilRestored(t *testing.T) {
	cs := fake.NewClientset()
	api := tokenAPI{users: map[string]string{"requested-token-of-shop-shop-api": "system:serviceaccount:shop:shop-api"}}
	api.install(cs)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = cs.CoreV1().ServiceAccounts("shop").Create(context.Background(), serviceAccount("shop-api"), metav1.CreateOptions{})
	}()
	r := runCheck(context.Background(), checkEnv{cs: cs, now: time.Now},
		Check{Name: "identity", Timeout: 5 * time.Second, ServiceAccount: &ServiceAccountCheck{Namespace: "shop", Name: "shop-api"}})
	require.True(t, r.Passed, r.Message)
	assert.True(t, strings.HasPrefix(r.Message, "serviceaccount shop/shop-api authenticated"), r.Message)
}
