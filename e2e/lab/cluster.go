package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// cluster is one lab Kubernetes control plane with a kwok node.
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

// up starts the control plane and the kwok node, waiting for each on its
// health endpoint, and returns once the node is Ready.
func (k *cluster) up(ctx context.Context) error {
	if err := k.certs(); err != nil {
		return fmt.Errorf("%s cluster certificates: %w", k.name, err)
	}
	if err := k.writeKubeconfig(); err != nil {
		return err
	}
	steps := []func(context.Context) error{k.etcd, k.apiserver, k.controllerManager, k.scheduler, k.kwok}
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
		hosts: []string{"127.0.0.1", "localhost", "10.0.0.1", "kubernetes", "kubernetes.default",
			"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}); err != nil {
		return err
	}
	// The API server calls the admission webhook with this client
	// certificate; it is also fine for any other loopback client.
	if err := k.pki.issue(certSpec{name: "admin", cn: "lab-admin", orgs: []string{"system:masters"}, client: true}); err != nil {
		return err
	}
	return k.pki.serviceAccountKey(k.name + "-sa")
}

func (k *cluster) writeKubeconfig() error {
	if err := os.MkdirAll(k.dir(), 0o755); err != nil {
		return err
	}
	ca, err := os.ReadFile(k.pki.file("ca.crt"))
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(k.pki.file("admin.crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(k.pki.file("admin.key"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[k.Context()] = &clientcmdapi.Cluster{Server: k.server(), CertificateAuthorityData: ca}
	cfg.AuthInfos[k.Context()] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts[k.Context()] = &clientcmdapi.Context{Cluster: k.Context(), AuthInfo: k.Context()}
	cfg.CurrentContext = k.Context()
	return clientcmd.WriteToFile(*cfg, k.Kubeconfig())
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
			"--service-cluster-ip-range", "10.0.0.0/24",
			"--authorization-mode", "RBAC,Node",
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
			"--service-cluster-ip-range", "10.0.0.0/24",
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

// kwokNodeAnnotation selects the nodes kwok simulates.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

func (k *cluster) kwok(ctx context.Context) error {
	stages := filepath.Join(k.cfg.Scripts, "kwok", "stages.yaml")
	p, err := k.cfg.start(daemon{
		name: k.name + "-kwok",
		path: filepath.Join(k.cfg.Bins.Kwok, "kwok"),
		args: []string{
			"--kubeconfig", k.Kubeconfig(),
			"--config", stages,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector", kwokNodeAnnotation + "=fake",
			// kwok's default pod CIDR overlaps the service range.
			"--cidr", "10.244.0.0/16",
			"--node-ip", "10.244.0.1",
			"--server-address", fmt.Sprintf("127.0.0.1:%d", k.port(offsetKwok)),
		},
	})
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", k.port(offsetKwok))
	if err := k.cfg.waitReady(ctx, p, time.Minute, httpOK(plainClient, url)); err != nil {
		return err
	}
	cs, err := k.client()
	if err != nil {
		return err
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "kwok-node-0",
			Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"},
		},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods: resource.MustParse("500"),
		}, Capacity: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods: resource.MustParse("500"),
		}},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create kwok node in %s cluster: %w", k.name, err)
	}
	return k.cfg.waitReady(ctx, p, time.Minute, func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("node %s not Ready yet", node.Name)
	})
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
	out[k.name+"-kwok"] = httpOK(plainClient, fmt.Sprintf("http://127.0.0.1:%d/healthz", k.port(offsetKwok)))(ctx)
	return out
}
