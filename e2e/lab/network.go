package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The lab's network. Each cluster's node (its kubelet, containerd, CNI
// bridge, kube-proxy and CoreDNS) lives in a network namespace the lab
// creates, joined to the machine by one veth pair. Every address comes from
// 198.18.0.0/15, the block RFC 2544 reserves for benchmarking networks, so
// none can be mistaken for (or routed to) a real network:
//
//	                 machine side      node side         pods             Services
//	source node      198.18.0.5/30     198.18.0.6/30     198.18.16.0/24   198.18.128.0/24
//	scratch node     198.18.0.9/30     198.18.0.10/30    198.18.32.0/24   198.18.144.0/24
//
// The machine routes only each node's pod and Service ranges to that node;
// a node routes only the machine's side of its veth back. No node has a
// default route, nothing is masqueraded, and the machine's own
// net.ipv4.ip_forward is left as it is (0 here), so no packet from a pod can
// leave the machine, nor reach the other cluster's node. Servers the pods
// need (the API servers, the S3 servers) listen on 127.0.0.1; the lab's
// relay makes them reachable from pods at the machine side of the veth
// (198.18.0.5 or 198.18.0.9) and nowhere else.
type nodeNet struct {
	netns    string // network namespace name, e.g. fdlab-source
	hostVeth string // the machine's end of the veth pair
	hostIP   string // address of the machine's end
	nodeIP   string // address of the node's end (the Node's InternalIP)
	prefix   int    // of the veth pair's subnet
	podCIDR  string
	svcCIDR  string
	bridge   string // the CNI bridge inside the node
}

// labNets are the lab's two node networks, by cluster name.
var labNets = map[string]nodeNet{
	"source": {netns: "fdlab-source", hostVeth: "fdlab-source", hostIP: "198.18.0.5", nodeIP: "198.18.0.6", prefix: 30,
		podCIDR: "198.18.16.0/24", svcCIDR: "198.18.128.0/24", bridge: "fdlab-br0"},
	"scratch": {netns: "fdlab-scratch", hostVeth: "fdlab-scratch", hostIP: "198.18.0.9", nodeIP: "198.18.0.10", prefix: 30,
		podCIDR: "198.18.32.0/24", svcCIDR: "198.18.144.0/24", bridge: "fdlab-br0"},
}

// netnsPath is where `ip netns` keeps the namespace's handle.
func (n nodeNet) netnsPath() string { return filepath.Join("/var/run/netns", n.netns) }

// firstServiceIP is the address the API server gives the kubernetes Service.
func (n nodeNet) firstServiceIP() string { return nthIP(n.svcCIDR, 1) }

// dnsServiceIP is the kube-dns Service's address (the tenth, as kubeadm does).
func (n nodeNet) dnsServiceIP() string { return nthIP(n.svcCIDR, 10) }

func nthIP(cidr string, i int) string {
	_, ipn, err := net.ParseCIDR(cidr)
	if err != nil {
		panic(err) // the table above is constant
	}
	ip := ipn.IP.To4()
	out := make(net.IP, 4)
	copy(out, ip)
	out[3] += byte(i)
	return out.String()
}

// up creates the namespace, the veth pair, addresses and routes; each part
// only when missing, so a second `up` (or one after a crash) repairs rather
// than fails.
func (n nodeNet) up(ctx context.Context) error {
	if _, err := os.Stat(n.netnsPath()); errors.Is(err, os.ErrNotExist) {
		if err := run(ctx, "ip", "netns", "add", n.netns); err != nil {
			return err
		}
	}
	if !linkExists(ctx, "", n.hostVeth) {
		if err := run(ctx, "ip", "link", "add", n.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", n.netns); err != nil {
			return err
		}
	}
	steps := [][]string{
		{"ip", "addr", "replace", fmt.Sprintf("%s/%d", n.hostIP, n.prefix), "dev", n.hostVeth},
		{"ip", "link", "set", n.hostVeth, "up"},
		{"ip", "-n", n.netns, "addr", "replace", fmt.Sprintf("%s/%d", n.nodeIP, n.prefix), "dev", "eth0"},
		{"ip", "-n", n.netns, "link", "set", "eth0", "up"},
		{"ip", "-n", n.netns, "link", "set", "lo", "up"},
		// The machine reaches pods and Services through the node.
		{"ip", "route", "replace", n.podCIDR, "via", n.nodeIP, "dev", n.hostVeth},
		{"ip", "route", "replace", n.svcCIDR, "via", n.nodeIP, "dev", n.hostVeth},
		// The node routes Service addresses to the machine's side only so
		// that its own connections to them have a route before kube-proxy's
		// DNAT rewrites them; no default route.
		{"ip", "-n", n.netns, "route", "replace", n.svcCIDR, "via", n.hostIP, "dev", "eth0"},
	}
	for _, s := range steps {
		if err := run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	// Forwarding inside the node (pods <-> eth0), and bridged pod traffic
	// through iptables so kube-proxy's and the NetworkPolicy rules see it.
	for k, v := range map[string]string{
		"net/ipv4/ip_forward":                       "1",
		"net/bridge/bridge-nf-call-iptables":        "1",
		"net/bridge/bridge-nf-call-ip6tables":       "1",
		"net/ipv4/conf/all/rp_filter":               "0",
		"net/ipv4/conf/default/rp_filter":           "0",
		"net/netfilter/nf_conntrack_tcp_be_liberal": "1",
	} {
		if err := n.sysctl(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}

// sysctl writes a value under /proc/sys as seen from inside the node.
func (n nodeNet) sysctl(ctx context.Context, key, value string) error {
	return run(ctx, "nsenter", "--net="+n.netnsPath(), "--", "sh", "-c",
		fmt.Sprintf("test ! -e /proc/sys/%[1]s || echo %[2]s > /proc/sys/%[1]s", key, value))
}

// down deletes the namespace (and with it the node's end of the veth, the
// machine's end and the routes through it) and the pod network namespaces
// containerd made for the node's pods, which `ip netns` lists as cni-*.
func (n nodeNet) down(ctx context.Context) error {
	var errs []error
	for _, ns := range podNetnsIn(ctx, n.podCIDR) {
		errs = append(errs, run(ctx, "ip", "netns", "del", ns))
	}
	if _, err := os.Stat(n.netnsPath()); err == nil {
		errs = append(errs, run(ctx, "ip", "netns", "del", n.netns))
	}
	if linkExists(ctx, "", n.hostVeth) {
		errs = append(errs, run(ctx, "ip", "link", "del", n.hostVeth))
	}
	return errors.Join(errs...)
}

// podNetnsIn lists the cni-* network namespaces holding an address in cidr:
// those of this node's pods, left behind when containerd dies before it
// removes them.
func podNetnsIn(ctx context.Context, cidr string) []string {
	_, ipn, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir("/var/run/netns")
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "cni-") {
			continue
		}
		b, err := exec.CommandContext(ctx, "ip", "-n", e.Name(), "-o", "-4", "addr", "show").Output()
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if ip, _, err := net.ParseCIDR(f); err == nil && ipn.Contains(ip) {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

func linkExists(ctx context.Context, netns, name string) bool {
	args := []string{"link", "show", name}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	return exec.CommandContext(ctx, "ip", args...).Run() == nil
}

// run runs a setup command and returns its output in the error.
func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
