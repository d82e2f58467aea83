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

// TestCheckFiles is issue 14, item 8: a CA file or a credentials file the
// drill will need, missing, unreadable or wrong, is named with its field,
// its line and the fix; ValidateFile returns the same as warnings.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("der.crt", "0\x82\x01\x0a not PEM")
	write("ca.pem", selfSignedPEM(t))
	write("credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = hunter2hunter2\n\n[profile lab]\naws_access_key_id = x\n")
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.pem")))
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
`
	write("files.yaml", strings.Replace(scenarioYAML(t, "files"), "  target:\n", copies+"  target:\n", 1))

	sc, err := LoadFile(context.Background(), Env{WorkDir: dir}, "files.yaml")
	require.NoError(t, err, "files are not checked when loading: they may exist only where the drill runs")
	got := sc.CheckFiles()
	want := []wantErr{
		{34, "spec.storage.copies[0].caFile", "CA file missing.pem does not exist; put the PEM bundle of the CA that signed the endpoint's certificate there, or fix the path"},
		{39, "spec.storage.copies[1].caFile", "CA file der.crt holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)"},
		{40, "spec.storage.copies[1].credentials.profile", `credentials file credentials has no profile "offsite" (it has "default" and "lab"); set profile to one of its profiles, or add a [offsite] section`},
		{45, "spec.storage.copies[2].caFile", "CA file zero.pem: not a regular file: it is a character device; firedrill reads only regular files; point caFile at a PEM file"},
		{46, "spec.storage.copies[2].credentials.file", "credentials file creds.fifo: not a regular file: it is a FIFO (named pipe)"},
		{57, "spec.storage.copies[4].credentials.file", "credentials file nowhere does not exist"},
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
	}
	for _, a := range args {
		got := -1
		for j := 0; j < len(a.run) && got < 0; j++ {
			if _, next, ok := namespaceFlag(a.run, j, mapping); ok {
				got = j
				if next {
					got = j + 1
				}
			} else if _, ok := namespaceInText(a.run[j], mapping); ok {
				got = j
			}
		}
		assert.Equal(t, a.want, got, "%q", a.run)
	}
}
