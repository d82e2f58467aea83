package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The flags that select clusters, kubectl's names: --kubeconfig and
// --context for the target (scratch) cluster, --source-kubeconfig and
// --source-context for the source.
const (
	flagKubeconfig       = "kubeconfig"
	flagContext          = "context"
	flagSourceKubeconfig = "source-kubeconfig"
	flagSourceContext    = "source-context"
)

// targetClusterFlags are --kubeconfig and --context, for a command that
// talks to the target cluster without a scenario (version).
func targetClusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagKubeconfig, Usage: "the target cluster's kubeconfig `FILE` (default: $KUBECONFIG, then ~/.kube/config, as kubectl)"},
		&cli.StringFlag{Name: flagContext, Usage: "the target cluster's kubeconfig `CONTEXT` (default: the current context)"},
	}
}

// clusterFlags are the flags of a command that acts on a scenario's
// clusters (run, restore, cleanup): they override the scenario's
// spec.target and spec.source.
func clusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagKubeconfig, Usage: "the target (scratch) cluster's kubeconfig `FILE`, instead of the scenario's spec.target.kubeconfig"},
		&cli.StringFlag{Name: flagContext, Usage: "the target cluster's kubeconfig `CONTEXT`, instead of the scenario's spec.target.context"},
		&cli.StringFlag{Name: flagSourceKubeconfig, Usage: "the source cluster's kubeconfig `FILE`, instead of the scenario's spec.source.kubeconfig"},
		&cli.StringFlag{Name: flagSourceContext, Usage: "the source cluster's kubeconfig `CONTEXT`, instead of the scenario's spec.source.context"},
	}
}

// selectClusters applies the cluster flags to sc: a flag given replaces the
// scenario's value, a flag not given leaves it (an empty --kubeconfig ""
// means kubectl's default rules). A kubeconfig path given as a flag is
// relative to the working directory, as kubectl's, and must be a regular
// file (safefile.Kubeconfig); the error names the flag. Selecting the
// target by flag changes nothing of the drill's guard: the target must
// still carry the scratch marker (kube.Guard).
func (a *app) selectClusters(c *cli.Context, sc *scenarios.Scenario) error {
	set := func(dst *string, flag string, path bool) error {
		if !c.IsSet(flag) {
			return nil
		}
		v := c.String(flag)
		if path && v != "" {
			if !filepath.IsAbs(v) && a.env.WorkDir != "" {
				v = filepath.Join(a.env.WorkDir, v)
			}
			if err := safefile.Check(v, safefile.Kubeconfig); err != nil {
				return withHint(fmt.Errorf("--%s %s: %w", flag, c.String(flag), err), "point --"+flag+" at a kubeconfig file, as kubectl's --kubeconfig")
			}
		}
		*dst = v
		return nil
	}
	return errors.Join(
		set(&sc.Spec.Target.Kubeconfig, flagKubeconfig, true),
		set(&sc.Spec.Target.Context, flagContext, false),
		set(&sc.Spec.Source.Kubeconfig, flagSourceKubeconfig, true),
		set(&sc.Spec.Source.Context, flagSourceContext, false),
	)
}

// newKube is the client of the cluster kubeconfig and context select (see
// kube.Config for the loading rules), or Env.Kube's in tests.
func (a *app) newKube(kubeconfig, context string) (kubernetes.Interface, error) {
	if a.env.Kube != nil {
		return a.env.Kube(kubeconfig, context)
	}
	cl, err := kube.New(kubeconfig, context)
	if err != nil {
		return nil, err
	}
	values, key := kube.Credentials(cl.Config)
	a.secrets.Add(values...)
	a.secrets.AddPEM(key)
	return cl.Kube, nil
}
