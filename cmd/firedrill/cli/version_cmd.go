package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/version"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// serverTimeout bounds how long version waits for the target cluster.
const serverTimeout = 5 * time.Second

func (a *app) versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print firedrill's version, and the Velero version of the target cluster",
		UsageText: "firedrill version [--client] [--kubeconfig FILE] [--context CONTEXT] [-n NS] [-o text|json|yaml]",
		Description: `Prints the version set at build time (make build stamps it from git
describe), the commit (make build's short hash; "(modified)" when built from
a tree with changes), and the Go version. Include it in bug reports.

Without --client it also asks the target cluster (--kubeconfig and --context,
else $KUBECONFIG, then ~/.kube/config, as kubectl) for the version of Velero:
the image tag of the Deployment velero in the namespace -n (default velero).
It only reads: unlike 'velero version', which creates a ServerStatusRequest,
firedrill writes nothing to a cluster it has not checked for the scratch
marker. A cluster that cannot be reached within 5s, or without a velero
Deployment, is said so; it never fails the command.

Exit codes: 0 printed, 1 the output cannot be written, 2 usage.

Examples:
  firedrill version
  firedrill --version
  firedrill version --context kind-scratch -o json`,
		Flags: append([]cli.Flag{
			textOutput.flag(),
			&cli.BoolFlag{Name: "client", Usage: "print only firedrill's own version; ask no cluster"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: scenarios.DefaultVeleroNamespace, Usage: "Velero's `NAMESPACE` in the target cluster"},
		}, targetClusterFlags()...),
		Action: a.version,
	}
}

func (a *app) version(c *cli.Context) error {
	format, err := textOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	var server *veleroServer
	if !c.Bool("client") {
		server = a.veleroServer(c.Context, c.String(flagKubeconfig), c.String(flagContext), c.String("namespace"))
	}
	return a.printVersion(c, format, server)
}

// veleroServer is what version found of Velero in the target cluster.
type veleroServer struct {
	// Version is the tag of the velero Deployment's image; empty when
	// unknown (Error says why).
	Version   string `json:"version,omitempty"`
	Image     string `json:"image,omitempty"`
	Namespace string `json:"namespace"`
	Error     string `json:"error,omitempty"`
}

// veleroServer reads the image of Velero's Deployment in the cluster the
// kubeconfig and context select; any failure is in the result's Error.
func (a *app) veleroServer(ctx context.Context, kubeconfig, kubeContext, ns string) *veleroServer {
	s := &veleroServer{Namespace: ns}
	cs, err := a.newKube(kubeconfig, kubeContext)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, serverTimeout)
	defer cancel()
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "velero", metav1.GetOptions{})
	if err != nil {
		s.Error = fmt.Sprintf("read Deployment %s/velero: %v", ns, err)
		return s
	}
	for _, ct := range d.Spec.Template.Spec.Containers {
		if ct.Name == "velero" || len(d.Spec.Template.Spec.Containers) == 1 {
			s.Image, s.Version = ct.Image, imageTag(ct.Image)
			break
		}
	}
	if s.Version == "" {
		s.Error = fmt.Sprintf("Deployment %s/velero has no velero container with a tagged image", ns)
	}
	return s
}

// imageTag is the tag of an image reference (velero/velero:v1.18.3,
// also with a registry port or an @sha256 digest), or "".
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}

// printVersion writes firedrill's version, and server unless nil.
func (a *app) printVersion(c *cli.Context, format string, server *veleroServer) error {
	info := version.Get()
	return writeOutput(a.env.Stdout, format, document{
		doc: versionDoc{Schema: schemaVersion, Info: info, VeleroServer: server},
		table: func(w io.Writer) error {
			fmt.Fprintf(w, "firedrill %s\n", info.Version)
			if info.Commit != "" {
				modified := ""
				if info.Modified {
					modified = " (modified)"
				}
				fmt.Fprintf(w, "commit:   %s%s\n", info.Commit, modified)
			}
			fmt.Fprintf(w, "go:       %s\nplatform: %s\n", info.GoVersion, info.Platform)
			switch {
			case server == nil:
			case server.Error != "":
				fmt.Fprintf(w, "velero:   unknown (%s)\n", server.Error)
			default:
				fmt.Fprintf(w, "velero:   %s (image %s in namespace %s of the target)\n", server.Version, server.Image, server.Namespace)
			}
			return nil
		},
	})
}
