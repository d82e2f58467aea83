package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// cluster is one lab Kubernetes control plane with one real node.
type cluster struct {
	cfg  Config
	pki  *pki
	name string // "source" or "scratch"
	base int    // first of its ports
}

func (k *cluster) port(offset int) int { return k.base + offset }
func (k *cluster) dir(elem ...string) string {
	return k.cfg.path(append([]string{k.name}, elem...)...)
}

// Kubeconfig is the admin kubeconfig of the cluster; its context is
// "lab-<name>".
func (k *cluster) Kubeconfig() string { return k.dir("kubeconfig") }
func (k *cluster) Context() string    { return "lab-" + k.name }
func (k *cluster) server() string {
	return "https://127.0.0.1:" + strconv.Itoa(k.port(offsetAPIServer))
}

func (k *cluster) restConfig() (*rest.Config, error) {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: k.Kubeconfig()},
		&clientcmd.ConfigOverrides{CurrentContext: k.Context()}).ClientConfig()
}

func (k *cluster) client() (kubernetes.Interface, error) {
	rc, err := k.restConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// up starts the control plane, waiting for each component on its health
// endpoint. The node comes after (see node.go).
func (k *cluster) up(ctx context.Context) error {
	if err := k.certs(); err != nil {
		return fmt.Errorf("%s cluster certificates: %w", k.name, err)
	}
	if err := k.writeKubeconfig(); err != nil {
		return err
	}
	steps := []func(context.Context) error{k.etcd, k.apiserver, k.controllerManager, k.scheduler}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (k *cluster) certs() error {
	if err := k.pki.issue(certSpec{
		name: k.name + "-apiserver", cn: "kube-apiserver", server: true,
		// 127.0.0.1 for the machine, the relay's address for the node,
		// the kubernetes Service's address for pods.
		hosts: []string{"127.0.0.1", "localhost", k.net().hostIP, k.net().firstServiceIP(), "kubernetes", "kubernetes.default",
			"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}); err != nil {
		return err
	}
	// The API server calls the admission webhook with this client
	// certificate; it is also fine for any other loopback client.
	if err := k.pki.issue(certSpec{name: "admin", cn: "lab-admin", orgs: []string{"system:masters"}, client: true}); err != nil {
		return err
	}
	if err := k.pki.issue(certSpec{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}, client: true}); err != nil {
		return err
	}
	return k.pki.serviceAccountKey(k.name + "-sa")
}

func (k *cluster) writeKubeconfig() error {
	return k.writeKubeconfigFile(k.Kubeconfig(), k.server(), "admin")
}

// writeKubeconfigFile writes a kubeconfig for server with the client
// certificate cert of the lab's PKI; its one context is "lab-<cluster>".
func (k *cluster) writeKubeconfigFile(file, server, cert string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	ca, err := os.ReadFile(k.pki.file("ca.crt"))
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(k.pki.file(cert + ".crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(k.pki.file(cert + ".key"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[k.Context()] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos[k.Context()] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts[k.Context()] = &clientcmdapi.Context{Cluster: k.Context(), AuthInfo: k.Context()}
	cfg.CurrentContext = k.Context()
	return clientcmd.WriteToFile(*cfg, file)
}

func (k *cluster) etcd(ctx context.Context) error {
	client := fmt.Sprintf("http://127.0.0.1:%d", k.port(offsetEtcdClient))
	peer := fmt.Sprintf("http://127.0.0.1:%d", k.port(offsetEtcdPeer))
	p, err := k.cfg.start(daemon{
		name: k.name + "-etcd",
		path: filepath.Join(k.cfg.Bins.Etcd, "etcd"),
		args: []string{
			"--name", "lab-" + k.name, "--data-dir", k.dir("etcd"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "lab-" + k.name + "=" + peer,
			"--unsafe-no-fsync", "--log-level", "warn",
		},
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, time.Minute, httpOK(plainClient, client+"/health"))
}

func (k *cluster) apiserver(ctx context.Context) error {
	p, err := k.cfg.start(daemon{
		name: k.name + "-kube-apiserver",
		path: filepath.Join(k.cfg.Bins.Kube, "kube-apiserver"),
		args: []string{
			"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", k.port(offsetEtcdClient)),
			"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
			"--secure-port", strconv.Itoa(k.port(offsetAPIServer)),
			"--cert-dir", k.dir("apiserver-certs"),
			"--tls-cert-file", k.pki.file(k.name + "-apiserver.crt"),
			"--tls-private-key-file", k.pki.file(k.name + "-apiserver.key"),
			"--client-ca-file", k.pki.file("ca.crt"),
			"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file", k.pki.file(k.name + "-sa.pub"),
			"--service-account-signing-key-file", k.pki.file(k.name + "-sa.key"),
			"--service-cluster-ip-range", k.net().svcCIDR,
			"--authorization-mode", "RBAC,Node",
			// exec, logs and port-forward: the API server reaches the
			// kubelet at the node's address, as a client of the lab's CA.
			"--kubelet-preferred-address-types", "InternalIP",
			"--kubelet-client-certificate", k.pki.file("apiserver-kubelet-client.crt"),
			"--kubelet-client-key", k.pki.file("apiserver-kubelet-client.key"),
			"--endpoint-reconciler-type", "none",
			"--allow-privileged",
			"--profiling=false",
		},
	})
	if err != nil {
		return err
	}
	rc, err := k.restConfig()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return err
	}
	hc.Timeout = 3 * time.Second
	return k.cfg.waitReady(ctx, p, 2*time.Minute, httpOK(hc, k.server()+"/readyz"))
}

func (k *cluster) controllerManager(ctx context.Context) error {
	kc := k.Kubeconfig()
	p, err := k.cfg.start(daemon{
		name: k.name + "-kube-controller-manager",
		path: filepath.Join(k.cfg.Bins.Kube, "kube-controller-manager"),
		args: []string{
			"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
			"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(k.port(offsetControllerMgr)),
			"--cert-dir", k.dir("controller-manager-certs"),
			"--leader-elect=false",
			"--root-ca-file", k.pki.file("ca.crt"),
			"--service-account-private-key-file", k.pki.file(k.name + "-sa.key"),
			"--cluster-signing-cert-file", k.pki.file("ca.crt"),
			"--cluster-signing-key-file", k.pki.file("ca.key"),
			"--service-cluster-ip-range", k.net().svcCIDR,
			"--allocate-node-cidrs", "--cluster-cidr", k.net().podCIDR, "--node-cidr-mask-size", "24",
		},
	})
	if err != nil {
		return err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", k.port(offsetControllerMgr))
	return k.cfg.waitReady(ctx, p, 2*time.Minute, httpOK(insecureClient, url))
}

func (k *cluster) scheduler(ctx context.Context) error {
	conf := k.dir("scheduler.yaml")
	body := fmt.Sprintf("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"+
		"clientConnection:\n  kubeconfig: %q\nleaderElection:\n  leaderElect: false\n", k.Kubeconfig())
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return err
	}
	kc := k.Kubeconfig()
	p, err := k.cfg.start(daemon{
		name: k.name + "-kube-scheduler",
		path: filepath.Join(k.cfg.Bins.Kube, "kube-scheduler"),
		args: []string{
			"--config", conf,
			"--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
			"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(k.port(offsetScheduler)),
			"--cert-dir", k.dir("scheduler-certs"),
		},
	})
	if err != nil {
		return err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", k.port(offsetScheduler))
	return k.cfg.waitReady(ctx, p, 2*time.Minute, httpOK(insecureClient, url))
}

// health reports whether every control-plane component answers.
func (k *cluster) health(ctx context.Context) map[string]error {
	out := map[string]error{}
	out[k.name+"-etcd"] = httpOK(plainClient, fmt.Sprintf("http://127.0.0.1:%d/health", k.port(offsetEtcdClient)))(ctx)
	if rc, err := k.restConfig(); err != nil {
		out[k.name+"-kube-apiserver"] = err
	} else if hc, err := rest.HTTPClientFor(rc); err != nil {
		out[k.name+"-kube-apiserver"] = err
	} else {
		hc.Timeout = 2 * time.Second
		out[k.name+"-kube-apiserver"] = httpOK(hc, k.server()+"/readyz")(ctx)
	}
	out[k.name+"-kube-controller-manager"] = httpOK(insecureClient, fmt.Sprintf("https://127.0.0.1:%d/healthz", k.port(offsetControllerMgr)))(ctx)
	out[k.name+"-kube-scheduler"] = httpOK(insecureClient, fmt.Sprintf("https://127.0.0.1:%d/healthz", k.port(offsetScheduler)))(ctx)
	for n, err := range k.nodeHealth(ctx) {
		out[n] = err
	}
	return out
}
