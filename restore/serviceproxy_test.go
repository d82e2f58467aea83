package restore

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
)

const proxyPrefix = "/api/v1/namespaces/shop/services/"

// apiServerStatus is how the API server answers for itself: a Status.
func apiServerStatus(code int32, reason metav1.StatusReason, message string) []byte {
	b, _ := json.Marshal(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: message})
	return b
}

// fakeAPIServer answers service proxy requests as an API server does,
// with services behind it, and records the paths it was asked for.
type fakeAPIServer struct {
	mu    sync.Mutex
	paths []string
}

func (s *fakeAPIServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

func (s *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.mu.Unlock()
	status := func(code int32, reason metav1.StatusReason, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(code))
		_, _ = w.Write(apiServerStatus(code, reason, msg))
	}
	text := func(code int, contentType, body string) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
	switch strings.TrimPrefix(r.URL.Path, proxyPrefix) {
	case "http:web:80/proxy/healthz", "http:web:http/proxy/healthz":
		text(http.StatusOK, "text/plain", "ok")
	case "http:web:80/proxy":
		// The API server sends /proxy to /proxy/.
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	case "http:web:80/proxy/":
		text(http.StatusOK, "text/html", "<h1>shop root</h1>")
	case "http:web:80/proxy/created":
		w.WriteHeader(http.StatusNoContent)
	case "http:web:80/proxy/maintenance":
		text(http.StatusServiceUnavailable, "text/plain", "down for maintenance")
	case "http:web:80/proxy/gone":
		text(http.StatusNotFound, "text/html", "<p>not here</p>")
	case "http:idle:80/proxy/healthz":
		status(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "idle"`)
	case "http:missing:80/proxy/healthz":
		status(http.StatusNotFound, metav1.StatusReasonNotFound, `services "missing" not found`)
	default:
		status(http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	}
}

// TestCheckServiceHTTP_ThroughAPIServer runs the check with a real
// clientset against a fake API server: the request takes the path
// `kubectl get --raw` takes, and the message says who answered what.
func TestCheckServiceHTTP_ThroughAPIServer(t *testing.T) {
	api := &fakeAPIServer{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	require.NoError(t, err)
	svc := func(name, port string) *ServiceRef { return &ServiceRef{Namespace: "shop", Name: name, Port: port} }

	tests := []struct {
		name  string
		check HTTPCheck
		pass  bool
		want  string
	}{
		{"answers", HTTPCheck{Service: svc("web", "80"), Path: "/healthz", MinStatus: 200, MaxStatus: 200, BodyContains: "ok"}, true,
			"GET /healthz from service shop/web port 80 through the API server: the service answered 200"},
		{"port by name", HTTPCheck{Service: svc("web", "http"), Path: "/healthz"}, true,
			"GET /healthz from service shop/web port http through the API server: the service answered 200"},
		{"root, redirected as the API server does", HTTPCheck{Service: svc("web", "80"), BodyContains: "shop root"}, true,
			"GET / from service shop/web port 80 through the API server: the service answered 200"},
		{"exact status", HTTPCheck{Service: svc("web", "80"), Path: "/created", MinStatus: 200, MaxStatus: 200}, false,
			"the service answered 204, want 200"},
		{"any 2xx", HTTPCheck{Service: svc("web", "80"), Path: "/created"}, true, "the service answered 204"},
		{"body missing", HTTPCheck{Service: svc("web", "80"), Path: "/healthz", BodyContains: "all good"}, false,
			`the service answered 200 without "all good" in the body`},
		{"the service's own 503", HTTPCheck{Service: svc("web", "80"), Path: "/maintenance"}, false,
			"GET /maintenance from service shop/web port 80 through the API server: the service answered 503, want 200-299"},
		{"an expected 404 with its page", HTTPCheck{Service: svc("web", "80"), Path: "/gone", MinStatus: 404, MaxStatus: 404, BodyContains: "not here"}, true,
			"the service answered 404"},
		{"no endpoints", HTTPCheck{Service: svc("idle", "80"), Path: "/healthz", MinStatus: 200, MaxStatus: 599}, false,
			`GET /healthz from service shop/idle port 80 through the API server: 503 from the API server: no endpoints available for service "idle" (no ready pod backs the service, or it lacks the port)`}, // this imitation of the API server serves no Service objects,
		{"no such service, whatever is expected", HTTPCheck{Service: svc("missing", "80"), Path: "/healthz", MinStatus: 404, MaxStatus: 404}, false,
			`the API server answered 404 itself, the request did not reach the service: services "missing" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(context.Background(), checkEnv{cs: cs, now: time.Now}, Check{Name: "web", Timeout: 300 * time.Millisecond, HTTP: &tt.check})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Equal(t, "http", r.Kind)
			assert.Contains(t, r.Message, tt.want)
		})
	}
	assert.Contains(t, api.seen(), proxyPrefix+"http:web:80/proxy/healthz", "the path of kubectl get --raw /api/v1/namespaces/shop/services/http:web:80/proxy/healthz")
	assert.Contains(t, api.seen(), proxyPrefix+"http:web:80/proxy/", "the redirect was followed")

	srv.Close()
	r := runCheck(context.Background(), checkEnv{cs: cs, now: time.Now}, Check{Name: "web", Timeout: 300 * time.Millisecond,
		HTTP: &HTTPCheck{Service: svc("web", "80"), Path: "/healthz"}})
	assert.False(t, r.Passed)
	assert.Contains(t, r.Message, "last attempt: GET /healthz from service shop/web port 80 through the API server: Get ", "no API server, no answer")
}

// proxyResponse is what a fake clientset's proxy reactor answers.
type proxyResponse struct {
	body []byte
	err  error
}

func (p proxyResponse) DoRaw(context.Context) ([]byte, error) { return p.body, p.err }

func (p proxyResponse) Stream(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(string(p.body))), p.err
}

// TestCheckServiceHTTP_FakeClientset: with a fake clientset, whose proxy
// only has DoRaw, the check asks for the right Service and tells the API
// server's answers from the service's.
func TestCheckServiceHTTP_FakeClientset(t *testing.T) {
	noEndpoints := apierrors.NewGenericServerResponse(http.StatusServiceUnavailable, "GET", schema.GroupResource{Resource: "services"}, "http:web:80", "", 0, true)
	tests := []struct {
		name    string
		respond *proxyResponse
		port    string // default 80
		pass    bool
		want    string
	}{
		{"no proxy reactor", nil, "", false, "GET /healthz from service shop-dr/web port 80 through the API server: the Kubernetes client cannot proxy to services"},
		{"answers", &proxyResponse{body: []byte("ok")}, "", true, "the service answered 200"},
		{"no endpoints", &proxyResponse{body: apiServerStatus(503, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "web"`), err: noEndpoints}, "", false,
			`503 from the API server: no endpoints available for service "web" (no ready pod backs the service)`},
		{"no such port: the API server says no endpoints, the check says which ports there are", &proxyResponse{body: apiServerStatus(503, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "http:web:https"`), err: noEndpoints},
			"https", false, `no endpoints available for service "http:web:https" (service shop-dr/web has no port https; its ports: (unnamed)=80)`},
		{"the service's 503, with its body", &proxyResponse{body: []byte("{\"error\": \"warming up\"}\n"), err: noEndpoints}, "", false,
			`the service answered 503, want 200-299: {"error": "warming up"}`},
		{"a pod that does not answer: maybe a NetworkPolicy", &proxyResponse{body: apiServerStatus(503, metav1.StatusReasonServiceUnavailable, `error trying to reach service: dial tcp 198.18.32.37:9090: connect: connection refused`), err: noEndpoints},
			"", false, "or the namespace's NetworkPolicies do not admit the API server's proxied traffic to it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop-dr"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
			port := cmp.Or(tt.port, "80")
			if tt.respond != nil {
				cs.PrependProxyReactor("services", func(k8stesting.Action) (bool, rest.ResponseWrapper, error) { return true, *tt.respond, nil })
			}
			r := runCheck(context.Background(), checkEnv{cs: cs, now: time.Now}, Check{Name: "web", Timeout: 200 * time.Millisecond,
				HTTP: &HTTPCheck{Service: &ServiceRef{Namespace: "shop-dr", Name: "web", Port: port}, Path: "/healthz", BodyContains: "ok"}})
			assert.Equal(t, tt.pass, r.Passed, r.Message)
			assert.Contains(t, r.Message, tt.want)

			actions := cs.Actions()
			require.NotEmpty(t, actions)
			get, ok := actions[0].(k8stesting.ProxyGetAction)
			require.True(t, ok, "%T", actions[0])
			assert.Equal(t, []string{"shop-dr", "http", "web", port, "/healthz"},
				[]string{get.GetNamespace(), get.GetScheme(), get.GetName(), get.GetPort(), get.GetPath()})
		})
	}
}

var _ rest.ResponseWrapper = proxyResponse{}
