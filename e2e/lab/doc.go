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
// off-cloud with the rest of lab/). The db writes its canary only on the
// source's node ($CANARY_NODE), so a restored copy keeps its backup's
// canary; `/shop cat FILE` and `/shop sha256sum FILE` read files in the
// image, which has no shell.
//
// Found running it (Velero v1.18.3):
//   - A BackupStorageLocation's s3Url is used by node-agent and its
//     data-mover pods too (kopia), so it must be reachable from pods: the
//     lab's name the node's relay. A location a drill creates in the
//     scratch cluster (an off-site copy) needs the same, or its
//     PodVolumeRestores fail to reach the repository.
//   - A source PV with reclaim policy Retain and no snapshot is restored as
//     is (its path and node affinity are the source's); with Delete Velero
//     resets the claim and it binds to a scratch PV ("dynamically
//     re-provisioning"). Velero's restore finalizer then copies the source
//     PV's reclaim policy and labels onto that scratch PV, so after the
//     drill's cleanup it is Failed (no deleter for local volumes) rather
//     than Released; the reclaimer takes both and puts policy and labels
//     back.
//   - Restoring pods into the hardened scratch cluster takes two Restores,
//     NetworkPolicies first (the webhook refuses the pod otherwise). The
//     restored pod gets the init container velero-restore-helper (image of
//     the velero Deployment); it runs as the pod's user (65532 here) and
//     cannot remove the root-owned <volume>/.velero/<restore-uid> marker
//     ("unlinkat ... permission denied" in its log, restore Completed):
//     the restored volume keeps a .velero directory; compare files, not
//     directory listings.
//   - The off-site bucket keeps kopia blobs kopia later deleted on the
//     primary (session blobs "s...", delete markers are not replicated):
//     compare object versions, not listings of the latest objects.
//   - Repository maintenance Jobs (every hour by default) would run pods
//     and delete blobs; the lab sets --default-repo-maintain-frequency
//     168h, and --fs-backup-timeout 10m so a stuck pod volume operation
//     fails within a drill's time.
//   - Timings here: a backup of the shop with its one volume takes 5-7 s
//     (PodVolumeBackup 2 s, 81-132 bytes), the first one also creates the
//     repository; a Restore of shop-data with pods 5-6 s, its
//     PodVolumeRestore 2 s. lab-up went from about 80 s to 85 s (the wait
//     for the scratch cluster's backup sync dominates).
//
// Every daemon is started detached, with its PID recorded under the lab's
// state directory, so `firedrill-lab up` returns and `firedrill-lab down`
// stops exactly what was started. Readiness is always a real health signal.
package lab
