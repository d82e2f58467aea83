//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// labEnv is the running lab, as `firedrill-lab env` describes it.
type labEnv struct {
	SourceKubeconfig, ScratchKubeconfig string
	Velero, VeleroNamespace             string
	Backups                             []string
	LatestBackup, LatestCanary          string
	AppNamespaces                       []string
	WebhookDeny                         string
	Scenario                            string
	Stores                              map[string]labStore // primary, offsite, offcloud
}

type labStore struct {
	Endpoint, Region, Bucket, Prefix, AccessKey, SecretKey string
}

var labVars = []string{
	"FIREDRILL_LAB_SOURCE_KUBECONFIG", "FIREDRILL_LAB_SCRATCH_KUBECONFIG", "FIREDRILL_LAB_VELERO",
	"FIREDRILL_LAB_BACKUPS", "FIREDRILL_LAB_PRIMARY_ENDPOINT", "FIREDRILL_LAB_OFFSITE_ENDPOINT",
	"FIREDRILL_LAB_OFFCLOUD_ENDPOINT", "FIREDRILL_LAB_SCENARIO",
}

// lab returns the running lab, or skips the test when there is none;
// with FIREDRILL_E2E=require a missing lab is a failure.
func lab(t *testing.T) labEnv {
	t.Helper()
	var missing []string
	for _, v := range labVars {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		msg := "lab not running (missing " + strings.Join(missing, ", ") + "): run make lab-up and eval \"$(make -s lab-env)\""
		if os.Getenv("FIREDRILL_E2E") == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	env := labEnv{
		SourceKubeconfig:  os.Getenv("FIREDRILL_LAB_SOURCE_KUBECONFIG"),
		ScratchKubeconfig: os.Getenv("FIREDRILL_LAB_SCRATCH_KUBECONFIG"),
		Velero:            os.Getenv("FIREDRILL_LAB_VELERO"),
		VeleroNamespace:   os.Getenv("FIREDRILL_LAB_VELERO_NAMESPACE"),
		Backups:           strings.Fields(os.Getenv("FIREDRILL_LAB_BACKUPS")),
		LatestBackup:      os.Getenv("FIREDRILL_LAB_BACKUP_LATEST"),
		LatestCanary:      os.Getenv("FIREDRILL_LAB_CANARY_LATEST"),
		AppNamespaces:     strings.Fields(os.Getenv("FIREDRILL_LAB_APP_NAMESPACES")),
		WebhookDeny:       os.Getenv("FIREDRILL_LAB_WEBHOOK_DENY"),
		Scenario:          os.Getenv("FIREDRILL_LAB_SCENARIO"),
		Stores:            map[string]labStore{},
	}
	for _, s := range []string{"primary", "offsite", "offcloud"} {
		p := "FIREDRILL_LAB_" + strings.ToUpper(s) + "_"
		env.Stores[s] = labStore{
			Endpoint: os.Getenv(p + "ENDPOINT"), Region: os.Getenv(p + "REGION"), Bucket: os.Getenv(p + "BUCKET"),
			Prefix: os.Getenv(p + "PREFIX"), AccessKey: os.Getenv(p + "ACCESS_KEY"), SecretKey: os.Getenv(p + "SECRET_KEY"),
		}
	}
	require.Len(t, env.Backups, 2, "the lab seeds two backups")
	return env
}

// minioClient is an independent S3 client: the e2e tests check the lab's
// storage with minio-go, not with firedrill's own code.
func (s labStore) minioClient(t *testing.T) *minio.Client {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(s.Endpoint, "http://"), "https://")
	mc, err := minio.New(host, &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: s.Region,
		Secure: strings.HasPrefix(s.Endpoint, "https://"),
	})
	require.NoError(t, err)
	return mc
}

func restConfig(t *testing.T, kubeconfig string) *rest.Config {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	return rc
}

func kubeClients(t *testing.T, kubeconfig string) (kubernetes.Interface, dynamic.Interface) {
	t.Helper()
	rc := restConfig(t, kubeconfig)
	cs, err := kubernetes.NewForConfig(rc)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(rc)
	require.NoError(t, err)
	return cs, dyn
}

// velero runs the lab's velero CLI against a cluster.
func (l labEnv) velero(t *testing.T, ctx context.Context, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, l.Velero, append(args, "--namespace", l.VeleroNamespace)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "velero %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
