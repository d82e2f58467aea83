package scenarios

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad_Warnings loads each warn-* fixture: valid, with exactly the
// listed warnings (line and path exactly, message by fragment).
func TestLoad_Warnings(t *testing.T) {
	tests := map[string][]wantErr{
		// issue 14, item 6
		"namespace-mapping": {
			{31, "spec.checks[0].http.url", `names namespace "shop", which the drill restores as "shop-restored" (spec.target.namespaceMapping): this check would test the source namespace, or nothing; write "shop-restored" in its place`},
			{33, "spec.checks[1].tcp.address", `names namespace "shop"`},
			{36, "spec.checks[2].command.run[2]", `names namespace "shop"`},
			{39, "spec.checks[3].command.run[2]", `names namespace "shop"`},
			{42, "spec.checks[4].command.run[3]", `names namespace "shop"`},
			{45, "spec.checks[5].command.run[1]", `names namespace "shop"`},
			// an argument of several words, as a shell or a runbook writes it
			{48, "spec.checks[6].command.run[2]", `names namespace "shop"`},
			{51, "spec.checks[7].command.run[2]", `names namespace "shop"`},
			{54, "spec.checks[8].command.run[1]", `names namespace "shop"`},
		},
		// scheduleCron with no schedule to apply to (issue 22)
		"schedule-cron-without-schedule": {
			{18, "spec.backups.scheduleCron", "is not used: it applies to the runs of spec.backups.schedule, and none is named"},
		},
		// objectives the time between two backups cannot meet: the window
		// (and the pick within it) would hold no backup at times
		"retention-shorter-than-rpo": {
			{17, "spec.objectives.retention", "1h may be shorter than the time between backups: the scenario names no schedule whose runs would tell, and the RPO objective allows backups as much as 6h apart; if they are that far apart, a window reaching back only 1h holds no backup at times, so the recovery-window check judges little but the backup before it, and the window pick (spec.backups.window, whose within defaults to retention) then finds no backup to restore; set retention to at least 6h"},
			{18, "spec.objectives.maxRetention", "2h may be shorter than the time between backups: the scenario names no schedule whose runs would tell, and the RPO objective allows backups as much as 6h apart; if they are that far apart, a backup gone after 2h leaves none to restore from at times; raise maxRetention to at least 6h, or back up at least every 2h"},
		},
		"schedule-cron-slower-than-rpo": {
			{20, "spec.backups.scheduleCron", `"0 3 * * 1-5" runs as much as 3d apart (from Fri 2025-01-03 03:00 UTC to Mon 2025-01-06 03:00 UTC), longer than the RPO objective 6h: the schedule alone cannot meet the RPO (a disaster just before a run loses up to 3d of data); run it at least every 6h, or raise spec.objectives.rpo to 3d if that loss is acceptable`},
			{21, "spec.backups.window.within", `12h is shorter than the time between backups, which come as much as 3d apart (the runs of scheduleCron "0 3 * * 1-5"): at times no backup started within 12h before the disaster, and the drill has none to restore; look back at least 3d`},
		},
		// issue 14, items 7 and 12
		"endpoint": {
			{13, "spec.disaster.declaredAt", "fixes the disaster time at 2026-03-01T03:10:00Z: every drill of this scenario measures RTO and RPO from that moment, so a drill started later than the RTO after it misses its RTO, and 'firedrill schedule render' refuses the scenario"},
			{22, "spec.storage.primary.endpoint", "endpoint s3.eu-west-1.minio.example.com names region eu-west-1 but region is not set, so requests are signed for us-east-1; if the server is in eu-west-1, set spec.storage.primary.region: eu-west-1"},
			{29, "spec.storage.copies[0].endpoint", "starts with the bucket name velero-copy: if this is the bucket's virtual-hosted address, requests would address the bucket twice; set endpoint: https://minio.example.net (the server's own address) and keep bucket: velero-copy"},
		},
	}
	files, err := filepath.Glob("testdata/warn-*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(tests))
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", "warn-"+name+".yaml")
			sc, err := LoadFile(context.Background(), testEnv(), file)
			require.NoError(t, err, "warnings never make a file invalid")
			got := sc.Warnings()
			require.Len(t, got, len(want), "warnings:\n%v", got)
			for i, w := range want {
				assert.Equal(t, file, got[i].File)
				assert.Equal(t, w.line, got[i].Line, "line of %q", got[i])
				assert.Equal(t, w.path, got[i].Path, "path of %q", got[i])
				assert.Contains(t, got[i].Message, w.msg)
			}
		})
	}
}

// TestBackupSpacing: the time between backups is the longest between the
// runs of scheduleCron when the schedule is named (time zone changes
// included), else the RPO; objectives it allows make no warning.
func TestBackupSpacing(t *testing.T) {
	tests := []struct {
		name                string
		objectives, backups string
		want                []wantErr // line, path, message fragment
	}{
		{"the RPO alone", "rto: 1h\n    rpo: 6h\n    retention: 6h\n    maxRetention: 6h", "schedule: every-6h", nil},
		{"a daily schedule meets a daily RPO", "rto: 1h\n    rpo: 24h\n    retention: 1d", "schedule: nightly\n    scheduleCron: \"0 3 * * *\"", nil},
		{"an hourly schedule keeps a short window full", "rto: 1h\n    rpo: 24h\n    retention: 2h\n    maxRetention: 2h", "schedule: hourly\n    scheduleCron: \"@hourly\"\n    window: {within: 1h}", nil},
		{"a cron not used is not judged", "rto: 1h\n    rpo: 6h", "window: {within: 6h}\n    scheduleCron: \"0 3 * * 0\"",
			[]wantErr{{18, "spec.backups.scheduleCron", "is not used"}}},
		// Without scheduleCron the time between backups is unknown: the
		// warnings say so, and how to tell validate (issue: every-6h with
		// window.within 12h warned of backups 24h apart as a fact).
		{"retention shorter than the RPO", "rto: 1h\n    rpo: 6h\n    retention: 1h", "schedule: every-6h",
			[]wantErr{{16, "spec.objectives.retention", "1h may be shorter than the time between backups: without spec.backups.scheduleCron the runs of schedule every-6h are unknown, and the RPO objective allows backups as much as 6h apart; if they are that far apart, a window reaching back only 1h holds no backup at times, so the recovery-window check judges little but the backup before it; set retention to at least 6h (how far back a restore must reach, such as 7d for a week of nightly backups); if they come more often, set spec.backups.scheduleCron to the Schedule's spec.schedule (kubectl -n velero get schedule every-6h -o jsonpath='{.spec.schedule}'), so that validate judges the real time between them"}}},
		{"a window shorter than the RPO, spacing unknown", "rto: 1h\n    rpo: 24h", "schedule: every-6h\n    window: {within: 12h}",
			[]wantErr{{18, "spec.backups.window.within", "12h may be shorter than the time between backups: without spec.backups.scheduleCron the runs of schedule every-6h are unknown, and the RPO objective allows backups as much as 24h apart; if they are that far apart, at times no backup started within 12h before the disaster, and the drill has none to restore; look back at least 24h; if they come more often, set spec.backups.scheduleCron to the Schedule's spec.schedule (kubectl -n velero get schedule every-6h -o jsonpath='{.spec.schedule}'), so that validate judges the real time between them"}}},
		{"the same window, spacing known", "rto: 1h\n    rpo: 24h", "schedule: every-6h\n    scheduleCron: \"0 */6 * * *\"\n    window: {within: 12h}", nil},
		{"maxRetention shorter than the RPO, spacing unknown", "rto: 1h\n    rpo: 24h\n    retention: 2h\n    maxRetention: 2h", "schedule: every-6h",
			[]wantErr{
				{16, "spec.objectives.retention", "2h may be shorter than the time between backups: without spec.backups.scheduleCron"},
				{17, "spec.objectives.maxRetention", "2h may be shorter than the time between backups: without spec.backups.scheduleCron the runs of schedule every-6h are unknown, and the RPO objective allows backups as much as 24h apart; if they are that far apart, a backup gone after 2h leaves none to restore from at times; raise maxRetention to at least 24h, or back up at least every 2h; if they come more often, set spec.backups.scheduleCron to the Schedule's spec.schedule"},
			}},
		{"retention shorter than the runs", "rto: 1h\n    rpo: 24h\n    retention: 12h", "schedule: nightly\n    scheduleCron: \"0 3 * * *\"",
			[]wantErr{{16, "spec.objectives.retention", `12h is shorter than the time between backups, which come as much as 24h apart (the runs of scheduleCron "0 3 * * *")`}}},
		{"a daylight saving change", "rto: 1h\n    rpo: 24h", "schedule: nightly\n    scheduleCron: \"CRON_TZ=Europe/Berlin 0 3 * * *\"",
			[]wantErr{{18, "spec.backups.scheduleCron", `"CRON_TZ=Europe/Berlin 0 3 * * *" runs as much as 25h apart (from Sat 2025-10-25 03:00 CEST to Sun 2025-10-26 03:00 CET), longer than the RPO objective 24h`}}},
		{"a regular schedule names no runs", "rto: 1h\n    rpo: 6h", "schedule: nightly\n    scheduleCron: \"0 3 * * *\"",
			[]wantErr{{18, "spec.backups.scheduleCron", `"0 3 * * *" runs as much as 24h apart, longer than the RPO objective 6h`}}},
		{"a schedule that never runs", "rto: 1h\n    rpo: 6h", "schedule: nightly\n    scheduleCron: \"0 3 30 2 *\"",
			[]wantErr{{18, "spec.backups.scheduleCron", `"0 3 30 2 *" never runs (no date matches it), so the schedule takes no backup and cannot meet the RPO objective 6h`}}},
		{"once in four years", "rto: 1h\n    rpo: 7d", "schedule: leap\n    scheduleCron: \"0 3 29 2 *\"",
			[]wantErr{{18, "spec.backups.scheduleCron", `"0 3 29 2 *" runs as much as 1461d apart`}}},
		// An error at the field is the one thing to fix there.
		{"within past maxRetention is an error only", "rto: 1h\n    rpo: 6h\n    retention: 1h\n    maxRetention: 2h", "window: {within: 3h}",
			[]wantErr{{16, "spec.objectives.retention", "1h may be shorter"}, {17, "spec.objectives.maxRetention", "2h may be shorter"}}},
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scratch.kubeconfig"), []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(scenarioYAML(t, "spacing"), "rto: 1h\n    rpo: 6h", tt.objectives, 1)
			text = strings.Replace(text, "schedule: every-6h", tt.backups, 1)
			text = strings.Replace(text, "/etc/firedrill/scratch.kubeconfig", "scratch.kubeconfig", 1)
			text = strings.Replace(text, "minRetention: 7d", "minRetention: 1h", 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "spacing.yaml"), []byte(text), 0o600))
			// ValidateFile: the warnings of an invalid file too.
			_, got, err := ValidateFile(context.Background(), Env{WorkDir: dir}, "spacing.yaml")
			if tt.name == "within past maxRetention is an error only" {
				require.ErrorContains(t, err, "spec.backups.window.within: 3h reaches further back than objectives.maxRetention 2h")
			} else {
				require.NoError(t, err)
			}
			require.Len(t, got, len(tt.want), "warnings:\n%v", got)
			for i, w := range tt.want {
				assert.Equal(t, w.line, got[i].Line, "line of %q", got[i])
				assert.Equal(t, w.path, got[i].Path, "path of %q", got[i])
				assert.Contains(t, got[i].Message, w.msg)
			}
		})
	}
}

// TestLoad_NoWarnings: the built-in catalog has none, so a warning always
// means something.
func TestLoad_NoWarnings(t *testing.T) {
	entries, err := List(context.Background(), Env{WorkDir: t.TempDir()})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		require.NoError(t, e.Err)
		assert.Empty(t, e.Scenario.Warnings(), e.File)
	}
}

// TestCheckFiles is issue 14, item 8: a CA file, a credentials file or a
// kubeconfig the drill will need, missing, unreadable or wrong, is named
// with its field, its line and the fix; ValidateFile returns the same as
// warnings.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("der.crt", "0\x82\x01\x0a not PEM")
	write("ca.pem", selfSignedPEM(t))
	write("credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = hunter2hunter2\n\n"+
		"[lab]\naws_access_key_id=AKIAIOSFODNN7EXAMPLE\naws_secret_access_key=hunter2hunter2\n\n"+
		"[profile prefixed]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = hunter2hunter2\n\n"+
		"[half]\n# a comment\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
	write("scratch.kubeconfig", "apiVersion: v1\nkind: Config\n")
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.pem")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "source.kubeconfig")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "creds.fifo"), 0o600))
	copies := `    copies:
      - name: missing-ca
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-one
        caFile: missing.pem
      - name: der
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-two
        caFile: der.crt
        credentials: {file: credentials, profile: offsite}
      - name: zero
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-three
        caFile: zero.pem
        credentials: {file: creds.fifo}
      - name: fine
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-four
        caFile: ca.pem
        credentials: {file: credentials, profile: lab}
      - name: no-file
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-five
        credentials: {file: nowhere}
      - name: prefixed
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-six
        credentials: {file: credentials, profile: prefixed}
      - name: half
        kind: offsite
        endpoint: https://s3.example.net
        bucket: copy-seven
        credentials: {file: credentials, profile: half}
`
	text := strings.Replace(scenarioYAML(t, "files"), "  target:\n", copies+"  source:\n    kubeconfig: source.kubeconfig\n  target:\n", 1)
	write("files.yaml", strings.Replace(text, "/etc/firedrill/scratch.kubeconfig", "scratch.kubeconfig", 1))

	sc, err := LoadFile(context.Background(), Env{WorkDir: dir}, "files.yaml")
	require.NoError(t, err, "files are not checked when loading: they may exist only where the drill runs")
	got := sc.CheckFiles()
	want := []wantErr{
		{34, "spec.storage.copies[0].caFile", "CA file missing.pem does not exist; put the PEM bundle of the CA that signed the endpoint's certificate there, or fix the path"},
		{39, "spec.storage.copies[1].caFile", "CA file der.crt holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)"},
		{40, "spec.storage.copies[1].credentials.profile", `credentials file credentials has no profile "offsite" (it has "default", "lab" and "half"); set profile to one of its profiles, or add a [offsite] section`},
		{45, "spec.storage.copies[2].caFile", "CA file zero.pem: not a regular file: it is a character device; firedrill reads only regular files; point caFile at a PEM file"},
		{46, "spec.storage.copies[2].credentials.file", "credentials file creds.fifo: not a regular file: it is a FIFO (named pipe)"},
		{57, "spec.storage.copies[4].credentials.file", "credentials file nowhere does not exist"},
		{62, "spec.storage.copies[5].credentials.profile", `credentials file credentials has no profile "prefixed" (it has "default", "lab" and "half"; its section [profile prefixed] is ignored: a credentials file names profiles without the "profile " prefix, write [prefixed])`},
		{67, "spec.storage.copies[6].credentials.profile", "profile half in credentials file credentials has aws_access_key_id but no aws_secret_access_key, so the AWS SDK refuses it (partial credentials); add aws_secret_access_key to its section"},
		{69, "spec.source.kubeconfig", "kubeconfig source.kubeconfig: not a regular file: it is a character device; firedrill reads only regular files; point kubeconfig at a kubeconfig file"},
	}
	require.Len(t, got, len(want), "problems:\n%v", got)
	for i, w := range want {
		assert.Equal(t, "files.yaml", got[i].File)
		assert.Equal(t, w.line, got[i].Line, "line of %q", got[i])
		assert.Equal(t, w.path, got[i].Path, "path of %q", got[i])
		assert.Contains(t, got[i].Message, w.msg)
		assert.NotContains(t, got[i].Message, "hunter2", "no value of the credentials file is repeated")
		assert.NotContains(t, got[i].Message, "AKIA")
	}

	_, warnings, err := ValidateFile(context.Background(), Env{WorkDir: dir}, "files.yaml")
	require.NoError(t, err)
	assert.Equal(t, got, warnings)
}

// TestCheckFiles_Kubeconfig: a target or source kubeconfig that is missing
// or not a regular file is a problem at its field; an empty source
// kubeconfig (client-go's default rules) is not checked.
func TestCheckFiles_Kubeconfig(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scratch.kubeconfig"), []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, "scratch.kubeconfig"), []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.kubeconfig"), 0o600))
	tests := []struct {
		name, target, source string
		want                 []wantErr
	}{
		{"fine", "scratch.kubeconfig", "", nil},
		{"fine with source", "scratch.kubeconfig", "~/scratch.kubeconfig", nil},
		{"missing target", "missing.kubeconfig", "", []wantErr{{30, "spec.target.kubeconfig", "kubeconfig missing.kubeconfig does not exist; put the cluster's kubeconfig there, or fix the path (relative paths are relative to the scenario file)"}}},
		{"devzero target", "/dev/zero", "", []wantErr{{30, "spec.target.kubeconfig", "kubeconfig /dev/zero: not a regular file: it is a character device; firedrill reads only regular files; point kubeconfig at a kubeconfig file"}}},
		{"fifo target", "pipe.kubeconfig", "", []wantErr{{30, "spec.target.kubeconfig", "kubeconfig pipe.kubeconfig: not a regular file: it is a FIFO (named pipe)"}}},
		{"missing source", "scratch.kubeconfig", "~/.kube/prod.yaml", []wantErr{{29, "spec.source.kubeconfig", "kubeconfig " + filepath.Join(home, ".kube", "prod.yaml") + " does not exist"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(scenarioYAML(t, "kc"), "/etc/firedrill/scratch.kubeconfig", tt.target, 1)
			if tt.source != "" {
				text = strings.Replace(text, "  target:\n", "  source: {kubeconfig: "+tt.source+"}\n  target:\n", 1)
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "kc.yaml"), []byte(text), 0o600))
			sc, err := LoadFile(context.Background(), Env{WorkDir: dir, HomeDir: home}, "kc.yaml")
			require.NoError(t, err)
			got := sc.CheckFiles()
			require.Len(t, got, len(tt.want), "problems:\n%v", got)
			for i, w := range tt.want {
				assert.Equal(t, w.path, got[i].Path)
				assert.Equal(t, w.line, got[i].Line)
				assert.Contains(t, got[i].Message, w.msg)
			}
		})
	}

	// The case file of issue 15, section 6.
	sc, err := LoadFile(context.Background(), Env{}, "testdata/security/kubeconfig-devzero.yaml")
	require.NoError(t, err)
	got := sc.CheckFiles()
	require.Len(t, got, 1, "problems:\n%v", got)
	assert.Equal(t, "testdata/security/kubeconfig-devzero.yaml:30: spec.target.kubeconfig: kubeconfig /dev/zero: not a regular file: it is a character device; firedrill reads only regular files; point kubeconfig at a kubeconfig file", got[0].Error())
}

// TestCheckFiles_ProfileWithoutFile is issue 14, item 8 for a profile named
// without credentials.file: it is looked up where the AWS SDK looks (the
// credentials and config files of $AWS_SHARED_CREDENTIALS_FILE,
// $AWS_CONFIG_FILE or ~/.aws), and a missing or half-written profile is a
// problem at credentials.profile, quoting no value of those files.
func TestCheckFiles_ProfileWithoutFile(t *testing.T) {
	const creds = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = hunter2hunter2\n" +
		"[backup]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n" +
		"[secret-only]\naws_secret_access_key = hunter2hunter2\n"
	const config = "[default]\nregion = eu-west-1\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/backup\nsource_profile = default\n[bare]\nregion = eu-west-1\n"
	home, other := t.TempDir(), t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(home, ".aws"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(creds), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(other, "creds"), []byte("[backup]\naws_access_key_id = A\naws_secret_access_key = B\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(other, "scratch.kubeconfig"), []byte("apiVersion: v1\n"), 0o600))
	credsFile, configFile := filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")

	tests := []struct {
		name, profile string
		home          string
		env           map[string]string
		want          string // "" for no problem
	}{
		{"in credentials", "default", home, nil, ""},
		{"role in config", "role", home, nil, ""},
		{"partial", "backup", home, nil, "profile backup in credentials file " + credsFile + " (the AWS SDK's default) has aws_access_key_id but no aws_secret_access_key, so the AWS SDK refuses it (partial credentials)"},
		{"secret only", "secret-only", home, nil, "profile secret-only in credentials file " + credsFile + " (the AWS SDK's default) has aws_secret_access_key but no aws_access_key_id"},
		{"missing", "offsite", home, nil, `profile "offsite" is in neither of the files the AWS SDK reads when credentials.file is not set: credentials file ` + credsFile + ` (the AWS SDK's default) and config file ` + configFile + ` (the AWS SDK's default); add a [offsite] section with aws_access_key_id and aws_secret_access_key to the credentials file (or [profile offsite] to the config file) where the drill runs, or set file to the credentials file that holds it`},
		{"bare section in config", "bare", home, nil, "its section [bare] is ignored: a config file names profiles other than default [profile bare]"},
		{"no home files", "backup", other, nil, `profile "backup" is in neither of the files the AWS SDK reads when credentials.file is not set: credentials file ` + filepath.Join(other, ".aws", "credentials") + " (the AWS SDK's default), which does not exist and config file " + filepath.Join(other, ".aws", "config") + " (the AWS SDK's default), which does not exist"},
		{"from the environment", "backup", home, map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(other, "creds")}, ""},
		{"environment wins over home", "default", home, map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(other, "creds"), "AWS_CONFIG_FILE": filepath.Join(other, "none")},
			`profile "default" is in neither of the files the AWS SDK reads when credentials.file is not set: credentials file ` + filepath.Join(other, "creds") + " ($AWS_SHARED_CREDENTIALS_FILE) and config file " + filepath.Join(other, "none") + " ($AWS_CONFIG_FILE), which does not exist"},
		{"device", "backup", home, map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "/dev/zero"}, `profile "backup": credentials file /dev/zero: not a regular file: it is a character device`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(scenarioYAML(t, "profile"), `        accessKeyIDEnv: AWS_ACCESS_KEY_ID
        secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY
`, "        profile: "+tt.profile+"\n", 1)
			text = strings.Replace(text, "/etc/firedrill/scratch.kubeconfig", filepath.Join(other, "scratch.kubeconfig"), 1)
			env := Env{HomeDir: tt.home, Getenv: func(k string) string { return tt.env[k] }}
			sc, err := Parse(env, "profile.yaml", []byte(text))
			require.NoError(t, err)
			got := sc.CheckFiles()
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "problems:\n%v", got)
			assert.Equal(t, "spec.storage.primary.credentials.profile", got[0].Path)
			assert.Equal(t, 24, got[0].Line)
			assert.Contains(t, got[0].Message, tt.want)
			for _, v := range []string{"hunter2", "AKIA", "eu-west-1", "arn:aws"} {
				assert.NotContains(t, got[0].Message, v, "no value of the shared files is repeated")
			}
		})
	}

	// Nowhere to look (no home directory, no variable): the drill's own
	// environment decides, and nothing is said.
	text := strings.Replace(scenarioYAML(t, "profile"), "accessKeyIDEnv: AWS_ACCESS_KEY_ID\n        secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY", "profile: backup", 1)
	text = strings.Replace(text, "/etc/firedrill/scratch.kubeconfig", filepath.Join(other, "scratch.kubeconfig"), 1)
	sc, err := Parse(Env{}, "profile.yaml", []byte(text))
	require.NoError(t, err)
	assert.Empty(t, sc.CheckFiles())
}

// selfSignedPEM is a CA certificate in PEM, made at test time.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestEndpoint_HostShapes checks each shape of endpoint host name against
// region and bucket: nothing, a warning or an error, at which field.
func TestEndpoint_HostShapes(t *testing.T) {
	const (
		none = ""
		warn = "warning"
		fail = "error"
	)
	tests := []struct {
		endpoint, region, bucket string
		want, path, msg          string
	}{
		{"https://s3.amazonaws.com", "", "velero-backups", none, "", ""},
		{"https://s3.eu-west-1.amazonaws.com", "eu-west-1", "velero-backups", none, "", ""},
		{"https://s3.us-east-1.amazonaws.com", "", "velero-backups", none, "", ""},
		{"https://s3-eu-west-1.amazonaws.com", "", "velero-backups", fail, "endpoint", "is in region eu-west-1 but region is not set"},
		{"https://s3.dualstack.ap-southeast-2.amazonaws.com", "eu-west-1", "velero-backups", fail, "region", "is in region ap-southeast-2 but region is eu-west-1"},
		{"https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1", "velero-backups", none, "", ""},
		{"https://velero-backups.s3.amazonaws.com", "", "velero-backups", fail, "endpoint", "already holds bucket velero-backups"},
		{"https://backups.example.s3.eu-west-1.amazonaws.com", "eu-west-1", "velero-backups", fail, "endpoint", "is the address of bucket backups.example"},
		{"https://s3.us-west-004.backblazeb2.com", "", "velero-backups", warn, "endpoint", "names region us-west-004"},
		{"https://eu-central-1.linodeobjects.com", "eu-central-1", "velero-backups", none, "", ""},
		{"https://minio.internal:9000", "", "velero-backups", none, "", ""},
		{"http://127.0.0.1:9000", "", "velero-backups", none, "", ""},
		{"https://velero-backups.minio.internal", "", "velero-backups", warn, "endpoint", "starts with the bucket name velero-backups"},
		// The path of an endpoint (issue 14, item 7): S3 endpoints have none.
		{"http://127.0.0.1:27000/velero-backups", "", "velero-backups", fail, "endpoint", "holds bucket velero-backups in its path (the bucket's path-style address), and bucket is set too, so every request would address /velero-backups/velero-backups/...; set endpoint: http://127.0.0.1:27000, keep bucket: velero-backups"},
		{"https://minio.internal:9000/velero-backups/", "", "velero-backups", fail, "endpoint", "set endpoint: https://minio.internal:9000, keep bucket: velero-backups"},
		{"https://minio.internal:9000/velero-backups/cluster-a", "", "velero-backups", fail, "endpoint", "keep bucket: velero-backups and write cluster-a in prefix"},
		{"https://s3.eu-west-1.amazonaws.com/velero-backups", "eu-west-1", "velero-backups", fail, "endpoint", "set endpoint: https://s3.eu-west-1.amazonaws.com, keep bucket: velero-backups"},
		{"https://minio.internal:9000/s3", "", "velero-backups", warn, "endpoint", "has the path /s3, but an S3 endpoint is the server's address and has no path (requests add /BUCKET/KEY to it); set endpoint: https://minio.internal:9000"},
		{"http://10.0.0.1:9000/velero-backups-old", "", "velero-backups", warn, "endpoint", "has the path /velero-backups-old"},
		{"https://minio.internal:9000/", "", "velero-backups", none, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+" "+tt.region, func(t *testing.T) {
			bucket := "      endpoint: " + tt.endpoint + "\n"
			if tt.region != "" {
				bucket += "      region: " + tt.region + "\n"
			}
			text := strings.Replace(scenarioYAML(t, "shapes"), "      endpoint: https://s3.example.com\n", bucket, 1)
			sc, err := Parse(Env{}, "shapes.yaml", []byte(text))
			var got ValidationErrors
			kind := none
			switch {
			case err != nil:
				require.ErrorAs(t, err, &got)
				kind = fail
			case len(sc.Warnings()) > 0:
				got, kind = sc.Warnings(), warn
			}
			require.Equal(t, tt.want, kind, "%v", got)
			if tt.want == none {
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, "spec.storage.primary."+tt.path, got[0].Path)
			assert.Contains(t, got[0].Message, tt.msg)
		})
	}
}

// TestEndpoint_PathInEveryBucket: the endpoint of a copy and of the
// evidence push are checked as the primary's is.
func TestEndpoint_PathInEveryBucket(t *testing.T) {
	more := `    copies:
      - name: offsite
        kind: offsite
        endpoint: http://127.0.0.1:27001/velero-copy
        bucket: velero-copy
  target:
`
	text := strings.Replace(scenarioYAML(t, "paths"), "  target:\n", more, 1)
	text += `  evidence:
    push:
      endpoint: https://evidence.example.com/dr-evidence/
      bucket: dr-evidence
`
	_, err := Parse(Env{}, "paths.yaml", []byte(text))
	var got ValidationErrors
	require.ErrorAs(t, err, &got)
	require.Len(t, got, 2, "%v", got)
	assert.Equal(t, "spec.storage.copies[0].endpoint", got[0].Path)
	assert.Contains(t, got[0].Message, "holds bucket velero-copy in its path")
	assert.Contains(t, got[0].Message, "set endpoint: http://127.0.0.1:27001, keep bucket: velero-copy")
	assert.Equal(t, "spec.evidence.push.endpoint", got[1].Path)
	assert.Contains(t, got[1].Message, "set endpoint: https://evidence.example.com, keep bucket: dr-evidence")
}

func TestMappedNamespace_Forms(t *testing.T) {
	mapping := map[string]string{"shop": "shop-restored"}
	hosts := map[string]bool{
		"db.shop": true, "db.shop.svc": true, "db.shop.svc.cluster.local": true, "db-0.db.shop.svc.cluster.local": true,
		"10-1-2-3.shop.pod.cluster.local": true, "shop": false, "shop.example.com": false, "api.shop.example.com": false,
		"db.shop-restored.svc": false, "10.0.0.1": false,
	}
	for h, want := range hosts {
		_, got := namespaceInHost(h, mapping)
		assert.Equal(t, want, got, h)
	}
	args := []struct {
		run  []string
		want int // index of the argument named, -1 for none
	}{
		{[]string{"kubectl", "-n", "shop", "get", "pods"}, 2},
		{[]string{"kubectl", "--namespace", "shop"}, 2},
		{[]string{"kubectl", "-nshop", "get", "pods"}, 1},
		{[]string{"kubectl", "-n=shop", "get", "pods"}, 1},
		{[]string{"kubectl", "--namespace=shop", "get", "pods"}, 1},
		{[]string{"psql", "-h", "db.shop.svc", "-c", "select 1"}, 2},
		{[]string{"curl", "https://api.example.com/api/v1/namespaces/shop/pods"}, 1},
		{[]string{"kubectl", "-n", "shop-restored", "get", "deploy/shop"}, -1},
		{[]string{"sh", "-c", "echo shop"}, -1},
		{[]string{"sh", "-c", "kubectl -n shop get pods"}, 2},
		{[]string{"bash", "-c", "kubectl get pods --namespace shop"}, 2},
		{[]string{"bash", "-c", "kubectl get pods --namespace=shop"}, 2},
		{[]string{"sh", "-c", "kubectl -nshop get pods"}, 2},
		{[]string{"sh", "-c", "psql -h db.shop.svc -c 'select 1'"}, 2},
		{[]string{"sh", "-c", "bash -c 'kubectl -n shop get pods'"}, 2},
		{[]string{"kubectl", "-n shop", "get", "pods"}, 1},
		{[]string{"sh", "-c", "kubectl -n shop-restored get pods; echo shop"}, -1},
		{[]string{"sh", "-c", "echo -n shop-restored"}, -1},
	}
	for _, a := range args {
		got := slices.IndexFunc(namespacesInArgs(a.run, mapping), func(ns string) bool { return ns != "" })
		assert.Equal(t, a.want, got, "%q", a.run)
	}
}

// TestShellWords: an argument holding a command line is split as a shell
// splits it, quotes and escapes removed, operators ending words.
func TestShellWords(t *testing.T) {
	tests := map[string][]string{
		"kubectl -n shop get pods":                {"kubectl", "-n", "shop", "get", "pods"},
		"  a\tb\n c ":                             {"a", "b", "c"},
		`kubectl get pods -n 'shop' | grep "x y"`: {"kubectl", "get", "pods", "-n", "shop", "grep", "x y"},
		`a;b&&c||d>e<f(g)`:                        {"a", "b", "c", "d", "e", "f", "g"},
		`echo "a \"q\" \$x \n" 'it''s' \ x ""`:    {"echo", `a "q" $x \n`, "its", " x", ""},
		`unterminated "quote runs to the end`:     {"unterminated", "quote runs to the end"},
		`'single`:                                 {"single"},
		"":                                        nil,
	}
	for in, want := range tests {
		assert.Equal(t, want, shellWords(in), "%q", in)
	}
}
