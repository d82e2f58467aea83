//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
)

// leakyStep is a runbook step that prints what a careless step would: the
// restored Secrets, raw and decoded, credentials from the environment and
// the evidence signing key's file.
func leakyStep(keyFile string) string {
	return "\n```sh firedrill-step name=\"leaky\" timeout=1m\n" +
		"for ns in $FIREDRILL_NAMESPACES; do kubectl get secrets -n \"$ns\" -o yaml; done\n" +
		"kubectl get secret api-credentials -n \"${FIREDRILL_NAMESPACES%% *}\" -o jsonpath='{.data.PAYMENT_API_KEY}' | base64 -d; echo\n" +
		"echo \"aws=$AWS_SECRET_ACCESS_KEY lab=$FIREDRILL_LAB_PRIMARY_SECRET_KEY push=$FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY\"\n" +
		"cat '" + keyFile + "'; echo $(cat '" + keyFile + "')\n" +
		"kubectl config get-contexts -o name | sed 's/^/context: /'\n" +
		"echo \"pwd=$(pwd)\"\n" +
		"```\n"
}

// TestEvidence_RealDrillExportedPushedLockedAndClean runs a real drill
// that signs its evidence and pushes it to the lab's object-locked
// evidence bucket, then checks, with minio-go, that the bundle landed
// locked and cannot be deleted; that the bundle verifies, exports to the
// same bytes again, and names a changed file; that no secret of the
// environment or of the restored namespaces is anywhere in it; and that
// the audit summary lists it.
func TestEvidence_RealDrillExportedPushedLockedAndClean(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 6*time.Minute)
	primary := l.Stores["primary"]
	evidenceBucket := os.Getenv("FIREDRILL_LAB_EVIDENCE_BUCKET")
	require.NotEmpty(t, evidenceBucket, "the lab exports FIREDRILL_LAB_EVIDENCE_BUCKET")

	keys := t.TempDir()
	kg := firedrill(t, ctx, nil, "evidence", "keygen", "--out-dir", keys)
	require.Equal(t, 0, kg.code, kg.stderr)
	key, pub := filepath.Join(keys, "firedrill-evidence.key"), filepath.Join(keys, "firedrill-evidence.pub")
	keyPEM, err := os.ReadFile(key)
	require.NoError(t, err)
	keyBody := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1]

	file, _ := drillScenario(t, l, "e2e-evidence")
	rb := filepath.Join(filepath.Dir(file), l.Scenario+".md")
	text, err := os.ReadFile(rb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(rb, append(text, []byte(leakyStep(key))...), 0o644))
	again := firedrill(t, ctx, nil, "evidence", "keygen", "--out-dir", keys)
	assert.Equal(t, 1, again.code, "keygen never overwrites")
	assert.Contains(t, again.stderr, "never overwrites")

	const awsSecret = "e2e-aws-secret-value-4d1c9b"
	secrets := []string{
		awsSecret, primary.SecretKey, // credentials in the environment
		"lab-payment-key-0000", "lab-only-not-a-secret", // restored Secrets' values
		base64.StdEncoding.EncodeToString([]byte("lab-payment-key-0000")),
		base64.StdEncoding.EncodeToString([]byte("lab-only-not-a-secret")),
		keyBody, // the signing key, printed by the step
	}
	env := append(drillEnv(), "AWS_SECRET_ACCESS_KEY="+awsSecret,
		"FIREDRILL_EVIDENCE_ACCESS_KEY_ID="+primary.AccessKey, "FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY="+primary.SecretKey)
	prefix := "e2e-" + randomSuffix()
	state := t.TempDir()
	start := time.Now()
	res := firedrill(t, ctx, env, "run", file, "--state-dir", state, "--log-level", "warn",
		"--evidence-key", key, "--evidence-push", "s3://"+evidenceBucket+"/"+prefix,
		"--evidence-push-endpoint", primary.Endpoint, "--evidence-push-path-style", "--evidence-retention", "1d")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stdout, "COMPLIANCE until")
	for _, s := range secrets {
		assert.NotContains(t, res.stdout+res.stderr, s)
	}

	ids, err := os.ReadDir(filepath.Join(state, "drills"))
	require.NoError(t, err)
	require.Len(t, ids, 1)
	id := ids[0].Name()
	dir := filepath.Join(state, "drills", id)
	bundle, err := os.ReadFile(filepath.Join(dir, "evidence.tar.gz"))
	require.NoError(t, err)

	t.Run("no secret anywhere", func(t *testing.T) {
		plain := evidencetest.Gunzip(t, bundle)
		for _, s := range secrets {
			assert.False(t, bytes.Contains(bundle, []byte(s)), "compressed bundle holds %q", s)
			assert.False(t, bytes.Contains(plain, []byte(s)), "bundle holds %q", s)
		}
		// Nor does the drill's own record.
		require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".tar.gz") {
				return err
			}
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			for _, s := range secrets {
				assert.NotContains(t, string(b), s, p)
			}
			return nil
		}))
		// The evidence holds the restored Secret, values redacted, and the
		// runbook step's output with the leaks replaced.
		files := evidencetest.Files(t, bundle)
		objects := files[id+"/restored/objects.json"]
		assert.Contains(t, string(objects), `"name": "api-credentials"`)
		assert.Contains(t, string(objects), `"PAYMENT_API_KEY": "[redacted]"`)
		// Step logs are numbered in runbook order, manual steps counted:
		// the leaky step is the last one appended.
		var leak []byte
		for name, b := range files {
			if strings.HasPrefix(name, id+"/runbook/") && strings.HasSuffix(name, "-leaky.log") {
				leak = b
			}
		}
		require.NotEmpty(t, leak, "the leaky step's log is in the bundle")
		assert.Contains(t, string(leak), "aws= lab= push=\n", "no credential of firedrill's environment or the scenario's is given to the step")
		var contexts []string
		for _, line := range strings.Split(string(leak), "\n") {
			if c, ok := strings.CutPrefix(line, "context: "); ok {
				contexts = append(contexts, c)
			}
		}
		assert.Equal(t, []string{"lab-scratch"}, contexts, "the step's kubeconfig holds the target's context alone")
		assert.NotContains(t, string(leak), "pwd="+dir, "the step does not run in the drill directory")
		for _, name := range []string{"velero/backup.json", "velero/restores.json", "report.json", "scenario.yaml",
			"protection.json", "restore.json", "checks.json", "retrospective.md", "index.json", "manifest.json", "manifest.sig"} {
			assert.Contains(t, files, id+"/"+name)
		}
		var idx struct {
			Controls []struct {
				ID        string `json:"id"`
				Supported bool   `json:"supported"`
			} `json:"controls"`
		}
		require.NoError(t, json.Unmarshal(files[id+"/index.json"], &idx))
		supported := map[string]bool{}
		for _, c := range idx.Controls {
			supported[c.ID] = c.Supported
		}
		for _, c := range []string{"ISO/IEC 27001:2022 A.8.13", "SOC 2 A1.3", "DORA Article 12", "NIS2 Article 21(2)(c)"} {
			assert.True(t, supported[c], c)
		}
	})

	sum := sha256.Sum256(bundle)
	objectKey := prefix + "/e2e-evidence/" + id + ".evidence.tar.gz"
	t.Run("pushed locked, read back with minio-go, delete refused", func(t *testing.T) {
		mc := primary.minioClient(t)
		info, err := mc.StatObject(ctx, evidenceBucket, objectKey, minio.StatObjectOptions{})
		require.NoError(t, err)
		assert.Equal(t, int64(len(bundle)), info.Size)
		var got bytes.Buffer
		obj, err := mc.GetObject(ctx, evidenceBucket, objectKey, minio.GetObjectOptions{VersionID: info.VersionID})
		require.NoError(t, err)
		_, err = io.Copy(&got, obj)
		require.NoError(t, err)
		assert.Equal(t, bundle, got.Bytes(), "the bucket holds the bundle's bytes")

		mode, until, err := mc.GetObjectRetention(ctx, evidenceBucket, objectKey, info.VersionID)
		require.NoError(t, err)
		require.NotNil(t, mode)
		assert.Equal(t, minio.Compliance, *mode)
		require.NotNil(t, until)
		assert.WithinDuration(t, start.Add(24*time.Hour), *until, 10*time.Minute)

		err = mc.RemoveObject(ctx, evidenceBucket, objectKey, minio.RemoveObjectOptions{VersionID: info.VersionID})
		require.Error(t, err, "a COMPLIANCE-locked version must not be deletable")
		_, err = mc.StatObject(ctx, evidenceBucket, objectKey, minio.StatObjectOptions{VersionID: info.VersionID})
		assert.NoError(t, err, "the version is still there")
	})

	t.Run("verify, export again to the same bytes, tamper", func(t *testing.T) {
		v := firedrill(t, ctx, nil, "evidence", "verify", filepath.Join(dir, "evidence.tar.gz"), "--public-key", pub)
		assert.Equal(t, 0, v.code, v.stdout+v.stderr)
		assert.Contains(t, v.stdout, "INTACT")

		out := filepath.Join(t.TempDir(), "again.tar.gz")
		ex := firedrill(t, ctx, env, "evidence", "export", id, "--state-dir", state, "--key", key, "-f", out)
		require.Equal(t, 0, ex.code, ex.stderr)
		again, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, bundle, again, "same drill, same bytes")

		tampered := retar(t, bundle, id+"/report.json", func(b []byte) []byte { return bytes.Replace(b, []byte(`"pass"`), []byte(`"PASS"`), 1) })
		bad := filepath.Join(t.TempDir(), "tampered.tar.gz")
		require.NoError(t, os.WriteFile(bad, tampered, 0o644))
		v = firedrill(t, ctx, nil, "evidence", "verify", bad, "--public-key", pub, "-o", "json")
		assert.Equal(t, 3, v.code, v.stdout+v.stderr)
		var ver struct {
			Problems []struct{ Kind, Path string }
		}
		require.NoError(t, json.Unmarshal([]byte(v.stdout), &ver))
		assert.Equal(t, []struct{ Kind, Path string }{{"changed", "report.json"}}, ver.Problems)
	})

	t.Run("an unlocked bucket is refused unless allowed", func(t *testing.T) {
		unlocked := os.Getenv("FIREDRILL_LAB_EVIDENCE_UNLOCKED_BUCKET")
		require.NotEmpty(t, unlocked)
		args := []string{"evidence", "export", id, "--state-dir", state, "--key", key, "-f", filepath.Join(t.TempDir(), "b.tar.gz"),
			"--push", "s3://" + unlocked + "/" + prefix, "--push-endpoint", primary.Endpoint, "--push-path-style"}
		ex := firedrill(t, ctx, env, args...)
		assert.Equal(t, 1, ex.code, ex.stdout+ex.stderr)
		assert.Contains(t, ex.stderr, "no object lock")
		assert.Contains(t, ex.stderr, "--allow-unlocked-bucket")
		mc := primary.minioClient(t)
		n := 0
		for o := range mc.ListObjects(ctx, unlocked, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			require.NoError(t, o.Err)
			n++
		}
		assert.Zero(t, n, "nothing written to the unlocked bucket")

		ex = firedrill(t, ctx, env, append(args, "--allow-unlocked-bucket")...)
		assert.Equal(t, 0, ex.code, ex.stdout+ex.stderr)
		assert.Contains(t, ex.stdout, "not locked")
		t.Cleanup(func() {
			for o := range mc.ListObjects(ctx, unlocked, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
				_ = mc.RemoveObject(ctx, unlocked, o.Key, minio.RemoveObjectOptions{})
			}
		})
	})

	t.Run("summary names the drill, its bundle and where it is kept", func(t *testing.T) {
		day := start.UTC().Format("2006-01-02")
		s := firedrill(t, ctx, nil, "evidence", "summary", "--state-dir", state, "--from", day, "--to", day, "-o", "csv")
		require.Equal(t, 0, s.code, s.stderr)
		rows, err := csv.NewReader(strings.NewReader(s.stdout)).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 2, s.stdout)
		row := map[string]string{}
		for i, h := range rows[0] {
			row[h] = rows[1][i]
		}
		assert.Equal(t, id, row["drill_id"])
		assert.Equal(t, "pass", row["result"])
		assert.Equal(t, "900", row["rto_objective_seconds"])
		assert.Contains(t, row["controls"], "SOC 2 A1.3")
		assert.Contains(t, row["pushed_to"], "s3://"+evidenceBucket+"/"+objectKey)
		// The summary shows the locked push, not the later unlocked one.
		assert.Equal(t, hex.EncodeToString(sum[:]), row["bundle_sha256"])

		s = firedrill(t, ctx, nil, "evidence", "summary", "--state-dir", state, "--to", "2020-01-01", "-o", "json")
		require.Equal(t, 0, s.code, s.stderr)
		assert.JSONEq(t, `{"schema": "firedrill.dev/evidence-summary/v1", "drills": []}`, s.stdout, "no drill before 2020")
	})

	t.Run("in-toto statement checked without firedrill, tampered envelope refused", func(t *testing.T) {
		pubPEM, err := os.ReadFile(pub)
		require.NoError(t, err)
		// The DSSE and in-toto libraries alone, each subject against the
		// file's bytes.
		st := evidencetest.VerifyInToto(t, bundle, pubPEM, "attestation.dsse.json")
		assert.Equal(t, "https://firedrill.dev/drill-result/v1", st.PredicateType)
		assert.Equal(t, id, st.Predicate["drill_id"])
		assert.Equal(t, "pass", st.Predicate["result"])
		assert.Equal(t, "met", st.Predicate["rto"].(map[string]any)["status"])
		assert.Contains(t, st.Predicate["controls_supported"], "SOC 2 A1.3")
		for _, name := range []string{"report.json", "index.json", "scenario.yaml", "restore.json", "velero/backup.json"} {
			assert.Contains(t, st.Subjects, name)
		}
		assert.NotContains(t, st.Subjects, "manifest.json")

		v := firedrill(t, ctx, nil, "evidence", "verify", filepath.Join(dir, "evidence.tar.gz"), "--public-key", pub)
		assert.Contains(t, v.stdout, "in-toto statement (attestation.dsse.json): its DSSE signature verifies")

		tampered := retar(t, bundle, id+"/attestation.dsse.json", func(b []byte) []byte {
			var env map[string]any
			require.NoError(t, json.Unmarshal(b, &env))
			payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
			require.NoError(t, err)
			env["payload"] = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(`"result":"pass"`), []byte(`"result":"fail"`), 1))
			out, err := json.Marshal(env)
			require.NoError(t, err)
			return out
		})
		bad := filepath.Join(t.TempDir(), "tampered.tar.gz")
		require.NoError(t, os.WriteFile(bad, tampered, 0o644))
		v = firedrill(t, ctx, nil, "evidence", "verify", bad, "--public-key", pub, "-o", "json")
		assert.Equal(t, 3, v.code, v.stdout+v.stderr)
		var ver struct {
			InToto   string `json:"in_toto"`
			Problems []struct{ Kind, Path string }
		}
		require.NoError(t, json.Unmarshal([]byte(v.stdout), &ver))
		assert.Equal(t, "invalid", ver.InToto)
		assert.Equal(t, []struct{ Kind, Path string }{{"changed", "attestation.dsse.json"}, {"signature", "attestation.dsse.json"}}, ver.Problems)
	})

	t.Run("OSCAL assessment results valid against NIST's schema", func(t *testing.T) {
		day := start.UTC().Format("2006-01-02")
		s := firedrill(t, ctx, nil, "evidence", "summary", "--state-dir", state, "--from", day, "--to", day, "-o", "oscal")
		require.Equal(t, 0, s.code, s.stderr)
		validateOSCAL(t, []byte(s.stdout))
		var doc struct {
			AR struct {
				Results []struct {
					Findings []struct {
						Target struct {
							TargetID string `json:"target-id"`
							Status   struct{ State string }
						}
					}
				}
				BackMatter struct {
					Resources []struct {
						RLinks []struct {
							Href   string
							Hashes []struct{ Algorithm, Value string }
						}
					}
				} `json:"back-matter"`
			} `json:"assessment-results"`
		}
		require.NoError(t, json.Unmarshal([]byte(s.stdout), &doc))
		require.Len(t, doc.AR.Results, 1)
		states := map[string]string{}
		for _, f := range doc.AR.Results[0].Findings {
			states[f.Target.TargetID] = f.Target.Status.State
		}
		assert.Equal(t, "satisfied", states["soc-2-a1.3"], "%v", states)
		require.Len(t, doc.AR.BackMatter.Resources, 2, "the plan and the bundle")
		rl := doc.AR.BackMatter.Resources[1].RLinks[0]
		assert.True(t, strings.HasPrefix(rl.Href, "s3://"+evidenceBucket+"/"+objectKey+"?versionId="), "the locked push's version: %s", rl.Href)
		assert.Equal(t, hex.EncodeToString(sum[:]), rl.Hashes[0].Value)

		out := filepath.Join(t.TempDir(), "ar.json")
		ex := firedrill(t, ctx, env, "evidence", "export", id, "--state-dir", state, "--key", key, "--format", "oscal", "-f", out)
		require.Equal(t, 0, ex.code, ex.stdout+ex.stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		validateOSCAL(t, b)
		assert.Contains(t, string(b), hex.EncodeToString(sum[:]), "the bundle kept again is the same bytes")
	})
}

// validateOSCAL validates an OSCAL document against NIST's OSCAL 1.2.2
// complete schema (drill/oscal/testdata).
func validateOSCAL(t *testing.T, doc []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "drill", "oscal", "testdata", "oscal_complete_schema-1.2.2.json"))
	require.NoError(t, err)
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("oscal.json", schemaDoc))
	sch, err := c.Compile("oscal.json")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(inst))
}

// retar rewrites a bundle with one file changed by edit, as someone
// altering the evidence would.
func retar(t *testing.T, b []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(evidencetest.Gunzip(t, b)))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	changed := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if h.Name == name {
			data, changed = edit(data), true
			h.Size = int64(len(data))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.True(t, changed, "no %s in the bundle", name)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// TestEvidence_ScenarioDefaultAndSharedHistory runs a drill the way a
// CronJob does: the evidence bucket comes from the scenario's
// spec.evidence.push, the key from $FIREDRILL_EVIDENCE_KEY, the record goes
// to a shared history, and the audit summary is read back from that
// history alone (an empty state directory).
func TestEvidence_ScenarioDefaultAndSharedHistory(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	primary := l.Stores["primary"]
	evidenceBucket := os.Getenv("FIREDRILL_LAB_EVIDENCE_BUCKET")
	prefix := "e2e-scenario-" + randomSuffix()
	file, _ := drillScenario(t, l, "e2e-evidence-default", "cleanup: {policy: always}",
		"cleanup: {policy: always}\n  evidence:\n    push:\n      endpoint: "+primary.Endpoint+"\n      bucket: "+evidenceBucket+
			"\n      prefix: "+prefix+"\n      pathStyle: true\n      retention: 1d\n"+
			"      credentials: {accessKeyIDEnv: FIREDRILL_LAB_PRIMARY_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_PRIMARY_SECRET_KEY}")

	plan := firedrill(t, ctx, nil, "plan", file)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, "upload the bundle to s3://"+evidenceBucket+"/"+prefix)

	// Without a key the drill does not start: the scenario asks for evidence.
	noKey := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", t.TempDir())
	assert.Equal(t, 1, noKey.code, noKey.stderr)
	assert.Contains(t, noKey.stderr, "spec.evidence.push")
	assert.NotContains(t, noKey.stderr, "[load]", "refused before the drill")

	keys := t.TempDir()
	require.Equal(t, 0, firedrill(t, ctx, nil, "evidence", "keygen", "--out-dir", keys).code)
	pem, err := os.ReadFile(filepath.Join(keys, "firedrill-evidence.key"))
	require.NoError(t, err)
	_, historyName := historyBucket(t, l)
	history := "s3://" + historyName + "/team"
	env := append(append(drillEnv(), historyEnv(l)...), "FIREDRILL_EVIDENCE_KEY="+string(pem))
	state := t.TempDir()
	res := firedrill(t, ctx, env, "run", file, "--state-dir", state, "--history", history, "--history-path-style", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stdout, "COMPLIANCE until")
	assert.NotContains(t, res.stdout+res.stderr, "PRIVATE KEY")

	// Exported again with the scenario's default: the same bytes are
	// already kept, locked, and are not pushed a second time.
	ids, err := os.ReadDir(filepath.Join(state, "drills"))
	require.NoError(t, err)
	require.Len(t, ids, 1)
	again := firedrill(t, ctx, env, "evidence", "export", ids[0].Name(), "--state-dir", state, "-f", filepath.Join(t.TempDir(), "b.tar.gz"))
	require.Equal(t, 0, again.code, again.stdout+again.stderr)
	assert.Contains(t, again.stdout, "COMPLIANCE until")
	mc := primary.minioClient(t)
	versions := 0
	for o := range mc.ListObjects(ctx, evidenceBucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true, WithVersions: true}) {
		require.NoError(t, o.Err)
		versions++
	}
	assert.Equal(t, 1, versions, "one locked version, however often the drill is exported")

	sum := firedrill(t, ctx, env, "evidence", "summary", "--state-dir", t.TempDir(), "--history", history, "--history-path-style", "-o", "json")
	require.Equal(t, 0, sum.code, sum.stderr)
	var doc struct {
		Drills []struct {
			Scenario    string     `json:"scenario"`
			Result      string     `json:"result"`
			Bundle      string     `json:"bundle_sha256"`
			PushedTo    string     `json:"pushed_to"`
			RetainUntil *time.Time `json:"retain_until"`
			Controls    []string   `json:"controls"`
		} `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(sum.stdout), &doc))
	rows := doc.Drills
	require.Len(t, rows, 1, sum.stdout)
	assert.Equal(t, "e2e-evidence-default", rows[0].Scenario)
	assert.Equal(t, "pass", rows[0].Result)
	assert.Len(t, rows[0].Bundle, 64)
	assert.Contains(t, rows[0].PushedTo, "s3://"+evidenceBucket+"/"+prefix+"/e2e-evidence-default/")
	require.NotNil(t, rows[0].RetainUntil)
	assert.Contains(t, rows[0].Controls, "DORA Article 11")

	// The pushed object is the bundle the summary names.
	key := strings.TrimPrefix(strings.SplitN(rows[0].PushedTo, "?", 2)[0], "s3://"+evidenceBucket+"/")
	obj, err := mc.GetObject(ctx, evidenceBucket, key, minio.GetObjectOptions{})
	require.NoError(t, err)
	b, err := io.ReadAll(obj)
	require.NoError(t, err)
	got := sha256.Sum256(b)
	assert.Equal(t, rows[0].Bundle, hex.EncodeToString(got[:]))
}
