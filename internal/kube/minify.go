package kube

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Minify writes the kubeconfig the programs firedrill runs against the
// target (runbook steps, command checks) get through $KUBECONFIG: only
// the one context firedrill checked, with its cluster (server, CA, TLS
// settings) and its credentials, certificate files inlined, and nothing
// of the other contexts of kubeconfig. It is read once, when Minify is
// called (at the drill's preflight): switching the current context of
// the original file afterwards changes nothing for the drill.
//
// kubeconfig and context are as for Config: an empty kubeconfig means
// client-go's default rules or, in a pod without a kubeconfig, the pod's
// service account (its token and CA stay file references, as the kubelet
// rotates the token); an empty context means the current one. The file is
// mode 0600 in a private temporary directory (0700) that remove deletes;
// it is never in the drill's directory. Errors name the kubeconfig and
// context, never a credential.
func Minify(kubeconfig, context string) (path string, remove func(), err error) {
	noop := func() {}
	cfg, err := minified(kubeconfig, context)
	if err != nil {
		return "", noop, err
	}
	dir, err := os.MkdirTemp("", "firedrill-kubeconfig-")
	if err != nil {
		return "", noop, fmt.Errorf("private kubeconfig for the target: %w", err)
	}
	path = filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		os.RemoveAll(dir)
		return "", noop, fmt.Errorf("write private kubeconfig for context %s: %w", describe(context, "current"), err)
	}
	// WriteToFile keeps the mode of an existing file; this one is new,
	// and says so anyway.
	if err := os.Chmod(path, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", noop, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

func minified(kubeconfig, context string) (*clientcmdapi.Config, error) {
	if inCluster(kubeconfig) {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration: %w", err)
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["in-cluster"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthority: rc.TLSClientConfig.CAFile}
		cfg.AuthInfos["in-cluster"] = &clientcmdapi.AuthInfo{TokenFile: rc.BearerTokenFile}
		cfg.Contexts["in-cluster"] = &clientcmdapi.Context{Cluster: "in-cluster", AuthInfo: "in-cluster"}
		cfg.CurrentContext = "in-cluster"
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	if err := checkFiles(rules, context); err != nil {
		return nil, err
	}
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", describe(kubeconfig, "default"), err)
	}
	if context != "" {
		if _, ok := raw.Contexts[context]; !ok {
			return nil, fmt.Errorf("kubeconfig %s has no context %q", describe(kubeconfig, "default"), context)
		}
		raw.CurrentContext = context
	}
	if err := clientcmdapi.MinifyConfig(&raw); err != nil {
		return nil, fmt.Errorf("kubeconfig %s, context %s: %w", describe(kubeconfig, "default"), describe(context, "current"), err)
	}
	if err := clientcmdapi.FlattenConfig(&raw); err != nil {
		return nil, fmt.Errorf("kubeconfig %s, context %s: %w", describe(kubeconfig, "default"), describe(context, "current"), err)
	}
	raw.Preferences = clientcmdapi.Preferences{}
	raw.Extensions = nil
	return &raw, nil
}

// inCluster says whether Config would use the pod's service account.
func inCluster(kubeconfig string) bool {
	if kubeconfig != "" || os.Getenv("KUBERNETES_SERVICE_HOST") == "" || os.Getenv("KUBECONFIG") != "" {
		return false
	}
	_, err := os.Stat(clientcmd.RecommendedHomeFile)
	return err != nil
}

// Credentials are the secret values of rc, for the secret policy: its
// bearer token (read from its token file when it has one), its password,
// and its client key's PEM text (key is empty without one).
func Credentials(rc *rest.Config) (values []string, key string) {
	if rc == nil {
		return nil, ""
	}
	values = append(values, rc.BearerToken, rc.Password)
	if rc.BearerTokenFile != "" {
		if b, err := os.ReadFile(rc.BearerTokenFile); err == nil {
			values = append(values, string(b))
		}
	}
	key = string(rc.KeyData)
	if key == "" && rc.KeyFile != "" {
		if b, err := os.ReadFile(rc.KeyFile); err == nil {
			key = string(b)
		}
	}
	return values, key
}
