// Package lab starts the real systems firedrill is tested against, on
// 127.0.0.1 and without Docker: two MinIO servers (primary backup storage and
// its off-site replica), a Versity S3 gateway (an off-cloud copy on another S3
// implementation), and two Kubernetes clusters (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, Velero with its AWS plugin), each
// with one real node: kubelet, its own containerd, a CNI bridge, kube-proxy,
// kube-router for NetworkPolicies and CoreDNS, inside a network namespace
// the lab creates (network.go documents the addresses). The source
// cluster runs a realistic application on real containers and is backed up; the
// scratch cluster is marked for drills and hardened with an admission webhook
// that rejects workloads in namespaces without a NetworkPolicy, which is what
// makes Velero's default restore order fail for real.
//
// Every daemon is started detached, with its PID recorded under the lab's
// state directory, so `firedrill-lab up` returns and `firedrill-lab down`
// stops exactly what was started. Readiness is always a real health signal.
package lab
