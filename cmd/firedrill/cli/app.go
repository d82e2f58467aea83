package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Exit codes of the firedrill command.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitError: an error, or invalid input such as an invalid scenario.
	ExitError = 1
	// ExitUsage: the command line itself is wrong (unknown command or
	// flag, wrong number of arguments, bad flag value).
	ExitUsage = 2
	// ExitDrillFailed: the command ran to the end and what it proves did
	// not hold: a drill missed an objective (RTO, RPO) or failed a check
	// (run, restore, verify), a drill is overdue (due), an evidence bundle
	// is not intact (evidence verify).
	ExitDrillFailed = 3
	// ExitInterrupted: stopped by Ctrl-C or SIGTERM (128 + SIGINT).
	ExitInterrupted = 130
)

// Env is what the command line reads from and writes to the world. main
// fills it from the process; tests fill it with buffers and fixed values.
type Env struct {
	// Stdin is read for a scenario named "-" (validate, and every command
	// that takes a scenario NAME|FILE|-); nil is an empty input.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinIsTerminal says Stdin is a terminal (main asks isatty): 'run'
	// then shows the runbook's manual steps to the operator and times
	// each until they confirm it (see runOperator).
	StdinIsTerminal bool
	// Getenv reads environment variables ($FIREDRILL_SCENARIOS, and
	// $AWS_SHARED_CREDENTIALS_FILE and $AWS_CONFIG_FILE for checking a
	// scenario's profiles); nil means an empty environment.
	Getenv func(string) string
	// WorkDir is the directory relative paths are relative to; empty
	// means the process's working directory.
	WorkDir string
	// HomeDir replaces "~" in scenario paths; a scenario's profiles are
	// looked up in its .aws directory too.
	HomeDir string
	// Kube, when set, replaces the clients of real clusters (for version's
	// server part): it gets the kubeconfig and context the flags name.
	Kube func(kubeconfig, context string) (kubernetes.Interface, error)
	// Now is the clock of the outlook (history's forecast and error
	// budget) and of evidence summary's default --to; nil means time.Now.
	Now func() time.Time
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// Run runs the command line args (args[0] is the program name) and returns
// the exit code. It writes only to env.Stdout and env.Stderr.
//
// Everything written to env.Stderr (errors, warnings, logs, progress) and
// env.Stdout (results, reports) goes through the secret policy: every
// secret the command learns (see app.secrets) is replaced, in every
// encoding secret.Set knows. Only a signed evidence bundle written to
// stdout is written as it is (see unwrapped): it holds no secret (the
// export redacted its files) and a change would break its signature.
func Run(ctx context.Context, args []string, env Env) int {
	a := &app{env: env, log: slog.New(slog.DiscardHandler), secrets: secret.New(), args: args}
	a.learnSecrets()
	if env.Stderr != nil {
		a.env.Stderr = a.secrets.Writer(env.Stderr)
		if logFormatArg(args) == "json" {
			// Every line on stderr is JSON, the final error too.
			jl := newJSONLines(a.env.Stderr)
			defer jl.Flush()
			a.env.Stderr = jl
		}
		env.Stderr = a.env.Stderr
	}
	if env.Stdout != nil {
		a.env.Stdout = a.secrets.Writer(env.Stdout)
	}
	root := a.newApp()
	if len(args) > 1 && args[1] == completeCommand {
		for _, c := range a.complete(ctx, root, args[2:]) {
			fmt.Fprintln(a.env.Stdout, c)
		}
		return ExitOK
	}
	err := root.RunContext(ctx, reorderArgs(root, args))
	if err == nil {
		err = a.helpTopicErr
	}
	code := exitCode(ctx, err)
	if err != nil {
		printError(env.Stderr, err, code)
	}
	return code
}

// app holds what the global flags set up for the commands.
type app struct {
	env          Env
	log          *slog.Logger
	scenarioDirs []string
	// quiet is --quiet: no progress, no info logs.
	quiet bool
	// secrets are every secret the command learned: the credentials of its
	// environment and of the scenario it loaded, the evidence key and its
	// path, webhook and Pushgateway URLs, the target's kubeconfig
	// credentials, restored Secrets. Nothing firedrill writes or sends
	// holds them.
	secrets *secret.Set
	// args is the command line as typed, for naming a flag as the user
	// wrote it.
	args []string
	// helpTopicErr is the error of help for a command that is not one
	// ('firedrill report --help'), which urfave/cli reports through
	// App.CommandNotFound without returning it.
	helpTopicErr error
}

// unwrapped is w without the secret policy's writer: for bytes that must
// reach w unchanged (a signed bundle) and for asking whether w is a
// terminal.
func unwrapped(w io.Writer) io.Writer {
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		return u.Unwrap()
	}
	return w
}

// learnSecrets adds the secrets of firedrill's own environment.
func (a *app) learnSecrets() {
	a.secrets.Add(a.credentialValues()...)
	a.secrets.AddPEM(a.env.getenv(evidenceKeyEnv))
	// The key file's path joins once the key is read (evidenceSettings):
	// until then an error about it must name it.
	for _, name := range []string{"FIREDRILL_NOTIFY_WEBHOOK", "FIREDRILL_PUSHGATEWAY"} {
		a.secrets.AddURL(a.env.getenv(name))
	}
}

// scenarioEnv is where commands look for scenarios.
func (a *app) scenarioEnv() scenarios.Env {
	return scenarios.Env{
		ScenarioDirs:  a.scenarioDirs,
		SearchPath:    filepath.SplitList(a.env.getenv("FIREDRILL_SCENARIOS")),
		WorkDir:       a.env.WorkDir,
		HomeDir:       a.env.HomeDir,
		Getenv:        a.env.getenv,
		RunbookExists: runbooks.Exists,
		Logger:        a.log,
		Stdin:         a.env.Stdin,
	}
}

const appDescription = `firedrill proves, with measurements, that a platform team can recover from a
disaster. A scenario file describes the disaster, the recovery objectives
(RTO, RPO), where the Velero backups are and how they must be protected, the
scratch cluster to restore into, the checks to run after the restore and
the runbook to follow. A drill restores into the scratch cluster, measures
RTO and RPO against the objectives, and leaves a report and evidence.

Scenarios are found by name, first match wins, in:
  1. each --scenario-dir directory, in order
  2. each directory of $FIREDRILL_SCENARIOS (colon-separated)
  3. ./scenarios/ (*.yaml and *.yml files directly in it)
  4. the built-in catalog
A path to a file (or anything ending in .yaml or .yml) is read as a file.

Examples:
  firedrill scenarios list                  every scenario and where it comes from
  firedrill scenarios show region-loss      a scenario with defaults filled in
  firedrill validate scenarios/*.yaml       check files before committing them
  firedrill plan region-loss                what a drill would do, step by step
  firedrill --scenario-dir ./drills plan ./drills/shop.yaml -o json

Exit codes:
  0    success
  1    error, or invalid input (an invalid scenario file, for example)
  2    usage: unknown command or flag, wrong number of arguments, bad flag
       value
  3    it ran, and what it proves did not hold: a drill missed an objective or
       failed a check (run, restore, verify), a drill is overdue (due), a
       fleet row is failing or overdue (fleet), an evidence bundle is not
       intact (evidence verify), something not provably a dead drill's is in
       the way (cleanup)
  4    another drill held the scratch cluster's Lease past --lock-wait (run,
       restore); nothing was restored
  130  interrupted (Ctrl-C or SIGTERM)`

func (a *app) newApp() *cli.App {
	root := &cli.App{
		Name:                      "firedrill",
		Usage:                     "run disaster-recovery drills for Kubernetes platforms backed up with Velero",
		UsageText:                 "firedrill [global options] command [command options] [arguments...]",
		Description:               appDescription,
		Writer:                    a.env.Stdout,
		ErrWriter:                 a.env.Stderr,
		HideVersion:               true,
		DisableSliceFlagSeparator: true,
		// Errors are printed and turned into exit codes by Run alone.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   a.onUsageError,
		// Help for an unknown command is the unknown command's usage
		// error (exit 2, with its hint), not urfave/cli's "No help topic"
		// (exit 1, no hint).
		CommandNotFound: func(c *cli.Context, typed string) { a.helpTopicErr = unknownCommandError(c, typed) },
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "log-level",
				Value: "info",
				Usage: "log `LEVEL` on stderr: debug, info, warn or error",
			},
			&cli.StringFlag{
				Name:  "log-format",
				Value: "text",
				Usage: "log `FORMAT`: text or json (json: every line on stderr is a JSON object)",
			},
			quietFlag(),
			&cli.StringSliceFlag{
				Name:  "scenario-dir",
				Usage: "search `DIR` for scenarios before $FIREDRILL_SCENARIOS, ./scenarios and the built-in catalog (repeatable)",
			},
			&cli.BoolFlag{Name: "version", Usage: "print firedrill's version, as 'firedrill version --client' does"},
		},
		Before: a.before,
		Action: a.rootAction,
		Commands: []*cli.Command{
			a.scenariosCommand(),
			a.validateCommand(),
			a.planCommand(),
			a.runCommand(),
			a.restoreCommand(),
			a.verifyCommand(),
			a.historyCommand(),
			a.cleanupCommand(),
			a.evidenceCommand(),
			a.dueCommand(),
			a.fleetCommand(),
			a.scheduleCommand(),
			a.versionCommand(),
			a.completionCommand(),
		},
	}
	for _, c := range root.Commands {
		a.setUsageErrorHandler(c)
		durationDefaults(c)
	}
	return root
}

func (a *app) setUsageErrorHandler(c *cli.Command) {
	c.OnUsageError = a.onUsageError
	for _, sub := range c.Subcommands {
		a.setUsageErrorHandler(sub)
	}
}

func (a *app) onUsageError(c *cli.Context, err error, _ bool) error {
	return usageOfFlags(c, err, a.args)
}

// rootAction is firedrill without a command: --version, help, or an
// unknown command.
func (a *app) rootAction(c *cli.Context) error {
	if c.Bool("version") && !c.Args().Present() {
		return a.printVersion(c, formatText, nil)
	}
	return unknownCommand(c)
}

// helpHint points at the --help of the command being run.
func helpHint(c *cli.Context) string {
	names := []string{}
	for _, l := range c.Lineage() {
		// The app's own context has a command named after the app.
		if l.Command != nil && l.Command.Name != "" && l.Command.Name != c.App.Name {
			names = append([]string{l.Command.Name}, names...)
		}
	}
	return fmt.Sprintf("run 'firedrill %s--help'", strings.Join(append(names, ""), " "))
}

// unknownCommand is the action of a command that only groups subcommands:
// without arguments it shows help, with one it explains the mistake.
func unknownCommand(c *cli.Context) error {
	if !c.Args().Present() {
		// The app's own command is named after the app.
		if c.Command != nil && c.Command.Name != c.App.Name {
			return cli.ShowSubcommandHelp(c)
		}
		return cli.ShowAppHelp(c)
	}
	return unknownCommandError(c, c.Args().First())
}

func (a *app) before(c *cli.Context) error {
	a.quiet = c.Bool("quiet")
	log, err := newLogger(a.env.Stderr, c.String("log-level"), c.String("log-format"), a.quiet)
	if err != nil {
		return usageErrorf("run 'firedrill --help'", "%v", err)
	}
	a.log = log
	// client-go's own error lines (an exec stream's, a closed WebSocket's)
	// are for --log-level debug, not the user's stderr; the API server's
	// and the AWS SDK's warnings go through the logger too.
	kube.RouteLogs(log)
	objectstore.RouteLogs(log)
	routeAPIWarnings(log)
	a.scenarioDirs = c.StringSlice("scenario-dir")
	return nil
}

// newLogger builds the one logger of the process; everything else gets it
// passed down.
// With quiet, nothing below warn is logged.
func newLogger(w io.Writer, level, format string, quiet bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", level)
	}
	if quiet {
		lv = max(lv, slog.LevelWarn)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(newWarnText(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("invalid --log-format %q: want text or json", format)
	}
}
