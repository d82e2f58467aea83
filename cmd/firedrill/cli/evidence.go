package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/oscal"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/procenv"
	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/internal/version"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Environment variables of the evidence commands.
const (
	evidenceKeyEnv       = procenv.EvidenceKey           // the PEM private key itself
	evidenceKeyFileEnv   = "FIREDRILL_EVIDENCE_KEY_FILE" // a path to it
	evidenceAccessKeyEnv = procenv.EvidenceAccessKeyID
	evidenceSecretKeyEnv = procenv.EvidenceSecretAccessKey
	controlsEnv          = "FIREDRILL_CONTROLS"
)

func (a *app) evidenceCommand() *cli.Command {
	return &cli.Command{
		Name:  "evidence",
		Usage: "export, sign, push and verify evidence bundles of drills; summarise an audit period",
		Description: `An evidence bundle proves itself: a deterministic .tar.gz of a drill's record
(the scenario as run, the reports and retrospective, protection findings and
copy comparisons, the Velero Backup and Restores, what came back with Secret
values redacted, runbook output), an index of what each file proves and which
controls (ISO/IEC 27001, SOC 2, DORA, NIS2, PCI DSS, HIPAA) the drill
supports, a manifest with the SHA-256 of every file, an Ed25519 signature of
the manifest, and an in-toto statement in a DSSE envelope for tools such as
cosign. export --format oscal and summary -o oscal write OSCAL
assessment-results for GRC tools.

Typical use:
  firedrill evidence keygen --out-dir ~/.config/firedrill      once; keep the .key secret
  firedrill run region-loss --evidence-key ~/.config/firedrill/firedrill-evidence.key \
      --evidence-push s3://dr-evidence/shop
  firedrill evidence verify fd-....evidence.tar.gz --public-key firedrill-evidence.pub
  firedrill evidence summary --from 2026-01-01 --to 2026-12-31 -o csv`,
		Action: unknownCommand,
		Subcommands: []*cli.Command{
			a.evidenceKeygenCommand(),
			a.evidenceExportCommand(),
			a.evidenceVerifyCommand(),
			a.evidenceSummaryCommand(),
		},
	}
}

func (a *app) evidenceKeygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "make an Ed25519 key pair to sign evidence bundles",
		UsageText: "firedrill evidence keygen [--out-dir DIR]",
		Description: `Writes firedrill-evidence.key (the private key, mode 0600) and
firedrill-evidence.pub (the public key an auditor verifies with), PEM-encoded
as openssl reads them, into --out-dir (made 0700 with its parents when
missing). It never overwrites a key: when either file exists it stops and
changes nothing.

Keep the private key where drills run (a file, or its PEM text in
$FIREDRILL_EVIDENCE_KEY, e.g. from a Kubernetes Secret); give the public key
to the auditor.

Exit codes: 0 written, 1 a key file exists or cannot be written, 2 usage.

Examples:
  firedrill evidence keygen
  firedrill evidence keygen --out-dir /etc/firedrill`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out-dir", Value: ".", Usage: "write the key pair into `DIR`"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, 0, "no arguments"); err != nil {
				return err
			}
			priv, pub, err := evidence.WriteKeyPair(a.abs(c.String("out-dir")))
			if err != nil {
				if errors.Is(err, os.ErrExist) {
					return withHint(err, "move the existing key pair away first, or choose another --out-dir")
				}
				return err
			}
			pubPEM, err := safefile.ReadFile(pub, safefile.PublicKey)
			if err != nil {
				return err
			}
			pk, err := evidence.ParsePublicKey(pubPEM)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "private key: %s (mode 0600; keep it secret)\npublic key:  %s (give it to your auditor)\nfingerprint: %s\n",
				priv, pub, evidence.Fingerprint(pk))
			return nil
		},
	}
}

// evidenceFlags are the signing and push flags; run takes them with the
// prefix "evidence-".
func evidenceFlags(prefix string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  prefix + "key",
			Usage: "sign with the private key in `FILE` (default $" + evidenceKeyFileEnv + ", else the PEM text in $" + evidenceKeyEnv + ")",
		},
		&cli.StringFlag{
			Name:  prefix + "push",
			Usage: "upload the bundle, locked, to `s3://BUCKET/PREFIX` (default $FIREDRILL_EVIDENCE_PUSH)",
		},
		&cli.StringFlag{
			Name:  prefix + "push-endpoint",
			Usage: "S3 endpoint `URL` of the evidence bucket (default $FIREDRILL_EVIDENCE_ENDPOINT, else AWS)",
		},
		&cli.StringFlag{
			Name:  prefix + "push-region",
			Usage: "`REGION` of the evidence bucket (default $FIREDRILL_EVIDENCE_REGION, else us-east-1)",
		},
		&cli.BoolFlag{
			Name:  prefix + "push-path-style",
			Usage: "address the evidence bucket in the path, as most S3-compatible servers (MinIO) want",
		},
		&cli.StringFlag{
			Name:  prefix + "retention",
			Value: "7y",
			Usage: "lock the pushed bundle for `DURATION` (7y, 400d, 2w; a year is 365 days)",
		},
		&cli.StringFlag{
			Name:  prefix + "lock-mode",
			Value: "COMPLIANCE",
			Usage: "object lock `MODE` of the pushed bundle: COMPLIANCE (no one can shorten it) or GOVERNANCE",
		},
		&cli.BoolFlag{
			Name:  prefix + "allow-unlocked-bucket",
			Usage: "push even when the bucket has no object lock (the bundle could then be deleted)",
		},
		&cli.StringSliceFlag{
			Name:  prefix + "controls",
			Usage: "extend the control mapping with `FILE` (repeatable; default $" + controlsEnv + ")",
		},
	}
}

// evidenceSettings are the evidence flags, read.
type evidenceSettings struct {
	key      ed25519.PrivateKey
	mapping  *evidence.Mapping
	push     *drill.EvidenceTarget
	required bool // a key or a push was asked for
}

// evidenceSettings reads the flags (with prefix), the environment and,
// for what neither sets, the scenario's spec.evidence (sc may be nil). A
// key is required when needKey or a push is asked for.
func (a *app) evidenceSettings(c *cli.Context, prefix string, needKey bool, sc *scenarios.Scenario) (*evidenceSettings, error) {
	s := &evidenceSettings{}
	keyFile := c.String(prefix + "key")
	if keyFile == "" {
		keyFile = a.env.getenv(evidenceKeyFileEnv)
	}
	pushURL := c.String(prefix + "push")
	if pushURL == "" {
		pushURL = a.env.getenv("FIREDRILL_EVIDENCE_PUSH")
	}
	var keyPEM []byte
	switch {
	case keyFile != "":
		b, err := safefile.ReadFile(a.abs(keyFile), safefile.EvidenceKey)
		if err != nil {
			return nil, fmt.Errorf("read the evidence signing key: %w", err)
		}
		keyPEM = b
	case a.env.getenv(evidenceKeyEnv) != "":
		keyPEM = []byte(a.env.getenv(evidenceKeyEnv))
	}
	var fromScenario *scenarios.EvidencePush
	if pushURL == "" && sc != nil && sc.Spec.Evidence != nil {
		fromScenario = sc.Spec.Evidence.Push
	}
	s.required = needKey || keyPEM != nil || pushURL != "" || fromScenario != nil
	if !s.required {
		return s, nil
	}
	if keyPEM == nil && fromScenario != nil && !needKey {
		return nil, withHint(fmt.Errorf("scenario %s pushes its evidence to %s (spec.evidence.push), but there is no signing key: set --%skey, $%s or $%s",
			sc.Metadata.Name, objectstore.URI(fromScenario.Bucket.Bucket, fromScenario.Prefix, ""), prefix, evidenceKeyFileEnv, evidenceKeyEnv),
			"make a key pair with 'firedrill evidence keygen'")
	}
	if keyPEM == nil {
		return nil, usageErrorf("make a key pair with 'firedrill evidence keygen' and pass --"+prefix+"key FILE",
			"no evidence signing key: set --%skey, $%s or $%s", prefix, evidenceKeyFileEnv, evidenceKeyEnv)
	}
	key, err := evidence.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("evidence signing key: %w", err)
	}
	s.key = key
	// The key and its path are never written anywhere, should a runbook
	// step print the key file.
	a.secrets.AddPEM(string(keyPEM))
	if keyFile != "" {
		a.secrets.Add(keyFile, a.abs(keyFile))
	}
	if s.mapping, err = a.controlMapping(c, prefix+"controls"); err != nil {
		return nil, err
	}
	// Credentials the process holds never go into a bundle: a.secrets
	// has them (see learnSecrets), and the scenario's.
	switch {
	case pushURL != "":
		s.push, err = a.pushTarget(c, prefix, pushURL, sc)
	case fromScenario != nil && !c.Bool("no-push"):
		s.push, err = drill.ScenarioEvidenceTarget(c.Context, sc, a.env.getenv)
		if errors.As(err, new(*drill.BackupBucketError)) {
			err = withHint(err, "push evidence to a bucket of its own, created with object lock")
		}
		a.secrets.Add(drill.Secrets(sc, a.env.getenv)...)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// pushTarget is the evidence bucket the flags (with prefix) name.
func (a *app) pushTarget(c *cli.Context, prefix, url string, sc *scenarios.Scenario) (*drill.EvidenceTarget, error) {
	bucket, keyPrefix, err := drill.ParseEvidenceURL(url)
	if err != nil {
		return nil, usageErrorf(helpHint(c), "--%spush: %v", prefix, err)
	}
	retention, err := parseRetention(c.String(prefix + "retention"))
	if err != nil {
		return nil, usageErrorf(helpHint(c), "--%sretention: %v", prefix, err)
	}
	mode := objectstore.LockMode(strings.ToUpper(c.String(prefix + "lock-mode")))
	if mode != objectstore.Compliance && mode != objectstore.Governance {
		return nil, usageErrorf(helpHint(c), "--%slock-mode %q: want COMPLIANCE or GOVERNANCE", prefix, mode)
	}
	cfg := a.bucketConfig(c, bucketFlags{flag: prefix + "push-", env: "FIREDRILL_EVIDENCE_", pathStyleEnv: true,
		accessKeyEnv: evidenceAccessKeyEnv, secretKeyEnv: evidenceSecretKeyEnv, what: "the evidence bucket"})
	t, err := drill.OpenEvidenceTarget(c.Context, sc, bucket, keyPrefix, cfg,
		evidence.PushOptions{Mode: mode, Retention: retention, AllowUnlocked: c.Bool(prefix + "allow-unlocked-bucket")})
	if errors.As(err, new(*drill.BackupBucketError)) {
		return nil, usageErrorf("push evidence to a bucket of its own, created with object lock", "--%spush: %v", prefix, err)
	}
	return t, err
}

// controlMapping is the built-in control mapping extended by the files
// of the flag, else of $FIREDRILL_CONTROLS (a path list).
func (a *app) controlMapping(c *cli.Context, flag string) (*evidence.Mapping, error) {
	files := c.StringSlice(flag)
	if len(files) == 0 && a.env.getenv(controlsEnv) != "" {
		files = filepath.SplitList(a.env.getenv(controlsEnv))
	}
	for i := range files {
		files[i] = a.abs(files[i])
	}
	return evidence.LoadMapping(files...)
}

// credentialEnv are the variables of credentials firedrill itself reads,
// beside those a scenario references.
var credentialEnv = []string{evidenceAccessKeyEnv, evidenceSecretKeyEnv, historyAccessKeyEnv, historySecretKeyEnv,
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// credentialValues are the values of credentialEnv that are set: nothing
// firedrill writes may hold them.
func (a *app) credentialValues() []string {
	var out []string
	for _, name := range credentialEnv {
		if v := a.env.getenv(name); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseRetention reads a positive scenario duration: 7y (a year is 365
// days, as S3 counts), 400d, 2w, 36h.
func parseRetention(v string) (time.Duration, error) {
	d, err := scenarios.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration like 7y, 400d or 2w", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration", v)
	}
	return time.Duration(d), nil
}

// exportDrill keeps the evidence of a drill as the settings say: the
// bundle written to out ("" for the drill directory, "-" for w), pushed
// when a target is set, the export recorded.
func (a *app) exportDrill(ctx context.Context, d *drill.Dir, s *evidenceSettings, out string, w io.Writer) (*drill.Kept, error) {
	k, err := drill.KeepEvidence(ctx, d, drill.KeepOptions{
		ExportOptions: drill.ExportOptions{Key: s.key, Mapping: s.mapping, Secrets: a.secrets, Version: version.Get().Version},
		Out:           out, W: w, Target: s.push,
	})
	if k != nil && k.NotRecorded != "" {
		a.log.Warn("the bundle is written but the export is not recorded in the drill's evidence.json ('evidence summary' will not list it)", "reason", k.NotRecorded)
	}
	return k, evidenceHint(err)
}

// evidenceHint is err with a hint when the evidence bucket has no object
// lock.
func evidenceHint(err error) error {
	if errors.Is(err, evidence.ErrBucketNotLocked) {
		return withHint(err, "push to a bucket created with object lock, or pass --allow-unlocked-bucket to accept a bundle that can be deleted")
	}
	if errors.Is(err, drill.ErrDrillDirReadOnly) {
		return withHint(err, "write the bundle outside the read-only state directory: a FILE or - for standard output (see 'firedrill evidence export --help')")
	}
	return err
}

// drillOptions are the settings as a drill keeps its evidence after it
// ends; nil when neither a key nor a push was asked for.
func (s *evidenceSettings) drillOptions() *drill.EvidenceOptions {
	if !s.required {
		return nil
	}
	return &drill.EvidenceOptions{Key: s.key, Mapping: s.mapping, Target: s.push}
}

func (a *app) evidenceExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "make the signed evidence bundle of a drill, and optionally push it to an object-locked bucket",
		UsageText: "firedrill evidence export DRILL_ID [-f FILE|-] [--key FILE] [--push s3://BUCKET/PREFIX] [-o text|json|yaml] [--format bundle|oscal]",
		Description: `Bundles the record of a finished drill (see 'firedrill history' for ids) into a
deterministic .tar.gz: the same drill and key give the same bytes. It holds
every file of the drill's directory with every secret the drill knew
replaced with [redacted] (the secret policy of the README's Security
section: credentials of 4 bytes or more, restored Secret values of 8 or
more; restored Secret objects never carry values), index.json (what each file proves and the controls
the drill supports), manifest.json (SHA-256 and size of every file, the drill,
its times, firedrill's version), manifest.sig (Ed25519 over the manifest)
and attestation.dsse.json: an in-toto Statement v1 in a DSSE envelope,
signed with the same key, whose subjects are the other files by SHA-256 and
whose predicate (https://firedrill.dev/drill-result/v1) is the drill's
result, for tools such as cosign to check without firedrill (README,
"Auditors").

With --format oscal the bundle is kept as above (the drill's directory,
the push) and what is written, to standard output or -f FILE, is an OSCAL
1.2.2 assessment-results document of the drill: a result, an observation per
finding, check and runbook step pointing at the bundle by SHA-256, a finding
per control.

Written to the drill's directory as evidence.tar.gz unless -f (--file) says
otherwise; -o is the format of what is printed about it, as everywhere.
With --push (default $FIREDRILL_EVIDENCE_PUSH, else the drill's scenario's
spec.evidence.push) the bundle is uploaded to PREFIX/SCENARIO/ID.evidence.tar.gz
as a new version locked for --retention (COMPLIANCE, 7 years by default), and
the version's retention is read back to prove it landed locked; a bucket without object lock is refused unless
--allow-unlocked-bucket. Credentials for the push: $` + evidenceAccessKeyEnv + ` and
$` + evidenceSecretKeyEnv + `, else the AWS SDK's chain. Every export is recorded in
the drill's evidence.json, which 'evidence summary' reads. From a read-only
copy of the state directory a bundle written elsewhere (a file, standard
output) is kept with a warning that the export is not recorded.

Exit codes: 0 exported (and pushed), 1 error (no such drill, the key cannot
be read, push failed), 2 usage (no key given, a bad flag).

Examples:
  firedrill evidence export fd-20261122-174512-3f9a --key firedrill-evidence.key
  firedrill evidence export fd-20261122-174512-3f9a -f - > evidence.tar.gz
  firedrill evidence export fd-20261122-174512-3f9a -f bundle.tar.gz -o json
  firedrill evidence export fd-20261122-174512-3f9a --format oscal > assessment-results.json
  FIREDRILL_EVIDENCE_KEY="$(cat key.pem)" firedrill evidence export ID \
      --push s3://dr-evidence/shop --push-endpoint https://s3.example --retention 10y`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "write the bundle (with --format oscal: the OSCAL document) to `FILE` (- for stdout; default the drill directory's evidence.tar.gz, for OSCAL stdout)"},
			&cli.StringFlag{Name: "format", Value: "bundle", Usage: "write `FORMAT`: bundle (the signed bundle) or oscal (an OSCAL assessment-results document of the drill; the bundle is then kept in the drill's directory)"},
			textOutput.flag(),
			// Until issue 19, -o named the file and this the format.
			&cli.StringFlag{Name: "output-format", Hidden: true},
			&cli.BoolFlag{Name: "no-push", Usage: "do not push to the scenario's spec.evidence.push (a bundle already kept there, locked, is never pushed again)"},
			stateDirFlag(),
		}, evidenceFlags("")...),
		Action: a.evidenceExport,
	}
}

func (a *app) evidenceExport(c *cli.Context) error {
	if err := exactArgs(c, 1, "one drill id"); err != nil {
		return err
	}
	format, err := exportFormat(c)
	if err != nil {
		return err
	}
	dir, err := a.stateDir(c)
	if err != nil {
		return err
	}
	d, err := drill.OpenDir(dir, c.Args().First())
	if err != nil {
		return withHint(err, "run 'firedrill history' for the drill ids in this state directory (--state-dir)")
	}
	// The scenario as run gives the defaults (spec.evidence.push).
	sc, err := scenarios.LoadFile(c.Context, scenarios.Env{Logger: a.log}, d.File("scenario.yaml"))
	if err != nil {
		a.log.Warn("the drill's scenario.yaml cannot be read; its evidence defaults are not used", "err", err)
		sc = nil
	}
	s, err := a.evidenceSettings(c, "", true, sc)
	if err != nil {
		return err
	}
	out := c.String("file")
	if out != "" && out != "-" {
		out = a.abs(out)
	}
	switch c.String("format") {
	case "bundle":
	case formatOSCAL:
		if c.IsSet("output") {
			return usageErrorf(helpHint(c), "--format oscal writes the OSCAL document; -o does not apply")
		}
		return a.exportOSCAL(c, d, s, out)
	default:
		return usageErrorf(helpHint(c), "invalid --format %q: want bundle or oscal", c.String("format"))
	}
	res, err := a.exportDrill(c.Context, d, s, out, unwrapped(a.env.Stdout))
	if res != nil && out != "-" {
		if werr := writeOutput(a.env.Stdout, format, exportOutput(res)); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// exportOSCAL keeps the drill's bundle as export does without -f, and
// writes the OSCAL assessment-results document of the drill, which names
// the bundle by its SHA-256, to out ("" or "-" for standard output).
func (a *app) exportOSCAL(c *cli.Context, d *drill.Dir, s *evidenceSettings, out string) error {
	k, err := a.exportDrill(c.Context, d, s, "", nil)
	if errors.Is(err, drill.ErrDrillDirReadOnly) {
		// The outer hint is the one shown: -f names the OSCAL document here.
		return withHint(err, "--format oscal keeps the bundle in the drill's directory, which cannot be written: copy the drill directory somewhere writable, or export the bundle alone with 'firedrill evidence export DRILL_ID -f FILE'")
	}
	if err != nil {
		return err
	}
	rep, err := d.ReadReport()
	if err != nil {
		return fmt.Errorf("read the drill's record: %w", err)
	}
	title := fmt.Sprintf("firedrill disaster-recovery drill %s of scenario %s", rep.DrillID, rep.Scenario)
	docs := []oscal.Drill{{Report: rep, Index: k.Index, BundleSHA256: k.SHA256, BundleHref: bundleHref(k.Pushed, k.File)}}
	if out == "" || out == "-" {
		return writeOSCAL(a.env.Stdout, title, docs)
	}
	var buf bytes.Buffer
	if err := writeOSCAL(&buf, title, docs); err != nil {
		return err
	}
	if err := drill.WriteFileAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "OSCAL assessment results of drill %s: %s (bundle sha256 %s kept in %s)\n", rep.DrillID, out, k.SHA256, k.File)
	return nil
}

// exportOutput is what evidence export prints of a bundle kept.
func exportOutput(res *drill.Kept) document {
	return document{
		doc:   exportDoc{Schema: schemaEvidenceExport, Kept: res},
		table: func(w io.Writer) error { writeExportText(w, res); return nil },
	}
}

func writeExportText(w io.Writer, res *drill.Kept) {
	fmt.Fprintf(w, "evidence bundle of drill %s: %d files, signed by %s\n", res.DrillID, res.Files, res.SignedBy)
	if res.File != "" {
		fmt.Fprintf(w, "  file:     %s (%d bytes)\n", res.File, res.Size)
	}
	fmt.Fprintf(w, "  sha256:   %s\n", res.SHA256)
	fmt.Fprintf(w, "  controls: %s\n", orDash(strings.Join(res.Controls, ", ")))
	if p := res.Pushed; p != nil {
		lock := "not locked (the bucket has no object lock)"
		if p.RetainUntil != nil {
			lock = fmt.Sprintf("%s until %s (read back)", p.Mode, p.RetainUntil.Format("2006-01-02"))
		}
		fmt.Fprintf(w, "  pushed:   %s, %s\n", p.URL, lock)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) evidenceVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check an evidence bundle: every file's SHA-256 and the manifest's signature",
		UsageText: "firedrill evidence verify FILE --public-key FILE [-o text|json|yaml]",
		Description: `Recomputes the SHA-256 of every file in the bundle, compares them with the
manifest, and checks the manifest's Ed25519 signature with the public key.
A bundle is intact only when it is one gzip member of one tar archive with
nothing after its end, and every entry is a regular file under the drill's
own directory, listed in the manifest, with mode 0644 or less. Every
difference is named: a file changed, added or removed, an unsafe entry (an
absolute or ../ path, a link, setuid or world-writable modes, a directory
with a size), a bad signature, or an archive that does not open or holds
more than 10,000 entries. Names from the bundle are printed quoted when they
hold control characters.

The same checks without firedrill, where the bundle and the public key are
(OpenSSL 3; on macOS shasum -a 256 for sha256sum):
  tar xzf BUNDLE && cd DRILL_ID
  openssl pkeyutl -verify -pubin -inkey ../firedrill-evidence.pub -rawin -in manifest.json -sigfile manifest.sig
  jq -r '.files[] | "\(.sha256)  \(.path)"' manifest.json | sha256sum -c

The bundle's in-toto statement (attestation.dsse.json, a DSSE envelope
signed with the same key) is checked too: its signature, every file a
subject with the manifest's SHA-256, the predicate of the same drill and
result. Bundles made before it existed are intact without it ("no in-toto
statement"). Without firedrill, in DRILL_ID too (README, "Auditors"):
  cosign verify-blob-attestation --key ../firedrill-evidence.pub --signature attestation.dsse.json \
      --type https://firedrill.dev/drill-result/v1 --insecure-ignore-tlog report.json

Exit codes: 0 intact, 3 something differs, 1 the bundle or key cannot be read, 2 usage.

Examples:
  firedrill evidence verify fd-20261122-174512-3f9a.evidence.tar.gz --public-key firedrill-evidence.pub`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "public-key", Usage: "verify with the public key in `FILE` (firedrill-evidence.pub); required"},
			textOutput.flag(),
		},
		Action: a.evidenceVerify,
	}
}

func (a *app) evidenceVerify(c *cli.Context) error {
	format, err := textOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 1, "one bundle file"); err != nil {
		return err
	}
	if c.String("public-key") == "" {
		return usageErrorf("an auditor verifies with the public key of the pair that signed: --public-key firedrill-evidence.pub",
			"evidence verify needs --public-key FILE")
	}
	pubPEM, err := safefile.ReadFile(a.abs(c.String("public-key")), safefile.PublicKey)
	if err != nil {
		return fmt.Errorf("read the public key: %w", err)
	}
	pub, err := evidence.ParsePublicKey(pubPEM)
	if err != nil {
		return fmt.Errorf("public key %s: %w", c.String("public-key"), err)
	}
	path := a.abs(c.Args().First())
	f, err := safefile.Open(path, safefile.EvidenceBundle)
	if err != nil {
		return fmt.Errorf("open the bundle: %w", err)
	}
	defer f.Close()
	v, err := evidence.Verify(f, pub)
	if err != nil {
		return fmt.Errorf("read the bundle %s: %w", path, err)
	}
	if err := writeOutput(a.env.Stdout, format, document{
		doc:   evidenceVerifyDoc{Schema: schemaEvidenceVerify, Verification: v},
		table: func(w io.Writer) error { return writeVerificationText(w, v) },
	}); err != nil {
		return err
	}
	if !v.Intact() {
		return failedf("evidence bundle %s is not intact: %s", path, problemList(v.Problems))
	}
	return nil
}

// writeVerificationText writes what evidence verify found, for people.
func writeVerificationText(w io.Writer, v *evidence.Verification) error {
	if m := v.Manifest; m != nil {
		// The manifest's words, signed or not: printed escaped.
		fmt.Fprintf(w, "bundle of drill %s (scenario %s, result %s), signed by %s\n", printable(m.DrillID), printable(m.Scenario), printable(m.Result), printable(m.SignedBy))
	}
	if v.Intact() {
		fmt.Fprintf(w, "INTACT: the signature verifies with %s and all %d files match the manifest\n", v.KeyFingerprint, v.Files)
		switch v.InToto {
		case evidence.InTotoVerified:
			fmt.Fprintf(w, "in-toto statement (%s): its DSSE signature verifies with the same key and it names every file by SHA-256\n", evidence.StatementName)
		case evidence.InTotoNone:
			fmt.Fprintln(w, "no in-toto statement: the bundle was made by a firedrill before it added one; the manifest's signature covers every file")
		}
	} else {
		fmt.Fprintf(w, "NOT INTACT: %s\n", plural.Count(len(v.Problems), "problem", "problems"))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, p := range v.Problems {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.ToUpper(printable(p.Kind)), orDash(printable(p.Path)), printable(p.Detail))
		}
		return tw.Flush()
	}
	return nil
}

// printable is s as it is when every rune of it is printable, else
// quoted as a Go string ("\x1b[2K..."): names and details of a bundle are
// its author's bytes, and a terminal escape sequence in them could move the
// cursor and draw "INTACT" over a failure.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}

func problemList(ps []evidence.Problem) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Path != "" {
			fmt.Fprintf(&b, "%s %s", printable(p.Path), p.Kind)
		} else {
			b.WriteString(p.Kind)
		}
		if i == 4 && len(ps) > 5 {
			fmt.Fprintf(&b, "; and %d more", len(ps)-5)
			break
		}
	}
	return b.String()
}
