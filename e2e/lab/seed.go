package lab

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

//go:embed manifests/app.yaml
var appManifests []byte

var appNamespaces = []string{"shop", "shop-data"}

// The data canary: a ConfigMap the "application" rewrites with the time of
// its last write, so a restore shows the recovery point as the data sees it.
const (
	canaryNamespace = "shop-data"
	canaryName      = "data-canary"
	canaryKey       = "written-at"
)

// applyAppCRD applies the application's CustomResourceDefinition (the
// manifests' first object) and waits until it is established. The source
// cluster's Velero must start after it: Velero reads the API's resources at
// start and again only every 5 minutes (velero pkg/cmd/server/server.go),
// so a CRD applied later stays out of the lab's backups, Storefronts too.
func (k *cluster) applyAppCRD(ctx context.Context) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	objs, err := decodeYAML(appManifests)
	if err != nil {
		return fmt.Errorf("parse application manifests: %w", err)
	}
	if err := kc.apply(ctx, objs[0]); err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, &proc{d: daemon{name: "seed"}}, time.Minute, func(ctx context.Context) error {
		return crdEstablished(ctx, kc, objs[0].GetName())
	})
}

// seedApp applies the application (its CRD is already there, see
// applyAppCRD) and waits until its workloads are Available: their
// containers run on the source cluster's real node.
func (k *cluster) seedApp(ctx context.Context) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	objs, err := decodeYAML(appManifests)
	if err != nil {
		return fmt.Errorf("parse application manifests: %w", err)
	}
	if err := kc.apply(ctx, objs[1:]...); err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, &proc{d: daemon{name: "seed"}}, 2*time.Minute, func(ctx context.Context) error {
		return WorkloadsAvailable(ctx, kc, appNamespaces...)
	})
}

// The shop's stateful back end: the db StatefulSet in shop-data keeps its
// order log and its own canary on the PersistentVolumeClaim data-db-0
// (volume "data", mounted at /data), which every lab backup holds through
// file-system backup. `env` prints these names for the tests.
const (
	dataWorkload   = "db"
	dataPVC        = "data-db-0"
	dataVolume     = "data"
	dataOrdersFile = "/data/orders.log"
	dataCanaryFile = "/data/canary"
	dataContainer  = "db"
)

// placeOrder appends an order to the shop's order log the way a customer
// does: POST /orders on the web Service (through the API server's service
// proxy), which the api writes to the db. It first waits until GET /orders
// answers (a db that just became ready may not be behind its Service yet),
// then posts once: a retried POST could add the order twice.
func (k *cluster) placeOrder(ctx context.Context, order string) error {
	cs, err := k.client()
	if err != nil {
		return err
	}
	const orders = "/api/v1/namespaces/shop/services/web:80/proxy/orders"
	if err := k.cfg.waitReady(ctx, &proc{d: daemon{name: "seed"}}, time.Minute, func(ctx context.Context) error {
		return cs.CoreV1().RESTClient().Get().AbsPath(orders).Do(ctx).Error()
	}); err != nil {
		return err
	}
	return cs.CoreV1().RESTClient().Post().AbsPath(orders).Body([]byte(order)).Do(ctx).Error()
}

// writeCanary records the current time in the data canary.
func (k *cluster) writeCanary(ctx context.Context, at time.Time) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: metav1.ObjectMeta{Name: canaryName, Namespace: canaryNamespace},
		Data:       map[string]string{canaryKey: at.UTC().Format(time.RFC3339Nano)},
	}
	u, err := toUnstructured(cm)
	if err != nil {
		return err
	}
	return kc.apply(ctx, u)
}

// WorkloadsAvailable returns nil when every Deployment and StatefulSet in the
// namespaces has all replicas ready.
func WorkloadsAvailable(ctx context.Context, kc *kube, namespaces ...string) error {
	for _, ns := range namespaces {
		deps, err := kc.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, d := range deps.Items {
			if !deploymentAvailable(&d) {
				return fmt.Errorf("deployment %s/%s: %d of %d replicas available", ns, d.Name, d.Status.AvailableReplicas, *d.Spec.Replicas)
			}
		}
		sts, err := kc.cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, s := range sts.Items {
			if s.Status.ReadyReplicas < *s.Spec.Replicas {
				return fmt.Errorf("statefulset %s/%s: %d of %d replicas ready", ns, s.Name, s.Status.ReadyReplicas, *s.Spec.Replicas)
			}
		}
	}
	return nil
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.AvailableReplicas >= *d.Spec.Replicas
		}
	}
	return false
}
