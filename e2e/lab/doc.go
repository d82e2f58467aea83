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
// Volume data (issue 17): both nodes run Velero's node-agent DaemonSet (the
// lab's Velero image, see images.go and velero.go), on local
// PersistentVolumes the lab creates (storage.go). The source's stateful
// back end is the StatefulSet shop-data/db: PVC data-db-0, volume "data"
// mounted at /data, holding /data/orders.log (append-only order log) and
// /data/canary (UTC time, RFC 3339 with nanoseconds, rewritten every 5 s);
// `env` prints these as FIREDRILL_LAB_DATA_*. Every lab backup holds that
// volume through file-system backup (kopia; repository under
// lab/kopia/shop-data/ in each bucket, replicated off-site and copied
// off-cloud with the rest of lab/).
//
// Every daemon is started detached, with its PID recorded under the lab's
// state directory, so `firedrill-lab up` returns and `firedrill-lab down`
// stops exactly what was started. Readiness is always a real health signal.
package lab
