package cli

import (
	"errors"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill/schedule"
	"github.com/firedrill-dev/firedrill/internal/ociimage"
	"github.com/firedrill-dev/firedrill/internal/version"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func (a *app) scheduleCommand() *cli.Command {
	cadences := make([]string, len(schedule.Cadences))
	for i, c := range schedule.Cadences {
		cadences[i] = string(c)
	}
	return &cli.Command{
		Name:      "schedule",
		Usage:     "run drills on a schedule from inside Kubernetes",
		UsageText: "firedrill schedule command [command options] [arguments...]",
		Action:    unknownCommand,
		Subcommands: []*cli.Command{{
			Name:  "render",
			Usage: "print Kubernetes manifests that run scenarios' drills as CronJobs with least-privilege RBAC",
			UsageText: "firedrill schedule render --scenario NAME|FILE|-... (--cron EXPR | --cadence " + strings.Join(cadences, "|") + ")\n" +
				"       --history s3://BUCKET/PREFIX [--namespace NS] [--image IMAGE] [options]",
			Description: `Prints, as multi-document YAML on stdout, everything a cluster needs to run
the drills of the scenarios on a schedule. Apply it to the scratch cluster
the drills restore into; Kubernetes does the scheduling. For each scenario:

  ServiceAccount      firedrill-NAME
  ConfigMap           firedrill-NAME: the scenario as the pod runs it, its
                      runbook and CA files; no credentials
  ValidatingAdmissionPolicy(Binding) firedrill.NS.NAME: the only RoleBinding
                      the drill may create is its own, to the reader role,
                      in its namespaces (Kubernetes 1.30 or later)
  ValidatingAdmissionPolicy(Binding) firedrill.NS.NAME.crds, when a phase
                      restores CRDs: the only CRDs the drill may delete are
                      those Velero created for a drill's Restore of CRDs
  ClusterRole         firedrill:NS:NAME:restored: reads everything; never
                      bound cluster-wide, only by the drill in the
                      namespaces it restored, for the drill
  ClusterRole(Binding) firedrill:NS:NAME: read the scratch marker, watch
                      workloads appear, delete the drill's namespaces and
                      only those (resourceNames), bind the reader role;
                      list and delete CRDs when a phase restores them
  Role(Binding)       firedrill:NS:NAME in the Velero namespace: Restores,
                      Backups, storage locations, DownloadRequests
  CronJob             firedrill-NAME: 'firedrill run NAME --history ...',
                      one at a time, never retried, non-root, read-only

The namespace and its NetworkPolicy carry app.kubernetes.io/component=namespace:
apply them first ('kubectl apply -f FILE -l app.kubernetes.io/component=namespace'),
as a server-side dry run creates nothing and the rest needs the namespace.

Above each role and policy, a comment says why every rule exists. Names
and order are stable, so the output can be committed and patched with
kustomize.

In the pod the scenario's target is the cluster the job runs in (through
its service account); spec.source reads its kubeconfig from the Secret
--source-kubeconfig-secret (key "kubeconfig"); credentials the scenario
names by variable (accessKeyIDEnv ...) come from the Secret
--credentials-secret, one key per variable; a profile or credentials file
from the Secret --aws-credentials-secret (key "credentials"). Create those
Secrets yourself: the manifests only refer to them. Drill records go to the
shared history (--history); 'firedrill history' and 'firedrill due' read it.

The pods run --image, by default the runner image of this version (firedrill
with sh, kubectl and velero: 'make image-runner') when a scenario has runbook
steps or command checks, else the firedrill image ('make image'). Their root
filesystem is read-only: HOME and TMPDIR are an emptyDir at /tmp, the record
another at /var/lib/firedrill; TZ is --time-zone.

--cadence starts drills at 06:00 (--time-zone), one scenario an hour after
the other: quarterly "0 6 1 1,4,7,10 *", monthly "0 6 1 * *", weekly
"0 6 * * 1". --cron gives every scenario the same five-field expression.

Exit codes: 0 rendered (warnings about drills that would collide or block
each other go to stderr), 1 a scenario cannot be scheduled as written (a
fixed spec.disaster.declaredAt, a name too long for a CronJob) or cannot be
read, 2 usage (a missing or contradictory option).

Examples:
  firedrill schedule render --scenario region-loss --cadence quarterly \
      --history s3://dr-drills/team-shop --image registry.example.com/firedrill-runner:v1.0.0 > drills.yaml
  kubectl --kubeconfig scratch.yaml apply -f drills.yaml -l app.kubernetes.io/component=namespace
  kubectl --kubeconfig scratch.yaml apply --dry-run=server -f drills.yaml
  firedrill schedule render --scenario region-loss --scenario namespace-deletion \
      --cron "30 5 * * 1" --namespace dr --history s3://dr-drills/team-shop \
      --history-endpoint https://minio.example.com --history-path-style`,
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "scenario", Usage: "schedule the scenario `NAME`, or the scenario of a FILE or of - (standard input, once); repeatable"},
				&cli.StringFlag{Name: "cron", Usage: "run on the cron schedule `EXPR` (five fields: minute hour day-of-month month day-of-week)"},
				&cli.StringFlag{Name: "cadence", Usage: "run `CADENCE`: " + strings.Join(cadences, ", ")},
				&cli.StringFlag{Name: "time-zone", Value: schedule.DefaultTimeZone, Usage: "the schedule's time `ZONE` (IANA name)"},
				&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: schedule.DefaultNamespace, Usage: "run the drills in namespace `NS`"},
				&cli.StringFlag{Name: "image", Usage: "the `IMAGE` the drills run (default " + ociimage.RunnerRepository + ":VERSION, 'make image-runner', " +
					"when a scenario has runbook steps or command checks, else " + ociimage.Repository + ":VERSION, 'make image')"},
				&cli.StringFlag{Name: "history", Usage: "keep drill records in the shared history `s3://BUCKET/PREFIX` (default $FIREDRILL_HISTORY)"},
				&cli.StringFlag{Name: "history-endpoint", Usage: "S3 endpoint `URL` of the shared history"},
				&cli.StringFlag{Name: "history-region", Usage: "`REGION` of the shared history's bucket"},
				&cli.BoolFlag{Name: "history-path-style", Usage: "address the shared history's bucket in the path (MinIO)"},
				&cli.StringFlag{Name: "cluster", Usage: "the drills protect cluster `NAME`: their records go under PREFIX/clusters/NAME/ of the history, for 'firedrill fleet'"},
				&cli.StringFlag{Name: "credentials-secret", Value: schedule.DefaultCredentialsSecret, Usage: "`SECRET` holding the credentials variables the scenarios name, one key each"},
				&cli.StringFlag{Name: "aws-credentials-secret", Value: schedule.DefaultAWSCredentialsSecret, Usage: "`SECRET` holding a shared AWS credentials file (key \"credentials\") for profiles"},
				&cli.StringFlag{Name: "source-kubeconfig-secret", Value: schedule.DefaultSourceKubeconfigSecret, Usage: "`SECRET` holding the source cluster's kubeconfig (key \"kubeconfig\")"},
				&cli.StringFlag{Name: "history-secret", Value: schedule.DefaultHistorySecret, Usage: "optional `SECRET` holding FIREDRILL_HISTORY_ACCESS_KEY_ID and FIREDRILL_HISTORY_SECRET_ACCESS_KEY"},
				&cli.StringFlag{Name: "evidence-secret", Value: schedule.DefaultEvidenceSecret, Usage: "`SECRET` holding the evidence signing key (FIREDRILL_EVIDENCE_KEY, PEM) and optionally FIREDRILL_EVIDENCE_ACCESS_KEY_ID / _SECRET_ACCESS_KEY; without it no evidence is signed"},
				&cli.StringFlag{Name: "notify-secret", Value: schedule.DefaultNotifySecret, Usage: "optional `SECRET` holding FIREDRILL_NOTIFY_WEBHOOK, FIREDRILL_NOTIFY_FORMAT and FIREDRILL_PUSHGATEWAY: where each drill's summary and metrics go"},
				&cli.StringFlag{Name: "evidence-push", Usage: "keep every drill's signed evidence, locked, in `s3://BUCKET/PREFIX` (else the scenario's spec.evidence.push)"},
				&cli.StringFlag{Name: "evidence-push-endpoint", Usage: "S3 endpoint `URL` of the evidence bucket"},
				&cli.StringFlag{Name: "evidence-push-region", Usage: "`REGION` of the evidence bucket"},
				&cli.BoolFlag{Name: "evidence-push-path-style", Usage: "address the evidence bucket in the path (MinIO)"},
				&cli.DurationFlag{Name: "job-timeout", DefaultText: "each scenario's RTO + cleanup.timeout + 34m",
					Usage: "stop every drill that runs longer than `DURATION`, which may not be shorter than a scenario's default; it cleans up first"},
				&cli.StringSliceFlag{Name: "run-arg", Usage: "add `ARG` to 'firedrill run NAME' (repeatable)"},
			},
			Action: a.scheduleRender,
		}},
	}
}

func (a *app) scheduleRender(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf(helpHint(c), "render takes no arguments, got %q: name scenarios with --scenario", c.Args().First())
	}
	history := c.String("history")
	if history == "" {
		history = a.env.getenv("FIREDRILL_HISTORY")
	}
	opts := schedule.Options{
		Cron:                   c.String("cron"),
		Cadence:                schedule.Cadence(c.String("cadence")),
		TimeZone:               c.String("time-zone"),
		Namespace:              c.String("namespace"),
		Image:                  c.String("image"),
		History:                history,
		HistoryEndpoint:        c.String("history-endpoint"),
		HistoryRegion:          c.String("history-region"),
		HistoryPathStyle:       c.Bool("history-path-style"),
		Cluster:                c.String("cluster"),
		CredentialsSecret:      c.String("credentials-secret"),
		AWSCredentialsSecret:   c.String("aws-credentials-secret"),
		SourceKubeconfigSecret: c.String("source-kubeconfig-secret"),
		HistorySecret:          c.String("history-secret"),
		EvidenceSecret:         c.String("evidence-secret"),
		NotifySecret:           c.String("notify-secret"),
		EvidencePush:           c.String("evidence-push"),
		EvidencePushEndpoint:   c.String("evidence-push-endpoint"),
		EvidencePushRegion:     c.String("evidence-push-region"),
		EvidencePushPathStyle:  c.Bool("evidence-push-path-style"),
		JobTimeout:             c.Duration("job-timeout"),
		RunArgs:                c.StringSlice("run-arg"),
		// Built-in scenarios keep relative paths relative to the working directory.
		ReadFile: func(p string) ([]byte, error) { return os.ReadFile(a.abs(p)) },
	}
	if err := stdinOnce(c, c.StringSlice("scenario")); err != nil {
		return err
	}
	for _, name := range c.StringSlice("scenario") {
		sc, err := scenarios.Find(c.Context, a.scenarioEnv(), name)
		if err != nil {
			return err
		}
		opts.Scenarios = append(opts.Scenarios, sc)
	}
	if opts.Image == "" {
		img, err := schedule.DefaultImage(opts, version.Get().Version)
		if err != nil {
			return err
		}
		opts.Image = img
	}
	if err := opts.Validate(); err != nil {
		if onlyScenarioErrors(err) {
			// Invalid input, not a misused command: exit 1, as validate.
			return errors.New(indentJoined(err))
		}
		return usageErrorf(helpHint(c), "%s", indentJoined(err))
	}
	out, err := schedule.Render(opts)
	if err != nil {
		return err
	}
	caveats, err := schedule.Caveats(opts)
	if err != nil {
		return err
	}
	for _, c := range caveats {
		a.log.Warn("scheduled drill runs programs besides firedrill", "image", opts.Image, "caveat", c)
	}
	for _, w := range schedule.Warnings(opts) {
		a.log.Warn("scheduled drills will fail", "problem", w)
	}
	_, err = a.env.Stdout.Write(out)
	return err
}

// onlyScenarioErrors reports whether every problem of err (an errors.Join)
// is a problem of a scenario file rather than of the options.
func onlyScenarioErrors(err error) bool {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var se *schedule.ScenarioError
		if !errors.As(e, &se) {
			return false
		}
	}
	return true
}

// indentJoined prints the errors of an errors.Join one per line.
func indentJoined(err error) string {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) || len(j.Unwrap()) == 1 {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString("the options have problems:")
	for _, e := range j.Unwrap() {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}
