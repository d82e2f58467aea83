package restore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// checkServiceHTTP GETs c.Path of c.Service through the target API
// server's service proxy, with the target kubeconfig's credentials, as
// `kubectl get --raw /api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`
// does: a drill run from outside the cluster reaches a restored Service
// without an Ingress. When the API server answers itself (no endpoints,
// no such Service, forbidden), the check fails whatever status it
// expects: the request never reached the Service.
func checkServiceHTTP(ctx context.Context, cs kubernetes.Interface, c HTTPCheck) (string, error) {
	s := c.Service
	path := cmp.Or(c.Path, "/")
	what := fmt.Sprintf("GET %s from service %s/%s port %s through the API server", path, s.Namespace, s.Name, s.Port)
	a, err := proxyGet(ctx, cs, *s, path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if st := a.apiServer; st != nil {
		if a.code == http.StatusServiceUnavailable && strings.Contains(st.Message, "no endpoints available") {
			// The API server says the same for a port the Service does
			// not have: look before naming the cause.
			return "", fmt.Errorf("%s: 503 from the API server: %s (%s)", what, st.Message, whyNoEndpoints(ctx, cs, *s))
		}
		why := st.Message
		if strings.Contains(why, "connection refused") || strings.Contains(why, "i/o timeout") {
			// kube-proxy-less proxying dials the pod itself: a pod that
			// listens is refused when a NetworkPolicy admits no traffic
			// from outside the namespace to that port.
			why += " (a pod backs the service, but nothing answered on its port: the container does not listen there, or the namespace's NetworkPolicies do not admit the API server's proxied traffic to it)"
		}
		return "", fmt.Errorf("%s: the API server answered %d itself, the request did not reach the service: %s", what, a.code, why)
	}
	minS, maxS := c.statusRange()
	if a.code < minS || a.code > maxS {
		msg := fmt.Sprintf("%s: the service answered %d, want %s", what, a.code, statusText(minS, maxS))
		if b := bodySnippet(a.body); b != "" {
			msg += ": " + b
		}
		return "", errors.New(msg)
	}
	if c.BodyContains != "" && !strings.Contains(string(a.body), c.BodyContains) {
		return "", fmt.Errorf("%s: the service answered %d without %q in the body", what, a.code, c.BodyContains)
	}
	return fmt.Sprintf("%s: the service answered %d", what, a.code), nil
}

// whyNoEndpoints says why the API server found no endpoint for s: the
// Service lacks the port, or no ready pod backs it.
func whyNoEndpoints(ctx context.Context, cs kubernetes.Interface, s ServiceRef) string {
	svc, err := cs.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return "no ready pod backs the service, or it lacks the port"
	}
	var ports []string
	for _, p := range svc.Spec.Ports {
		if p.Name == s.Port || strconv.Itoa(int(p.Port)) == s.Port {
			return "no ready pod backs the service"
		}
		ports = append(ports, cmp.Or(p.Name, "(unnamed)")+"="+strconv.Itoa(int(p.Port)))
	}
	return fmt.Sprintf("service %s/%s has no port %s; its ports: %s", s.Namespace, s.Name, s.Port, strings.Join(ports, ", "))
}

// bodySnippet is the start of a response body for a failure message: one
// line, at most 200 bytes, printable text only.
func bodySnippet(b []byte) string {
	t := strings.Join(strings.Fields(string(b[:min(len(b), 200)])), " ")
	if !utf8.ValidString(t) {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, t)
}

// proxyAnswer is what a GET through the service proxy brought back.
type proxyAnswer struct {
	code int
	body []byte
	// apiServer is set when the API server answered itself instead of
	// the Service: its Status says why.
	apiServer *metav1.Status
}

// maxProxyBody bounds what is kept of a body for bodyContains.
const maxProxyBody = 4 << 20

// proxyGet GETs path from port s.Port of Service s through the API
// server's service proxy (ProxyGet, scheme http). An error means no
// answer came back (the API server was not reached, or the client cannot
// proxy); any HTTP answer is a proxyAnswer.
func proxyGet(ctx context.Context, cs kubernetes.Interface, s ServiceRef, path string) (proxyAnswer, error) {
	rw := cs.CoreV1().Services(s.Namespace).ProxyGet("http", s.Name, s.Port, path, nil)
	if rw == nil {
		// Only a fake clientset without a proxy reactor answers nothing.
		return proxyAnswer{}, errors.New("the Kubernetes client cannot proxy to services")
	}
	var a proxyAnswer
	var err error
	if req, ok := rw.(*rest.Request); ok {
		// Do keeps the status code; DoRaw, all a fake implements, folds
		// 200-206 into success.
		res := req.Do(ctx)
		res.StatusCode(&a.code)
		a.body, err = res.Raw()
	} else {
		a.body, err = rw.DoRaw(ctx)
	}
	if len(a.body) > maxProxyBody {
		a.body = a.body[:maxProxyBody]
	}
	if err == nil {
		a.code = cmp.Or(a.code, http.StatusOK)
		return a, nil
	}
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return proxyAnswer{}, err
	}
	st := se.Status()
	a.code = cmp.Or(a.code, int(st.Code))
	if len(a.body) == 0 && st.Details != nil {
		// client-go keeps a text body that no decoder reads in the error.
		for _, cause := range st.Details.Causes {
			if cause.Type == metav1.CauseTypeUnexpectedServerResponse {
				a.body = []byte(cause.Message)
			}
		}
	}
	var own metav1.Status
	if json.Unmarshal(a.body, &own) == nil && own.Kind == "Status" && own.Status == metav1.StatusFailure {
		a.apiServer = &own
	}
	return a, nil
}
