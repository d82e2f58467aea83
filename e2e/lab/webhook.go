package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// The scratch cluster is hardened the way the seeds describe: a workload may
// only be created in a namespace that already has a NetworkPolicy. This is
// the check that makes Velero's default restore order (Deployments before
// NetworkPolicies) fail.

const webhookName = "require-networkpolicy.firedrill.dev"

// WebhookDenyReason starts every refusal, so tests can find it in Velero's
// restore results.
const WebhookDenyReason = "hardened cluster: no NetworkPolicy in namespace"

// ServeWebhook runs the admission webhook until ctx ends. It asks the
// scratch cluster, on every request, whether the namespace has a
// NetworkPolicy: a cache could answer "no" for a policy created a
// moment before the workload, exactly the race a restore creates.
func ServeWebhook(ctx context.Context, addr, certFile, keyFile, kubeconfig string, log *slog.Logger) error {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /validate", func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad AdmissionReview", http.StatusBadRequest)
			return
		}
		req := review.Request
		resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		nps, err := cs.NetworkingV1().NetworkPolicies(req.Namespace).List(r.Context(), metav1.ListOptions{Limit: 1})
		switch {
		case err != nil:
			resp.Allowed = false
			resp.Result = &metav1.Status{Code: http.StatusInternalServerError, Message: "check NetworkPolicies: " + err.Error()}
		case len(nps.Items) == 0:
			resp.Allowed = false
			resp.Result = &metav1.Status{Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
				Message: fmt.Sprintf("%s %q: create NetworkPolicies before %s %q", WebhookDenyReason, req.Namespace, req.Kind.Kind, req.Name)}
		}
		log.Info("admission", "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "allowed", resp.Allowed)
		review.Response = resp
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.ListenAndServeTLS(certFile, keyFile); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// webhook starts the webhook server for the scratch cluster and registers
// it there.
func (k *cluster) webhook(ctx context.Context) error {
	if err := k.pki.issue(certSpec{name: "webhook", cn: "firedrill-lab-webhook", server: true,
		hosts: []string{"127.0.0.1", "localhost"}}); err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(portWebhook)
	p, err := k.cfg.start(daemon{
		name: "scratch-webhook",
		path: k.cfg.Self,
		args: []string{"webhook", "--listen", addr, "--cert", k.pki.file("webhook.crt"),
			"--key", k.pki.file("webhook.key"), "--kubeconfig", k.Kubeconfig()},
	})
	if err != nil {
		return err
	}
	if err := k.cfg.waitReady(ctx, p, 30*time.Second, httpOK(insecureClient, "https://"+addr+"/healthz")); err != nil {
		return err
	}
	ca, err := os.ReadFile(k.pki.file("ca.crt"))
	if err != nil {
		return err
	}
	kc, err := k.kube()
	if err != nil {
		return err
	}
	rule := func(group string, resources ...string) admissionregv1.RuleWithOperations {
		return admissionregv1.RuleWithOperations{
			Operations: []admissionregv1.OperationType{admissionregv1.Create},
			Rule: admissionregv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"},
				Resources: resources, Scope: ptr.To(admissionregv1.NamespacedScope)},
		}
	}
	fail := admissionregv1.Fail
	cfg := &admissionregv1.ValidatingWebhookConfiguration{
		TypeMeta:   typeMeta("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
		ObjectMeta: metav1.ObjectMeta{Name: "require-networkpolicy"},
		Webhooks: []admissionregv1.ValidatingWebhook{{
			Name: webhookName,
			ClientConfig: admissionregv1.WebhookClientConfig{
				URL: ptr.To("https://" + addr + "/validate"), CABundle: ca,
			},
			Rules: []admissionregv1.RuleWithOperations{
				rule("apps", "deployments", "statefulsets", "daemonsets", "replicasets"),
				rule("batch", "jobs", "cronjobs"),
				rule("", "pods"),
			},
			FailurePolicy:           &fail,
			SideEffects:             ptr.To(admissionregv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](5),
			// System namespaces and Velero's own are not the application's.
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn,
				Values: []string{"kube-system", "kube-public", "kube-node-lease", veleroNS},
			}}},
		}},
	}
	u, err := toUnstructured(cfg)
	if err != nil {
		return err
	}
	return kc.apply(ctx, u)
}
