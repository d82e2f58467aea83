#!/usr/bin/env bash
# host-packages.sh installs the Debian packages the lab's real nodes need,
# when any is missing: containerd, runc and the CNI plugins run the pods;
# iptables, conntrack and ipset serve kube-proxy and kube-router; nsenter
# (util-linux) and ip (iproute2) build the nodes' network namespaces. The
# lab runs as root (network namespaces, mounts), so apt-get works as is.
set -euo pipefail

need=()
for c in containerd ctr runc iptables conntrack ipset nsenter ip; do
	command -v "$c" >/dev/null 2>&1 || need+=("$c")
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || need+=(cni-plugins)
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "lab: missing ${need[*]}; the lab needs root to install and run them (network namespaces, containerd)" >&2
	exit 1
fi
echo "lab: installing Debian packages for the lab's nodes (missing: ${need[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends \
	containerd runc containernetworking-plugins iptables conntrack ipset util-linux iproute2 >&2
