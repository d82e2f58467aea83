package kube

import (
	"fmt"
	"os"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients reach one cluster.
type Clients struct {
	// Kube is the typed client.
	Kube kubernetes.Interface
	// Dynamic reaches custom resources (Velero's).
	Dynamic dynamic.Interface
	// Config is what the clients were built from; the guard compares the
	// server URL and CA of two of them.
	Config *rest.Config
	// Kubeconfig and Context say where Config came from; Kubeconfig is
	// empty for the in-cluster configuration. Command checks pass them on.
	Kubeconfig, Context string
}

// Config reads a kubeconfig file and context into a client configuration.
// An empty kubeconfig means client-go's default rules ($KUBECONFIG, then
// ~/.kube/config); when neither names a file and firedrill runs in a pod,
// the pod's service account is used (firedrill as a Kubernetes Job). An
// empty context means the kubeconfig's current context.
func Config(kubeconfig, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	} else if os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBECONFIG") == "" {
		if _, err := os.Stat(clientcmd.RecommendedHomeFile); err != nil {
			rc, err := rest.InClusterConfig()
			if err != nil {
				return nil, fmt.Errorf("in-cluster configuration: %w", err)
			}
			return rc, nil
		}
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s (context %s): %w", describe(kubeconfig, "default"), describe(context, "current"), err)
	}
	return rc, nil
}

// New builds clients for the cluster kubeconfig and context name (see
// Config). It does not contact the cluster.
func New(kubeconfig, context string) (*Clients, error) {
	rc, err := Config(kubeconfig, context)
	if err != nil {
		return nil, err
	}
	// Drills create a few hundred objects and watch them; client-go's
	// default of 5 QPS would make firedrill itself the bottleneck.
	rc.QPS, rc.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", rc.Host, err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", rc.Host, err)
	}
	return &Clients{Kube: cs, Dynamic: dyn, Config: rc, Kubeconfig: kubeconfig, Context: context}, nil
}

func describe(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
