package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Each cluster has one real node: a kubelet with its own containerd (runc,
// CNI bridge), kube-proxy in iptables mode, kube-router enforcing
// NetworkPolicies (its firewall only) and CoreDNS, all inside the
// node's network namespace (see nodeNet). Pods run real containers from the
// images the lab builds (see images.go).

// Ports inside a node's network namespace. The two nodes live in different
// namespaces, so they share these numbers.
const (
	kubeletPort        = 10250
	kubeletHealthzPort = 10248
	kubeProxyHealthz   = 10256
	kubeProxyMetrics   = 10249
	coreDNSReadyPort   = 8181
	coreDNSHealthPort  = 8081
	kubeRouterHealth   = 20244
)

func (k *cluster) net() nodeNet     { return labNets[k.name] }
func (k *cluster) nodeName() string { return "lab-" + k.name + "-node" }
func (k *cluster) containerdSocket() string {
	return k.dir("containerd", "containerd.sock")
}

// relayServer is where the node's pods and processes reach the API server.
func (k *cluster) relayServer() string {
	return "https://" + k.net().hostIP + ":" + strconv.Itoa(k.port(offsetAPIServer))
}

// node starts the cluster's node: network, relay, containerd (with the lab's
// images), kubelet, kube-proxy, CoreDNS, and the Service endpoints that point
// at the API server and CoreDNS. It returns once the Node is Ready and DNS
// answers.
func (k *cluster) node(ctx context.Context, images []string) error {
	n := k.net()
	if _, ok := k.cfg.alive(k.name + "-containerd"); !ok {
		// A containerd that died (or a lab that crashed) leaves pods,
		// mounts and network namespaces behind: clear them first.
		if err := k.nodeCleanup(ctx); err != nil {
			return fmt.Errorf("clean up what an earlier %s node left: %w", k.name, err)
		}
	}
	if err := n.up(ctx); err != nil {
		return fmt.Errorf("%s node network: %w", k.name, err)
	}
	if err := k.nodeCerts(); err != nil {
		return err
	}
	steps := []func(context.Context) error{
		k.relay,
		func(ctx context.Context) error { return k.containerd(ctx, images) },
		k.kubelet, k.kubeProxy, k.networkPolicies, k.coreDNS, k.clusterServices,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (k *cluster) nodeCerts() error {
	for _, s := range []certSpec{
		{name: k.name + "-kubelet", cn: "system:node:" + k.nodeName(), orgs: []string{"system:nodes"}, client: true},
		{name: "kube-proxy", cn: "system:kube-proxy", client: true},
	} {
		if err := k.pki.issue(s); err != nil {
			return err
		}
	}
	// The kubelet and kube-proxy have their own identities (Node
	// authorizer, system:node-proxier). CoreDNS and kube-router, which a
	// cluster runs as pods with their own ServiceAccounts, use the lab's
	// admin identity here: they run as node processes of a throwaway lab.
	for file, cert := range map[string]string{"kubelet.kubeconfig": k.name + "-kubelet", "kube-proxy.kubeconfig": "kube-proxy", "node-admin.kubeconfig": "admin", "kube-router.kubeconfig": "admin"} {
		if err := k.writeKubeconfigFile(k.dir("node", file), k.relayServer(), cert); err != nil {
			return err
		}
	}
	return nil
}

// relay makes the API server and the S3 servers reachable from the node at
// the machine's side of its veth.
func (k *cluster) relay(ctx context.Context) error {
	n := k.net()
	var routes []string
	for _, port := range []int{k.port(offsetAPIServer), portPrimaryS3, portOffsiteS3, portOffcloudS3} {
		routes = append(routes, fmt.Sprintf("%s:%d=127.0.0.1:%d", n.hostIP, port, port))
	}
	p, err := k.cfg.start(daemon{
		name: k.name + "-relay",
		path: k.cfg.Self,
		args: []string{"relay", "--routes", strings.Join(routes, ",")},
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, 30*time.Second, httpOK(insecureClient, k.relayServer()+"/livez"))
}

func (k *cluster) containerd(ctx context.Context, images []string) error {
	n := k.net()
	conf := k.dir("containerd", "config.toml")
	cniConf := k.dir("cni", "net.d")
	if err := mkdirs(k.dir("containerd"), cniConf, k.dir("cni", "ipam")); err != nil {
		return err
	}
	body := fmt.Sprintf(`# containerd of the lab's %[1]s node; written by firedrill-lab.
version = 2
root = %[2]q
state = %[3]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[4]q

[ttrpc]
  address = %[5]q

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %[6]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[7]q
  # This machine refuses a negative oom_score_adj even to root; without
  # this every pod sandbox fails to start.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = %[8]q
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[9]q
`, k.name, k.dir("containerd", "root"), k.dir("containerd", "state"), k.containerdSocket(),
		k.containerdSocket()+".ttrpc", k.dir("containerd", "opt"), PauseImage, n.nodeIP, cniConf)
	if err := writeIfChanged(conf, []byte(body)); err != nil {
		return err
	}
	// The bridge lives inside the node; no masquerade, and host-local
	// hands out addresses from the node's pod range only.
	cni := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "fdlab-%[1]s",
  "plugins": [{
    "type": "bridge",
    "bridge": %[2]q,
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": %[3]q}]],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dataDir": %[4]q
    }
  }]
}
`, k.name, n.bridge, n.podCIDR, k.dir("cni", "ipam"))
	if err := os.WriteFile(filepath.Join(cniConf, "10-fdlab.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	p, err := k.cfg.start(daemon{
		name:  k.name + "-containerd",
		path:  "/usr/bin/containerd",
		args:  []string{"--config", conf},
		netns: n.netnsPath(),
	})
	if err != nil {
		return err
	}
	if err := k.cfg.waitReady(ctx, p, time.Minute, func(ctx context.Context) error {
		return run(ctx, "ctr", "-a", k.containerdSocket(), "version")
	}); err != nil {
		return err
	}
	return importImages(ctx, k.containerdSocket(), images)
}

func (k *cluster) kubelet(ctx context.Context) error {
	n := k.net()
	conf := k.dir("node", "kubelet.yaml")
	body := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: %[2]d
readOnlyPort: 0
healthzBindAddress: %[1]s
healthzPort: %[3]d
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %[4]q}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://%[5]s
clusterDNS: [%[6]s]
clusterDomain: cluster.local
resolvConf: ""
podLogsDir: %[7]q
# This machine is cgroup v1 (hybrid): kubelet 1.35 refuses it unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
localStorageCapacityIsolation: false
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
`, n.nodeIP, kubeletPort, kubeletHealthzPort, k.pki.file("ca.crt"), k.containerdSocket(), n.dnsServiceIP(), k.dir("pod-logs"))
	if err := writeIfChanged(conf, []byte(body)); err != nil {
		return err
	}
	p, err := k.cfg.start(daemon{
		name: k.name + "-kubelet",
		path: filepath.Join(k.cfg.Bins.Node, "kubelet"),
		args: []string{
			"--config", conf,
			"--kubeconfig", k.dir("node", "kubelet.kubeconfig"),
			"--root-dir", k.dir("kubelet"),
			"--hostname-override", k.nodeName(),
			"--node-ip", n.nodeIP,
			"--v", "1",
		},
		netns: n.netnsPath(),
	})
	if err != nil {
		return err
	}
	cs, err := k.client()
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, 2*time.Minute, func(ctx context.Context) error {
		node, err := cs.CoreV1().Nodes().Get(ctx, k.nodeName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				if c.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("node %s not Ready: %s: %s", node.Name, c.Reason, c.Message)
			}
		}
		return fmt.Errorf("node %s has no Ready condition yet", node.Name)
	})
}

func (k *cluster) kubeProxy(ctx context.Context) error {
	n := k.net()
	conf := k.dir("node", "kube-proxy.yaml")
	body := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %[1]q}
hostnameOverride: %[2]s
bindAddress: %[3]s
healthzBindAddress: %[3]s:%[4]d
metricsBindAddress: %[3]s:%[5]d
mode: iptables
clusterCIDR: %[6]s
nodePortAddresses: [%[3]s/32]
# Leave the conntrack table's size and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`, k.dir("node", "kube-proxy.kubeconfig"), k.nodeName(), n.nodeIP, kubeProxyHealthz, kubeProxyMetrics, n.podCIDR)
	if err := writeIfChanged(conf, []byte(body)); err != nil {
		return err
	}
	p, err := k.cfg.start(daemon{
		name:  k.name + "-kube-proxy",
		path:  filepath.Join(k.cfg.Bins.Node, "kube-proxy"),
		args:  []string{"--config", conf},
		netns: n.netnsPath(),
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, time.Minute, httpOK(plainClient, fmt.Sprintf("http://%s:%d/healthz", n.nodeIP, kubeProxyHealthz)))
}

// networkPolicies runs kube-router's firewall, which turns NetworkPolicies
// into iptables rules and ipsets for the pods on the node. Without it a
// NetworkPolicy is an inert object, and a restore that lost an allow policy
// would still pass its checks.
func (k *cluster) networkPolicies(ctx context.Context) error {
	n := k.net()
	p, err := k.cfg.start(daemon{
		name: k.name + "-kube-router",
		path: filepath.Join(k.cfg.Bins.KubeRouter, "kube-router"),
		args: []string{
			"--kubeconfig", k.dir("node", "kube-router.kubeconfig"),
			"--hostname-override", k.nodeName(),
			"--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
			"--enable-cni=false", "--enable-ipv6=false",
			"--health-port", strconv.Itoa(kubeRouterHealth),
			"--metrics-port", "0",
			"--iptables-sync-period", "1m",
		},
		netns: n.netnsPath(),
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, time.Minute, httpOK(plainClient, fmt.Sprintf("http://%s:%d/healthz", n.nodeIP, kubeRouterHealth)))
}

func (k *cluster) coreDNS(ctx context.Context) error {
	n := k.net()
	conf := k.dir("node", "Corefile")
	// No forward plugin: names outside the cluster get no answer from
	// anywhere, since nothing may leave the machine.
	body := fmt.Sprintf(`.:53 {
    bind %[1]s
    errors
    health %[1]s:%[2]d
    ready %[1]s:%[3]d
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %[4]s lab-%[5]s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`, n.nodeIP, coreDNSHealthPort, coreDNSReadyPort, k.dir("node", "node-admin.kubeconfig"), k.name)
	if err := writeIfChanged(conf, []byte(body)); err != nil {
		return err
	}
	p, err := k.cfg.start(daemon{
		name:  k.name + "-coredns",
		path:  filepath.Join(k.cfg.Bins.CoreDNS, "coredns"),
		args:  []string{"-conf", conf},
		netns: n.netnsPath(),
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, time.Minute, httpOK(plainClient, fmt.Sprintf("http://%s:%d/ready", n.nodeIP, coreDNSReadyPort)))
}

// clusterServices points the kubernetes Service at the relay (the API
// server runs with --endpoint-reconciler-type=none) and creates kube-dns,
// a Service without selector whose endpoint is CoreDNS on the node.
func (k *cluster) clusterServices(ctx context.Context) error {
	cs, err := k.client()
	if err != nil {
		return err
	}
	n := k.net()
	const managedBy = "lab.firedrill.dev"
	dns := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{ClusterIP: n.dnsServiceIP(), Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
		}},
	}
	// Get first: creating it again is refused for its address before its
	// name.
	if _, err := cs.CoreV1().Services("kube-system").Get(ctx, dns.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if _, err := cs.CoreV1().Services("kube-system").Create(ctx, dns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create kube-dns Service: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("read kube-dns Service: %w", err)
	}
	apiPort := int32(k.port(offsetAPIServer))
	slices := []*discoveryv1.EndpointSlice{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "kubernetes-lab", Namespace: "default", Labels: map[string]string{
				discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: managedBy}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{n.hostIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: &apiPort, Protocol: ptr.To(corev1.ProtocolTCP)}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-lab", Namespace: "kube-system", Labels: map[string]string{
				discoveryv1.LabelServiceName: "kube-dns", discoveryv1.LabelManagedBy: managedBy}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{n.nodeIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports: []discoveryv1.EndpointPort{
				{Name: ptr.To("dns"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)},
				{Name: ptr.To("dns-tcp"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolTCP)},
			},
		},
	}
	for _, s := range slices {
		if _, err := cs.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return nil
}

// writeIfChanged writes a component's configuration only when it changed:
// kube-proxy exits when its file is written, even with the same content,
// and `up` on a running lab must leave running components alone.
func writeIfChanged(file string, content []byte) error {
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, content) {
		return nil
	}
	return os.WriteFile(file, content, 0o644)
}

// nodeHealth reports whether each node component answers.
func (k *cluster) nodeHealth(ctx context.Context) map[string]error {
	n := k.net()
	return map[string]error{
		k.name + "-relay":       httpOK(insecureClient, k.relayServer()+"/livez")(ctx),
		k.name + "-containerd":  run(ctx, "ctr", "-a", k.containerdSocket(), "version"),
		k.name + "-kubelet":     httpOK(plainClient, fmt.Sprintf("http://%s:%d/healthz", n.nodeIP, kubeletHealthzPort))(ctx),
		k.name + "-kube-proxy":  httpOK(plainClient, fmt.Sprintf("http://%s:%d/healthz", n.nodeIP, kubeProxyHealthz))(ctx),
		k.name + "-kube-router": httpOK(plainClient, fmt.Sprintf("http://%s:%d/healthz", n.nodeIP, kubeRouterHealth))(ctx),
		k.name + "-coredns":     httpOK(plainClient, fmt.Sprintf("http://%s:%d/ready", n.nodeIP, coreDNSReadyPort))(ctx),
	}
}

// nodeCleanup removes what the node's pods leave when containerd and the
// kubelet are gone: the containers' processes (under containerd's shims),
// the mounts under the cluster's state, and the pods' network namespaces.
// Down calls it after stopping the lab's processes, and node before
// starting a containerd, so a crashed lab is cleaned up by the next up.
func (k *cluster) nodeCleanup(ctx context.Context) error {
	killShims(k.containerdSocket())
	unmountUnder(k.dir())
	return k.net().down(ctx)
}

// killShims SIGKILLs every containerd shim started by the containerd at
// socket, and all their descendants (the pods' processes).
func killShims(socket string) {
	procs, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	var shims []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
				f := strings.Fields(string(stat)[i+1:])
				if len(f) > 2 {
					parent[pid], _ = strconv.Atoi(f[1])
				}
			}
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.Contains(args[0], "containerd-shim") {
			for i, a := range args {
				if a == "-address" && i+1 < len(args) && args[i+1] == socket {
					shims = append(shims, pid)
				}
			}
		}
	}
	doomed := map[int]bool{}
	for _, s := range shims {
		doomed[s] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if doomed[pp] && !doomed[pid] {
				doomed[pid] = true
				changed = true
			}
		}
	}
	for pid := range doomed {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range doomed {
		for time.Now().Before(deadline) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// unmountUnder detaches every mount whose mount point is under dir, deepest
// first (container root filesystems, pod volumes, sandbox /dev/shm).
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
