package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/procenv"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// stateDirFlag is where drill records live. The default follows the XDG
// base directory convention for user data.
func stateDirFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:  "state-dir",
		Usage: "keep drill records in `DIR` (default $FIREDRILL_STATE_DIR, else $XDG_DATA_HOME/firedrill, else ~/.local/share/firedrill)",
	}
}

// stateDir is the absolute state directory the flags and environment
// name. Without any of them and without a home directory (HOME unset, as in
// some systemd units and CI runners) it is a usage error: a state
// directory relative to wherever the command happens to run would scatter
// records.
func (a *app) stateDir(c *cli.Context) (string, error) {
	if d := c.String("state-dir"); d != "" {
		return a.abs(d), nil
	}
	if d := a.env.getenv("FIREDRILL_STATE_DIR"); d != "" {
		return a.abs(d), nil
	}
	if d := a.env.getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(a.abs(d), "firedrill"), nil
	}
	if a.env.HomeDir == "" {
		return "", usageErrorf("pass --state-dir DIR or set $FIREDRILL_STATE_DIR (in a CronJob, a volume's mount path)",
			"no state directory: $HOME is not set, so ~/.local/share/firedrill has no place")
	}
	return filepath.Join(a.env.HomeDir, ".local", "share", "firedrill"), nil
}

func (a *app) abs(p string) string {
	if filepath.IsAbs(p) || a.env.WorkDir == "" {
		return p
	}
	return filepath.Join(a.env.WorkDir, p)
}

// The shared history: the variables that name its credentials. They are
// references, read by objectstore; their values are never printed.
const (
	historyAccessKeyEnv = procenv.HistoryAccessKeyID
	historySecretKeyEnv = procenv.HistorySecretAccessKey
)

// historyFlags say where the commands that read drills (history, due,
// evidence summary, cleanup, fleet) find a team's shared history.
// Defaults come from the environment through a.env, like --state-dir, so
// tests and main see the same behaviour.
func historyFlags() []cli.Flag {
	return sharedHistoryFlags(
		"read drill records from the shared history `s3://BUCKET/PREFIX` instead of the state directory (default $FIREDRILL_HISTORY)",
		"only the drills of cluster `NAME` in the shared history, those run with --cluster NAME (default $FIREDRILL_CLUSTER; needs --history)")
}

// recordingHistoryFlags are historyFlags for run, which writes its record
// there.
func recordingHistoryFlags() []cli.Flag {
	return sharedHistoryFlags(
		"also keep the drill's record in the shared history `s3://BUCKET/PREFIX` (default $FIREDRILL_HISTORY)",
		"the drill's cluster `NAME`: recorded with the drill, and its record kept under PREFIX/clusters/NAME/ of the shared history (default $FIREDRILL_CLUSTER; none: PREFIX/drills/)")
}

func sharedHistoryFlags(historyUsage, clusterUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  "history",
			Usage: historyUsage,
		},
		&cli.StringFlag{
			Name:  "history-endpoint",
			Usage: "S3 endpoint `URL` of the shared history (default $FIREDRILL_HISTORY_ENDPOINT, else AWS)",
		},
		&cli.StringFlag{
			Name:  "history-region",
			Usage: "`REGION` of the shared history's bucket (default $FIREDRILL_HISTORY_REGION, else us-east-1)",
		},
		&cli.BoolFlag{
			Name:  "history-path-style",
			Usage: "address the shared history's bucket in the path, as most S3-compatible servers (MinIO) want",
		},
		&cli.StringFlag{
			Name:  "cluster",
			Usage: clusterUsage,
		},
	}
}

// bucketFlags name the flags and variables that say how to reach a bucket
// of firedrill's own: the shared history, the evidence bucket.
type bucketFlags struct {
	// flag prefixes the flags ENDPOINT, REGION and PATH-STYLE, e.g.
	// "history-" for --history-endpoint.
	flag string
	// env prefixes the variables that give their defaults, e.g.
	// "FIREDRILL_HISTORY_" for $FIREDRILL_HISTORY_ENDPOINT.
	env string
	// pathStyleEnv says whether $<env>PATH_STYLE is read.
	pathStyleEnv bool
	// accessKeyEnv and secretKeyEnv name the credentials; when either is
	// set they are used, else the AWS SDK's default chain.
	accessKeyEnv, secretKeyEnv string
	// what the bucket is, for the hint when no credentials are found:
	// "the shared history".
	what string
}

// bucketConfig is how to reach the bucket the flags f describe. The
// credentials stay references to variables; their values are never read
// here.
func (a *app) bucketConfig(c *cli.Context, f bucketFlags) objectstore.Config {
	cfg := objectstore.Config{
		Endpoint:  c.String(f.flag + "endpoint"),
		Region:    c.String(f.flag + "region"),
		PathStyle: c.Bool(f.flag + "path-style"),
		Getenv:    a.env.getenv,
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = a.env.getenv(f.env + "ENDPOINT")
	}
	if cfg.Region == "" {
		cfg.Region = a.env.getenv(f.env + "REGION")
	}
	if !cfg.PathStyle && f.pathStyleEnv {
		cfg.PathStyle, _ = strconv.ParseBool(a.env.getenv(f.env + "PATH_STYLE"))
	}
	if a.env.getenv(f.accessKeyEnv) != "" || a.env.getenv(f.secretKeyEnv) != "" {
		cfg.Credentials = &objectstore.Credentials{AccessKeyIDEnv: f.accessKeyEnv, SecretAccessKeyEnv: f.secretKeyEnv}
	} else {
		// The AWS SDK's chain: when it finds nothing its error names
		// the last place it looked (an EC2 instance role), not ours.
		cfg.CredentialsHint = fmt.Sprintf("give %s its credentials: set $%s and $%s, or the AWS SDK's own ($AWS_PROFILE, $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, a workload's role)",
			f.what, f.accessKeyEnv, f.secretKeyEnv)
	}
	return cfg
}

// recordStores are where a command keeps and reads drill records.
type recordStores struct {
	// local is the state directory, where every drill writes its record.
	local drill.LocalRecords
	// shared is the history a team shares (--history); nil without one.
	shared drill.Records
	// cluster is --cluster (or $FIREDRILL_CLUSTER), checked; the shared
	// history's drills are those of that cluster.
	cluster string
}

// history is where the commands that list drills (history, due, evidence
// summary, the metrics) read them: the shared history when one is set (in
// a CronJob the state directory lives as long as the Pod), else the state
// directory.
func (s recordStores) history() drill.Records {
	if s.shared == nil {
		return s.local
	}
	return s.shared
}

// recordStores are the state directory and the shared history the flags
// name. The shared history's credentials come from
// $FIREDRILL_HISTORY_ACCESS_KEY_ID and $FIREDRILL_HISTORY_SECRET_ACCESS_KEY
// when the first is set, else from the AWS SDK's default chain. It makes
// no request. With the scenario of a drill (sc, nil for commands without
// one), a history in one of its backup buckets is a usage error (see
// drill.OpenHistory). Commands without one read drills: for them
// --cluster without a shared history is a usage error (it selects drills
// in a shared history; the state directory holds one machine's), and
// $FIREDRILL_CLUSTER alone is ignored with a warning.
func (a *app) recordStores(c *cli.Context, sc *scenarios.Scenario) (recordStores, error) {
	dir, err := a.stateDir(c)
	if err != nil {
		return recordStores{}, err
	}
	s := recordStores{local: drill.LocalRecords{StateDir: dir}}
	if c.IsSet("cluster") || a.env.getenv("FIREDRILL_CLUSTER") != "" {
		s.cluster = c.String("cluster")
		if !c.IsSet("cluster") {
			s.cluster = a.env.getenv("FIREDRILL_CLUSTER")
		}
		if err := drill.CheckClusterName(s.cluster); err != nil {
			return s, usageErrorf(helpHint(c), "--cluster: %v", err)
		}
	}
	shared, err := a.sharedHistory(c, sc)
	if err != nil {
		return s, err
	}
	if shared == nil {
		if sc == nil && c.IsSet("cluster") {
			return s, usageErrorf("name the shared history: --history s3://BUCKET/PREFIX or $FIREDRILL_HISTORY",
				"--cluster selects drills in a shared history; none given (the state directory holds this machine's drills)")
		}
		if sc == nil && s.cluster != "" {
			a.log.Warn("$FIREDRILL_CLUSTER is ignored without a shared history (--history): listing the state directory's drills", "cluster", s.cluster)
		}
		return s, nil
	}
	shared.Cluster = s.cluster
	s.shared = shared
	return s, nil
}

// sharedHistory is the shared history --history (or $FIREDRILL_HISTORY)
// names, as recordStores opens it; nil without one.
func (a *app) sharedHistory(c *cli.Context, sc *scenarios.Scenario) (*drill.S3Records, error) {
	url := c.String("history")
	if url == "" {
		url = a.env.getenv("FIREDRILL_HISTORY")
	}
	if url == "" {
		return nil, nil
	}
	bucket, prefix, err := drill.ParseHistoryURL(url)
	if err != nil {
		return nil, usageErrorf(helpHint(c), "--history: %v", err)
	}
	cfg := a.bucketConfig(c, bucketFlags{flag: "history-", env: "FIREDRILL_HISTORY_",
		accessKeyEnv: historyAccessKeyEnv, secretKeyEnv: historySecretKeyEnv, what: "the shared history"})
	shared, err := drill.OpenHistory(c.Context, sc, bucket, prefix, cfg)
	var bb *drill.BackupBucketError
	if errors.As(err, &bb) {
		return nil, usageErrorf("keep drill records in a bucket of their own (--history s3://BUCKET/PREFIX, --history-endpoint)", "--history: %v", err)
	}
	return shared, err
}
