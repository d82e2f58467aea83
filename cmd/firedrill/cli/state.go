package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

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

func (a *app) stateDir(c *cli.Context) string {
	if d := c.String("state-dir"); d != "" {
		return a.abs(d)
	}
	if d := a.env.getenv("FIREDRILL_STATE_DIR"); d != "" {
		return a.abs(d)
	}
	if d := a.env.getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(a.abs(d), "firedrill")
	}
	return filepath.Join(a.env.HomeDir, ".local", "share", "firedrill")
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

// historyFlags say where a team shares its drill history. Defaults come
// from the environment through a.env, like --state-dir, so tests and main
// see the same behaviour.
func historyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  "history",
			Usage: "also keep drill records in, and list them from, the shared history `s3://BUCKET/PREFIX` (default $FIREDRILL_HISTORY)",
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
	}
}

// recordStores are where a command keeps and reads drill records.
type recordStores struct {
	// local is the state directory, where every drill writes its record.
	local drill.LocalRecords
	// shared is the history a team shares (--history); nil without one.
	shared drill.Records
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

// sharedURL is where a file of a drill is in the shared history; empty
// without one.
func (s recordStores) sharedURL(id, name string) string {
	if s.shared == nil {
		return ""
	}
	return s.shared.URL(id, name)
}

// share copies files of a drill, as the state directory holds them, to
// the shared history; nothing without one.
func (s recordStores) share(ctx context.Context, id string, names ...string) error {
	if s.shared == nil {
		return nil
	}
	return drill.CopyFiles(ctx, s.local, s.shared, id, names...)
}

// recordStores are the state directory and the shared history the flags
// name. The shared history's credentials come from
// $FIREDRILL_HISTORY_ACCESS_KEY_ID and $FIREDRILL_HISTORY_SECRET_ACCESS_KEY
// when the first is set, else from the AWS SDK's default chain. It makes
// no request. With the scenario of a drill (sc, nil for commands without
// one), a history in one of its backup buckets is refused now, and every
// upload goes through the drill's write guard.
func (a *app) recordStores(c *cli.Context, sc *scenarios.Scenario) (recordStores, error) {
	s := recordStores{local: drill.LocalRecords{StateDir: a.stateDir(c)}}
	url := c.String("history")
	if url == "" {
		url = a.env.getenv("FIREDRILL_HISTORY")
	}
	if url == "" {
		return s, nil
	}
	bucket, prefix, err := drill.ParseHistoryURL(url)
	if err != nil {
		return s, usageErrorf(helpHint(c), "--history: %v", err)
	}
	cfg := objectstore.Config{
		Endpoint:  c.String("history-endpoint"),
		Region:    c.String("history-region"),
		PathStyle: c.Bool("history-path-style"),
		Getenv:    a.env.getenv,
		// A drill waits for its uploads: fail fast rather than retry long.
		OpTimeout:   30 * time.Second,
		MaxAttempts: 3,
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = a.env.getenv("FIREDRILL_HISTORY_ENDPOINT")
	}
	if cfg.Region == "" {
		cfg.Region = a.env.getenv("FIREDRILL_HISTORY_REGION")
	}
	if a.env.getenv(historyAccessKeyEnv) != "" || a.env.getenv(historySecretKeyEnv) != "" {
		cfg.Credentials = &objectstore.Credentials{AccessKeyIDEnv: historyAccessKeyEnv, SecretAccessKeyEnv: historySecretKeyEnv}
	}
	cfg.WriteGuard = drill.WriteGuard(sc)
	if p, ok := cfg.WriteGuard.Protects(cfg.Endpoint, bucket); ok {
		return s, usageErrorf("keep drill records in a bucket of their own (--history s3://BUCKET/PREFIX, --history-endpoint)",
			"--history %s is %s: a drill never writes into a backup bucket", objectstore.URI(bucket, prefix, ""), p.Role)
	}
	store, err := objectstore.New(c.Context, cfg)
	if err != nil {
		return s, fmt.Errorf("shared history %s: %w", objectstore.URI(bucket, prefix, ""), err)
	}
	s.shared = &drill.S3Records{Store: store, Bucket: bucket, Prefix: prefix}
	return s, nil
}
