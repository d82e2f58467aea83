#!/usr/bin/env bash
# build-bins.sh builds every binary the lab runs, once, into a cache outside
# the clone keyed by version, so fresh clones (CI) reuse them. A cold build of
# the whole lab takes tens of minutes on two cores; warm, this script takes
# about a second. Builds run one at a time: each big `go build` peaks near
# 2-3 GB RSS.
#
# Usage: build-bins.sh [NAME...]   (default: all)
# Prints the bin directory of each binary on success.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${FIREDRILL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firedrill/lab}"
bins="$cache/bin"
mkdir -p "$bins"

# Pinned versions. Changing one rebuilds only that binary.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
VERSITY_VERSION=v1.8.0
ETCD_VERSION=v3.6.16
KUBE_VERSION=v1.35.4
COREDNS_VERSION=v1.12.4
KUBE_ROUTER_VERSION=v2.1.0
VELERO_VERSION=v1.18.3
VELERO_AWS_VERSION=v1.14.3

ldflags_strip="-s -w"

# heartbeat prints elapsed time every 30 s while a build runs, so a long cold
# build does not look like a hang.
heartbeat() {
	local what=$1 start=$SECONDS
	while sleep 30; do
		echo "lab build: still building $what ($((SECONDS - start)) s)" >&2
	done
}

# build NAME VERSION CHECKFILE COMMAND...: runs COMMAND with $out set to the
# versioned directory unless CHECKFILE already exists there.
build() {
	local name=$1 version=$2 check=$3
	shift 3
	local out="$bins/$name-$version"
	if [[ -x "$out/$check" ]]; then
		return 0
	fi
	echo "lab build: building $name $version (cold builds take minutes)" >&2
	local tmp="$out.tmp"
	rm -rf "$tmp" && mkdir -p "$tmp"
	heartbeat "$name" &
	local hb=$!
	local start=$SECONDS
	# Module download chatter would bury the progress lines.
	if ! out="$tmp" "$@" 2> >(grep -v '^go: downloading' >&2); then
		kill "$hb" 2>/dev/null || true
		echo "lab build: FAILED building $name $version" >&2
		return 1
	fi
	kill "$hb" 2>/dev/null || true
	rm -rf "$out" && mv "$tmp" "$out"
	echo "lab build: built $name $version in $((SECONDS - start)) s" >&2
}

build_etcd() {
	build etcd "$ETCD_VERSION" etcdctl bash -c '
		set -e
		cd "'"$here"'/tools/etcd"
		CGO_ENABLED=0 go build -trimpath -ldflags "'"$ldflags_strip"'" -o "$out/etcd" go.etcd.io/etcd/server/v3
		CGO_ENABLED=0 go build -trimpath -ldflags "'"$ldflags_strip"'" -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3'
}

build_kube() {
	local v=$KUBE_VERSION minor
	minor=${v#v1.}
	minor=${minor%%.*}
	local ld="$ldflags_strip -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
	build kubernetes "$v" kube-scheduler bash -c '
		set -e
		cd "'"$here"'/tools/kubernetes"
		for c in kube-apiserver kube-controller-manager kube-scheduler; do
			echo "lab build:   $c" >&2
			CGO_ENABLED=0 go build -trimpath -ldflags "'"$ld"'" -o "$out/$c" k8s.io/kubernetes/cmd/$c
		done'
}

# kubectl is for runbook steps (the catalog's runbooks call it); it is kept
# apart from the control plane so adding it did not rebuild the rest.
build_kubectl() {
	local v=$KUBE_VERSION minor
	minor=${v#v1.}
	minor=${minor%%.*}
	local ld="$ldflags_strip -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
	build kubectl "$v" kubectl bash -c '
		set -e
		cd "'"$here"'/tools/kubernetes"
		CGO_ENABLED=0 go build -trimpath -ldflags "'"$ld"'" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl'
}

# The lab's real nodes: kubelet and kube-proxy from the same wrapper module
# (kept apart from the control plane so adding them rebuilt nothing else).
build_node() {
	local v=$KUBE_VERSION minor
	minor=${v#v1.}
	minor=${minor%%.*}
	local ld="$ldflags_strip -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
	build kube-node "$v" kube-proxy bash -c '
		set -e
		cd "'"$here"'/tools/kubernetes"
		for c in kubelet kube-proxy; do
			echo "lab build:   $c" >&2
			CGO_ENABLED=0 go build -trimpath -ldflags "'"$ld"'" -o "$out/$c" k8s.io/kubernetes/cmd/$c
		done'
}

build_velero() {
	local ld="$ldflags_strip -X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=0 -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$VELERO_VERSION"
	build velero "$VELERO_VERSION" velero bash -c '
		set -e
		cd "'"$here"'/tools/velero"
		CGO_ENABLED=0 go build -trimpath -ldflags "'"$ld"'" -o "$out/velero" github.com/vmware-tanzu/velero/cmd/velero'
}

# velero-restore-helper is the init container Velero puts in front of each
# restored pod with file-system-backed volumes; the lab's Velero image holds
# it next to /velero (see images.go). Its own directory, so adding it did not
# rebuild velero.
build_velero_helper() {
	build velero-restore-helper "$VELERO_VERSION" velero-restore-helper bash -c '
		set -e
		cd "'"$here"'/tools/velero"
		CGO_ENABLED=0 go build -trimpath -ldflags "'"$ldflags_strip"'" -o "$out/velero-restore-helper" github.com/vmware-tanzu/velero/cmd/velero-restore-helper'
}

goinstall() { # PKG@VERSION: go install into $out
	GOBIN="$out" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags_strip" "$1"
}
export -f goinstall
export ldflags_strip

build_minio() { build minio "$MINIO_VERSION" minio bash -c "goinstall github.com/minio/minio@$MINIO_VERSION"; }
build_versity() { build versitygw "$VERSITY_VERSION" versitygw bash -c "goinstall github.com/versity/versitygw/cmd/versitygw@$VERSITY_VERSION"; }
# CoreDNS serves the cluster DNS of each real node (its go.mod has no replace
# lines, so go install works).
# kube-router enforces NetworkPolicies on each node (its firewall only:
# iptables and ipset, which this kernel has; the nftables-queue based
# kube-network-policies needs NFT_QUEUE, which it lacks). v2.1.0 is the only
# v2 release the module proxy serves.
build_kube_router() { build kube-router "$KUBE_ROUTER_VERSION" kube-router bash -c "goinstall github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"; }
build_coredns() { build coredns "$COREDNS_VERSION" coredns bash -c "goinstall github.com/coredns/coredns@$COREDNS_VERSION"; }
build_velero_aws() {
	# The plugin goes alone in its directory: velero loads every executable
	# under --plugin-dir, and two copies of a plugin stop the server.
	build velero-plugin-for-aws "$VELERO_AWS_VERSION" velero-plugin-for-aws bash -c "goinstall github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws@$VELERO_AWS_VERSION"
}

all=(etcd kube node coredns kube_router minio versity velero velero_helper velero_aws kubectl)
want=("$@")
[[ ${#want[@]} -eq 0 ]] && want=("${all[@]}")
for w in "${want[@]}"; do
	"build_${w//-/_}"
done

# Print where each binary lives, for the lab to read.
cat <<OUT
ETCD_DIR=$bins/etcd-$ETCD_VERSION
KUBE_DIR=$bins/kubernetes-$KUBE_VERSION
KUBECTL_DIR=$bins/kubectl-$KUBE_VERSION
NODE_DIR=$bins/kube-node-$KUBE_VERSION
COREDNS_DIR=$bins/coredns-$COREDNS_VERSION
KUBE_ROUTER_DIR=$bins/kube-router-$KUBE_ROUTER_VERSION
MINIO_DIR=$bins/minio-$MINIO_VERSION
VERSITY_DIR=$bins/versitygw-$VERSITY_VERSION
VELERO_DIR=$bins/velero-$VELERO_VERSION
VELERO_HELPER_DIR=$bins/velero-restore-helper-$VELERO_VERSION
VELERO_AWS_DIR=$bins/velero-plugin-for-aws-$VELERO_AWS_VERSION
OUT
