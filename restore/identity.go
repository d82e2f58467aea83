package restore

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ServiceAccountTokenExpiry is how long a token the serviceAccount check
// requests is valid: the shortest the API server accepts. The token is
// used for one TokenReview and never printed or kept.
const ServiceAccountTokenExpiry = 10 * time.Minute

// checkServiceAccount proves that a restored ServiceAccount can
// authenticate to the target's API server: Velero brings ServiceAccounts
// back, but not necessarily tokens that work, and CI/CD integrations that
// log in with them break. Without c.TokenSecret it requests a token for
// the ServiceAccount (TokenRequest); with it, it reads the long-lived
// token of that Secret. Either way the API server reviews the token
// (TokenReview) and must say it is the ServiceAccount's.
func checkServiceAccount(ctx context.Context, cs kubernetes.Interface, c ServiceAccountCheck) (string, error) {
	who := fmt.Sprintf("serviceaccount %s/%s", c.Namespace, c.Name)
	if _, err := cs.CoreV1().ServiceAccounts(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("%s is not in the target: not restored, or not in the backup (check the name)", who)
		}
		return "", fmt.Errorf("read %s: %w", who, err)
	}
	var token, which string
	if c.TokenSecret == "" {
		expiry := int64(ServiceAccountTokenExpiry / time.Second)
		tr, err := cs.CoreV1().ServiceAccounts(c.Namespace).CreateToken(ctx, c.Name,
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
		if err != nil {
			return "", fmt.Errorf("TokenRequest for %s refused: %w", who, err)
		}
		if tr.Status.Token == "" {
			return "", fmt.Errorf("TokenRequest for %s returned no token", who)
		}
		token, which = tr.Status.Token, "a requested token"
	} else {
		var err error
		if token, err = secretToken(ctx, cs, c); err != nil {
			return "", err
		}
		which = fmt.Sprintf("the token of Secret %s", c.TokenSecret)
	}
	review, err := cs.AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("TokenReview of %s of %s refused: %w", which, who, err)
	}
	want := "system:serviceaccount:" + c.Namespace + ":" + c.Name
	switch st := review.Status; {
	case !st.Authenticated:
		why := st.Error
		if why == "" {
			why = "no reason given"
		}
		return "", fmt.Errorf("the API server did not authenticate %s of %s: %s", which, who, why)
	case st.User.Username != want:
		return "", fmt.Errorf("%s of %s authenticated as %q, want %s", which, who, st.User.Username, want)
	}
	return fmt.Sprintf("%s authenticated as %s with %s (TokenReview)", who, want, which), nil
}

// secretToken reads the long-lived token of c.TokenSecret, which must be
// a ServiceAccount token Secret of c.Name. Errors never hold the token.
func secretToken(ctx context.Context, cs kubernetes.Interface, c ServiceAccountCheck) (string, error) {
	name := fmt.Sprintf("secret %s/%s", c.Namespace, c.TokenSecret)
	s, err := cs.CoreV1().Secrets(c.Namespace).Get(ctx, c.TokenSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", fmt.Errorf("%s (the token of serviceaccount %s/%s) is not in the target: not restored, or not in the backup (check the name)", name, c.Namespace, c.Name)
	case err != nil:
		return "", fmt.Errorf("read %s: %w", name, err)
	case s.Type != corev1.SecretTypeServiceAccountToken:
		return "", fmt.Errorf("%s is of type %s, want %s", name, s.Type, corev1.SecretTypeServiceAccountToken)
	case s.Annotations[corev1.ServiceAccountNameKey] != c.Name:
		return "", fmt.Errorf("%s is annotated %s=%q, want %q", name, corev1.ServiceAccountNameKey, s.Annotations[corev1.ServiceAccountNameKey], c.Name)
	case len(s.Data[corev1.ServiceAccountTokenKey]) == 0:
		return "", fmt.Errorf("%s holds no token (its key %q is empty)", name, corev1.ServiceAccountTokenKey)
	}
	return string(s.Data[corev1.ServiceAccountTokenKey]), nil
}
