package kube

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

func TestGuard(t *testing.T) {
	ns := func(labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: labels}}
	}
	target := &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca-1")}}
	tests := []struct {
		name   string
		ns     *corev1.Namespace
		source *rest.Config
		want   error
	}{
		{"marked", ns(map[string]string{ScratchLabel: "true"}), nil, nil},
		{"marked, other source", ns(map[string]string{ScratchLabel: "true"}),
			&rest.Config{Host: "https://127.0.0.1:7443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca-1")}}, nil},
		{"marked, same URL other CA", ns(map[string]string{ScratchLabel: "true"}),
			&rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca-2")}}, nil},
		{"unmarked", ns(nil), nil, ErrNotScratchCluster},
		{"wrong value", ns(map[string]string{ScratchLabel: "yes"}), nil, ErrNotScratchCluster},
		{"no kube-system", nil, nil, ErrNotScratchCluster},
		{"same cluster", ns(map[string]string{ScratchLabel: "true"}),
			&rest.Config{Host: "https://127.0.0.1:6443/", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca-1\n")}}, ErrSameCluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			if tt.ns != nil {
				cs = fake.NewClientset(tt.ns)
			}
			err := Guard(context.Background(), cs, target, tt.source)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			var ge *GuardError
			require.True(t, errors.As(err, &ge))
			assert.NotEmpty(t, ge.Hint())
			if tt.want == ErrNotScratchCluster {
				assert.Contains(t, ge.Hint(), MarkCommand)
			}
		})
	}
}
