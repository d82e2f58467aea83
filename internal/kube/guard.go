package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// ScratchLabel marks a scratch cluster: its kube-system namespace carries
// ScratchLabel=ScratchValue. firedrill restores into no other cluster.
const (
	ScratchLabel = "firedrill.dev/scratch"
	ScratchValue = "true"
)

// MarkCommand is how an engineer marks a cluster as scratch.
const MarkCommand = "kubectl label namespace kube-system " + ScratchLabel + "=" + ScratchValue

// ErrNotScratchCluster is returned (wrapped in a *GuardError) when the
// target cluster lacks the scratch marker.
var ErrNotScratchCluster = errors.New("target cluster is not marked as a scratch cluster")

// ErrSameCluster is returned (wrapped in a *GuardError) when the target and
// the source are the same cluster.
var ErrSameCluster = errors.New("target cluster is the source cluster")

// GuardError says why the guard refused a target cluster.
type GuardError struct {
	// Server is the target's API server URL.
	Server string
	// Err is ErrNotScratchCluster, ErrSameCluster or the error reading kube-system.
	Err error
	// Detail says what was seen.
	Detail string
}

// Error says which cluster was refused, why, and how to mark a scratch cluster.
func (e *GuardError) Error() string {
	s := fmt.Sprintf("refusing to restore into %s: %v", e.Server, e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if errors.Is(e.Err, ErrNotScratchCluster) {
		// The fix is part of the message too: not every caller prints hints.
		s += "; to mark a scratch cluster: " + MarkCommand
	}
	return s
}

// Unwrap gives ErrNotScratchCluster or ErrSameCluster for errors.Is.
func (e *GuardError) Unwrap() error { return e.Err }

// Hint says how to fix the refusal; the CLI prints it.
func (e *GuardError) Hint() string {
	switch {
	case errors.Is(e.Err, ErrNotScratchCluster):
		return "if this cluster is a scratch cluster that a drill may fill and empty, mark it: " + MarkCommand
	case errors.Is(e.Err, ErrSameCluster):
		return "point spec.target at a separate scratch cluster: a drill never restores into the cluster it recovers"
	}
	return ""
}

// SameCluster reports whether two client configurations reach the same
// cluster: same server URL and same CA. It reads CA files but contacts
// neither cluster, so a lost source cluster can still be compared.
func SameCluster(a, b *rest.Config) (bool, error) {
	if a == nil || b == nil {
		return false, nil
	}
	if normalizeHost(a.Host) != normalizeHost(b.Host) {
		return false, nil
	}
	ca, err := caData(a)
	if err != nil {
		return false, err
	}
	cb, err := caData(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(bytes.TrimSpace(ca), bytes.TrimSpace(cb)), nil
}

func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), "/")
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	return strings.TrimSuffix(h, ":443")
}

func caData(c *rest.Config) ([]byte, error) {
	if len(c.CAData) > 0 || c.CAFile == "" {
		return c.CAData, nil
	}
	b, err := safefile.ReadFile(c.CAFile, safefile.KubeconfigRef)
	if err != nil {
		return nil, fmt.Errorf("read CA file of %s: %w", c.Host, err)
	}
	return b, nil
}

// Guard refuses a target cluster that is not marked as scratch, or that is
// the source cluster (source may be nil when the scenario names none). It
// only reads: the kube-system namespace of the target.
func Guard(ctx context.Context, target kubernetes.Interface, targetConfig, sourceConfig *rest.Config) error {
	server := ""
	if targetConfig != nil {
		server = targetConfig.Host
	}
	same, err := SameCluster(targetConfig, sourceConfig)
	if err != nil {
		return fmt.Errorf("compare target and source clusters: %w", err)
	}
	if same {
		return &GuardError{Server: server, Err: ErrSameCluster, Detail: "same server URL and CA"}
	}
	ns, err := target.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &GuardError{Server: server, Err: ErrNotScratchCluster, Detail: "no kube-system namespace"}
	}
	if err != nil {
		return fmt.Errorf("read namespace kube-system of target %s: %w", server, err)
	}
	if v, ok := ns.Labels[ScratchLabel]; !ok || v != ScratchValue {
		detail := fmt.Sprintf("namespace kube-system has no label %s=%s", ScratchLabel, ScratchValue)
		if ok {
			detail = fmt.Sprintf("namespace kube-system has %s=%q, want %q", ScratchLabel, v, ScratchValue)
		}
		return &GuardError{Server: server, Err: ErrNotScratchCluster, Detail: detail}
	}
	return nil
}
