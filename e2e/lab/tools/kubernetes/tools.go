//go:build tools

// Package tools pins the Kubernetes binaries the lab runs: the control
// plane, and the kubelet and kube-proxy of its real nodes.
// It is a separate module so the project's own go.mod stays small; the
// replace lines pin every staging module, as kubernetes' own go.mod does
// with ./staging paths that a module consumer cannot use.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
