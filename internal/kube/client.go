package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/firedrill-dev/firedrill/internal/safefile"
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
	if err := checkFiles(rules, context); err != nil {
		return nil, err
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

// checkFiles refuses, before client-go reads anything, kubeconfig files
// and the files the chosen context names (certificate-authority,
// client-certificate, client-key, tokenFile) that are not regular files of
// a sane size: client-go reads them whole, and opens them blocking, so
// /dev/zero would exhaust memory and a FIFO would hang past Ctrl-C.
// Other problems (a missing context, a syntax error) are left for
// client-go to report.
func checkFiles(rules *clientcmd.ClientConfigLoadingRules, context string) error {
	for _, p := range rules.GetLoadingPrecedence() {
		err := safefile.Check(p, safefile.Kubeconfig)
		if errors.Is(err, fs.ErrNotExist) && rules.ExplicitPath == "" {
			// Missing files of $KUBECONFIG are skipped, as client-go does.
			continue
		}
		if err != nil {
			return err
		}
	}
	raw, err := rules.Load()
	if err != nil {
		return nil
	}
	if context == "" {
		context = raw.CurrentContext
	}
	kc, ok := raw.Contexts[context]
	if !ok {
		return nil
	}
	var refs []string
	if c, ok := raw.Clusters[kc.Cluster]; ok {
		refs = append(refs, c.CertificateAuthority)
	}
	if u, ok := raw.AuthInfos[kc.AuthInfo]; ok {
		refs = append(refs, u.ClientCertificate, u.ClientKey, u.TokenFile)
	}
	for _, p := range refs {
		if p == "" {
			continue
		}
		if err := safefile.Check(p, safefile.KubeconfigRef); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func describe(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
