package lab

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// Storage on the real nodes: `local` PersistentVolumes the lab creates, one
// directory each under <state>/<cluster>/volumes/, with node affinity to
// the cluster's node, in the StorageClass lab-local (no provisioner,
// WaitForFirstConsumer). Not hostPath: Velero's file-system backup skips
// hostPath volumes, PVCs bound to hostPath PVs included.
//
// Source PVs have reclaim policy Delete: Velero then restores their claims
// without the PV object ("dynamically re-provisioning", velero
// pkg/restore/restore.go), so a restored claim binds to a free PV of the
// scratch cluster instead of a copy of a source PV whose path and node
// belong to the source. Drills delete what they restored, which leaves the
// scratch PVs Released (reclaim policy Retain): each cluster's
// pv-reclaimer (`firedrill-lab reclaim-volumes`) wipes the directory of
// every Released or Failed PV of lab-local and clears its claim, so the PV
// is Available again, drill after drill.
const (
	storageClass = "lab-local"
	// scratchPVs is how many PVs the scratch cluster offers: a drill of
	// the lab scenario binds two (the db's data and cache), and a few
	// drills run at once.
	scratchPVs = 12
	pvCapacity = "1Gi"
	// The PV's node, as a label (and an annotation, from which the
	// reclaimer puts the label back).
	pvNodeLabel = "lab.firedrill.dev/node"
	// The reclaim policy the lab gave the PV. A restore that binds a
	// scratch PV to a claim whose source PV Velero did not restore sets
	// the scratch PV's reclaim policy and labels to the source PV's
	// (velero pkg/controller/restore_finalizer_controller.go, "patch
	// dynamic PV"); the reclaimer puts both back.
	pvPolicyAnnotation = "lab.firedrill.dev/reclaim-policy"
)

// labPV is one local PV; claim pre-binds it to a claim (namespace/name).
type labPV struct {
	name  string
	claim string
}

// pvs are the cluster's PVs: on the source, four for the shop's claims
// that bind at first use plus two pre-bound to claims no pod mounts
// (seeded by manifests/app.yaml); on the scratch cluster, scratchPVs free
// ones.
func (k *cluster) pvs() []labPV {
	n := 4
	if k.name == "scratch" {
		n = scratchPVs
	}
	var out []labPV
	for i := 1; i <= n; i++ {
		out = append(out, labPV{name: fmt.Sprintf("lab-%s-pv-%02d", k.name, i)})
	}
	if k.name == "source" {
		out = append(out,
			labPV{name: "lab-source-pv-exports", claim: "shop/exports"},
			labPV{name: "lab-source-pv-warehouse", claim: "shop-analytics/warehouse"})
	}
	return out
}

// storage creates the StorageClass and the PVs (with their directories)
// that are missing, and starts the cluster's pv-reclaimer.
func (k *cluster) storage(ctx context.Context) error {
	cs, err := k.client()
	if err != nil {
		return err
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: storageClass},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", storageClass, err)
	}
	policy := corev1.PersistentVolumeReclaimRetain
	if k.name == "source" {
		policy = corev1.PersistentVolumeReclaimDelete
	}
	for _, v := range k.pvs() {
		dir := k.dir("volumes", v.name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		// Any pod user may write (the shop runs as 65532); umask aside.
		if err := os.Chmod(dir, 0o777); err != nil {
			return err
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: v.name, Labels: map[string]string{pvNodeLabel: k.nodeName()},
				Annotations: map[string]string{pvPolicyAnnotation: string(policy), pvNodeLabel: k.nodeName()}},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(pvCapacity)},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: policy,
				StorageClassName:              storageClass,
				VolumeMode:                    ptr.To(corev1.PersistentVolumeFilesystem),
				PersistentVolumeSource:        corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}},
				NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{k.nodeName()}}},
				}}}},
			},
		}
		if ns, name, ok := strings.Cut(v.claim, "/"); ok {
			pv.Spec.ClaimRef = &corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: name}
		}
		// Create only: the PV controller owns claimRef and status.
		if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create PersistentVolume %s: %w", v.name, err)
		}
	}
	p, err := k.cfg.start(daemon{
		name: k.name + "-pv-reclaimer",
		path: k.cfg.Self,
		args: []string{"reclaim-volumes", "--kubeconfig", k.Kubeconfig(), "--dir", k.dir("volumes")},
	})
	if err != nil {
		return err
	}
	// Ready: the process runs (it logs each PV it frees).
	return k.cfg.waitReady(ctx, p, 10*time.Second, func(context.Context) error {
		if _, ok := k.cfg.alive(p.d.name); !ok {
			return fmt.Errorf("%s is not running", p.d.name)
		}
		return nil
	})
}

// ReclaimVolumes frees, every 2 seconds until ctx ends, each PV of the
// StorageClass lab-local that is Released or Failed and whose local path is
// under dir: it removes everything in the PV's directory, then clears the
// PV's claimRef (and puts back the reclaim policy and labels the lab gave
// it), which makes the PV controller mark it Available. A PV
// whose path is outside dir is never touched.
func ReclaimVolumes(ctx context.Context, kubeconfig, dir string, log *slog.Logger) error {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if err := reclaimOnce(ctx, cs, dir, log); err != nil && ctx.Err() == nil {
			log.Warn("reclaim volumes", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func reclaimOnce(ctx context.Context, cs kubernetes.Interface, dir string, log *slog.Logger) error {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, pv := range pvs.Items {
		if pv.Spec.StorageClassName != storageClass || pv.Spec.Local == nil ||
			(pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed) {
			continue
		}
		path := filepath.Clean(pv.Spec.Local.Path)
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("PV %s: %w", pv.Name, err)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(path, e.Name())); err != nil {
				return fmt.Errorf("PV %s: wipe: %w", pv.Name, err)
			}
		}
		claim := ""
		if pv.Spec.ClaimRef != nil {
			claim = pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
		}
		pv.Spec.ClaimRef = nil
		if p := pv.Annotations[pvPolicyAnnotation]; p != "" {
			pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimPolicy(p)
		}
		if n := pv.Annotations[pvNodeLabel]; n != "" {
			pv.Labels = map[string]string{pvNodeLabel: n}
		}
		if _, err := cs.CoreV1().PersistentVolumes().Update(ctx, &pv, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("PV %s: clear claim: %w", pv.Name, err)
		}
		log.Info("reclaimed", "pv", pv.Name, "phase", pv.Status.Phase, "claim", claim, "removed", len(entries))
	}
	return nil
}
