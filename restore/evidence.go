package restore

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Redacted replaces every value of a Secret's data in evidence.
const Redacted = "[redacted]"

// Evidence is what an auditor needs to see of the restore, read from the
// target before cleanup removes it.
type Evidence struct {
	// Backup is the Velero Backup restored from, as the target sees it.
	Backup *unstructured.Unstructured `json:"backup,omitempty"`
	// Restores are the drill's Velero Restores, in order.
	Restores []*unstructured.Unstructured `json:"restores"`
	// Objects is everything in the restored namespaces (and the
	// namespaces themselves), sorted by kind, namespace and name; Secret
	// values are redacted.
	Objects []unstructured.Unstructured `json:"objects"`
	// Errors say what could not be read; evidence is collected as far as
	// it goes.
	Errors []string `json:"errors,omitempty"`
	// SecretValues are the values of the restored Secrets, as stored
	// (base64) and decoded, for the caller to scrub from its own files.
	// Never serialized.
	SecretValues []string `json:"-"`
}

// Evidence reads the Backup, the drill's Restores and every object of the
// restored namespaces from the target, stripped of managedFields and
// last-applied annotations, with the values of Secrets redacted. It only
// reads. Call it before Cleanup.
func (s *Session) Evidence(ctx context.Context) (*Evidence, error) {
	ev := &Evidence{Restores: []*unstructured.Unstructured{}, Objects: []unstructured.Unstructured{}}
	note := func(err error) { ev.Errors = append(ev.Errors, err.Error()) }
	ns := s.spec.VeleroNamespace
	if s.res.Backup != nil {
		b, err := s.t.Dynamic.Resource(backupsGVR).Namespace(ns).Get(ctx, s.res.Backup.Backup, metav1.GetOptions{})
		if err != nil {
			note(fmt.Errorf("read Backup %s: %w", s.res.Backup.Backup, err))
		} else {
			ev.Backup = clean(b)
		}
	}
	s.tr.mu.Lock()
	restores := slices.Clone(s.tr.restores)
	namespaces := slices.Clone(s.tr.namespaces)
	s.tr.mu.Unlock()
	for _, name := range restores {
		r, err := s.t.Dynamic.Resource(restoresGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			note(fmt.Errorf("read Restore %s: %w", name, err))
			continue
		}
		ev.Restores = append(ev.Restores, clean(r))
	}
	if len(namespaces) == 0 {
		return ev, ctx.Err()
	}
	resources, err := s.t.Kube.Discovery().ServerPreferredNamespacedResources()
	if err != nil {
		// Partial discovery (an aggregated API down) still lists the rest.
		note(fmt.Errorf("discover the target's resources: %w", err))
	}
	for _, n := range namespaces {
		o, err := s.t.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) {
				note(fmt.Errorf("read namespace %s: %w", n, err))
			}
			continue
		}
		ev.Objects = append(ev.Objects, *clean(o))
	}
	var forbidden []string
	for _, list := range resources {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if !slices.Contains(r.Verbs, "list") || strings.Contains(r.Name, "/") || skipInEvidence(gv.Group, r.Name) {
				continue
			}
			gvr := gv.WithResource(r.Name)
			for _, n := range namespaces {
				items, err := s.t.Dynamic.Resource(gvr).Namespace(n).List(ctx, metav1.ListOptions{})
				if err != nil {
					if ctx.Err() != nil {
						return ev, ctx.Err()
					}
					switch {
					case apierrors.IsForbidden(err):
						// Said once below: a scheduled drill's RBAC reads
						// only what the drill needs.
						if gr := gvr.GroupResource().String(); !slices.Contains(forbidden, gr) {
							forbidden = append(forbidden, gr)
						}
					case !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err):
						note(fmt.Errorf("list %s in %s: %w", gvr.GroupResource(), n, err))
					}
					continue
				}
				for i := range items.Items {
					ev.SecretValues = append(ev.SecretValues, secretValues(&items.Items[i])...)
					ev.Objects = append(ev.Objects, *clean(&items.Items[i]))
				}
			}
		}
	}
	if len(forbidden) > 0 {
		note(fmt.Errorf("this identity may not list %s in the restored namespaces (RBAC); the evidence holds the rest", strings.Join(forbidden, ", ")))
	}
	if s.secretsErr != nil {
		note(fmt.Errorf("the restored Secrets could not be read (%v): their values could not be kept out of runbook and check output", s.secretsErr))
	}
	slices.SortFunc(ev.Objects, func(a, b unstructured.Unstructured) int {
		return strings.Compare(objectKey(&a), objectKey(&b))
	})
	return ev, ctx.Err()
}

// SecretValues are the values of the Secrets the restore brought back,
// read right after the restore, so the caller can keep them out of
// everything it writes afterwards (runbook output, check output, shared
// history). Never serialized.
func (s *Session) SecretValues() []string { return slices.Clone(s.secretValues) }

// readSecretValues lists the Secrets of the target namespaces once the
// restore phases are done; the first error is kept for the evidence step
// to report.
func (s *Session) readSecretValues(ctx context.Context) {
	for _, n := range s.spec.TargetNamespaces() {
		list, err := s.t.Kube.CoreV1().Secrets(n).List(ctx, metav1.ListOptions{})
		if err != nil {
			if s.secretsErr == nil && !apierrors.IsNotFound(err) {
				s.secretsErr = err
			}
			continue
		}
		for i := range list.Items {
			sec := &list.Items[i]
			for _, v := range sec.Data {
				s.secretValues = append(s.secretValues, string(v), base64.StdEncoding.EncodeToString(v))
			}
			for _, v := range sec.StringData {
				s.secretValues = append(s.secretValues, v, base64.StdEncoding.EncodeToString([]byte(v)))
			}
		}
	}
}

// skipInEvidence leaves out what says nothing about the restore and only
// grows the bundle: events, and EndpointSlices/Endpoints Kubernetes
// derives from Services.
func skipInEvidence(group, resource string) bool {
	switch {
	case resource == "events":
		return true
	case group == "" && resource == "endpoints", group == "discovery.k8s.io" && resource == "endpointslices":
		return true
	}
	return false
}

// secretValues are the values of a Secret's data (base64 and decoded)
// and stringData; nothing for other objects.
func secretValues(o *unstructured.Unstructured) []string {
	if o.GetKind() != "Secret" || o.GroupVersionKind().Group != "" {
		return nil
	}
	var out []string
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	for _, v := range data {
		out = append(out, v)
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			out = append(out, string(b))
		}
	}
	sd, _, _ := unstructured.NestedStringMap(o.Object, "stringData")
	for _, v := range sd {
		out = append(out, v, base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return out
}

func objectKey(o *unstructured.Unstructured) string {
	return o.GroupVersionKind().GroupKind().String() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// clean copies o without what is noise or secret in evidence: managed
// fields, the last-applied annotation (which holds a Secret's data in
// full), and the values of a Secret's data and stringData.
func clean(o *unstructured.Unstructured) *unstructured.Unstructured {
	c := o.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	if a := c.GetAnnotations(); a != nil {
		delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		if len(a) == 0 {
			a = nil
		}
		c.SetAnnotations(a)
	}
	if c.GetKind() == "Secret" && c.GroupVersionKind().Group == "" {
		for _, field := range []string{"data", "stringData"} {
			m, ok, _ := unstructured.NestedMap(c.Object, field)
			if !ok {
				continue
			}
			for k := range m {
				m[k] = Redacted
			}
			_ = unstructured.SetNestedMap(c.Object, m, field)
		}
	}
	return c
}
