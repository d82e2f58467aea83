package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
)

func publicPEM(t *testing.T, pub ed25519.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestStatement_VerifiesWithTheDSSELibrary checks a fresh bundle's
// statement as an auditor's tool would: with the DSSE and in-toto
// libraries alone (evidencetest.VerifyInToto), each subject against the
// file's bytes.
func TestStatement_VerifiesWithTheDSSELibrary(t *testing.T) {
	priv, pub := testKey(t)
	b := testBundle()
	rto, manual, total := 412.5, 300.0, 712.5
	b.RTO = &Measurement{ObjectiveSeconds: 900, MeasuredSeconds: &rto, DeclaredManualSeconds: &manual, TotalSeconds: &total, Status: "met"}
	b.Index.Controls = []ControlSupport{{ID: "SOC 2 A1.3", Supported: true}, {ID: "DORA Article 11"}}
	bundle := build(t, b, priv)

	got := evidencetest.VerifyInToto(t, bundle, publicPEM(t, pub), StatementName)
	assert.Equal(t, PredicateType, got.PredicateType)
	names := []string{}
	for n := range got.Subjects {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"index.json", "report.json", "runbook/01-check.log", "scenario.yaml"}, names,
		"every file but the manifest, its signature and the envelope")
	assert.Equal(t, map[string]any{
		"drill_id": "fd-20261122-101500-ab12", "scenario": "region-loss", "result": "pass",
		"started_at": "2026-11-22T10:15:00Z", "finished_at": "2026-11-22T10:31:07.0000005Z",
		"firedrill_version": "v1",
		"rto": map[string]any{"objective_seconds": 900.0, "measured_seconds": 412.5,
			"declared_manual_seconds": 300.0, "total_seconds": 712.5, "status": "met"},
		"controls_supported": []any{"SOC 2 A1.3"},
		"signed_by":          Fingerprint(pub),
	}, got.Predicate)

	// Another key's public half does not verify it: the check can fail.
	_, other := testKey(t)
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		evidencetest.VerifyInToto(ft, bundle, publicPEM(t, other), StatementName)
	}()
	assert.True(t, ft.failed, "another key must not verify the envelope")
}

// fatalT records a Fatalf instead of failing the test, and stops the
// check as Fatalf would.
type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fatalT) Errorf(string, ...any) { f.failed = true }
func (f *fatalT) Helper()               {}

// The envelope is the same bytes for the same drill: Write stays
// deterministic with it.
func TestStatement_Deterministic(t *testing.T) {
	priv, _ := testKey(t)
	a := entries(t, build(t, testBundle(), priv))
	b := entries(t, build(t, testBundle(), priv))
	require.Equal(t, a[2].Path, "fd-20261122-101500-ab12/"+StatementName)
	assert.Equal(t, string(a[2].Data), string(b[2].Data))
}

// Bundles of firedrill before the statement have none: they stay intact,
// and say so.
func TestVerify_BundleWithoutStatement(t *testing.T) {
	priv, pub := testKey(t)
	b := testBundle()
	// A bundle as firedrill wrote it before: rebuild the manifest without
	// the envelope and sign it.
	es := entries(t, build(t, b, priv))
	var m Manifest
	require.NoError(t, json.Unmarshal(es[0].Data, &m))
	m.Files = m.Files[1:] // attestation.dsse.json sorts first
	require.Equal(t, "index.json", m.Files[0].Path)
	mj, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	mj = append(mj, '\n')
	es[0].Data, es[1].Data = mj, ed25519.Sign(priv, mj)
	es = append(es[:2], es[3:]...)

	v := verify(t, repack(t, es), pub)
	assert.True(t, v.Intact(), "%+v", v.Problems)
	assert.Equal(t, InTotoNone, v.InToto)
	assert.Equal(t, 4, v.Files)
}

// resign replaces the envelope in es with env and rewrites and re-signs
// the manifest with key, as someone holding the key could: only the
// envelope's own checks can then find what is wrong with it.
func resign(t *testing.T, es []File, env []byte, key ed25519.PrivateKey) []File {
	t.Helper()
	es[2].Data = env
	var m Manifest
	require.NoError(t, json.Unmarshal(es[0].Data, &m))
	m.Files[0] = ManifestFile{Path: StatementName, SHA256: SHA256Hex(env), Size: int64(len(env))}
	mj, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	mj = append(mj, '\n')
	es[0].Data, es[1].Data = mj, ed25519.Sign(key, mj)
	return es
}

func TestVerify_TamperedStatement(t *testing.T) {
	priv, pub := testKey(t)
	otherPriv, _ := testKey(t)
	bundle := build(t, testBundle(), priv)
	env := func(t *testing.T) map[string]any {
		var e map[string]any
		require.NoError(t, json.Unmarshal(entries(t, bundle)[2].Data, &e))
		return e
	}
	encode := func(t *testing.T, e map[string]any) []byte {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		return b
	}
	payload := func(t *testing.T) []byte {
		p, err := base64.StdEncoding.DecodeString(env(t)["payload"].(string))
		require.NoError(t, err)
		return p
	}
	statementOf := func(t *testing.T, p []byte) []byte {
		e := env(t)
		e["payload"] = base64.StdEncoding.EncodeToString(p)
		return encode(t, e)
	}

	tests := []struct {
		name string
		es   func(t *testing.T) []File
		want []kindPath
	}{
		{"payload changed, manifest left", func(t *testing.T) []File {
			es := entries(t, bundle)
			es[2].Data = statementOf(t, bytes.Replace(payload(t), []byte(`"result":"pass"`), []byte(`"result":"fail"`), 1))
			return es
		}, []kindPath{{Changed, StatementName}, {Signature, StatementName}}},
		{"payload changed, manifest re-signed", func(t *testing.T) []File {
			p := bytes.Replace(payload(t), []byte(`"result":"pass"`), []byte(`"result":"fail"`), 1)
			return resign(t, entries(t, bundle), statementOf(t, p), priv)
		}, []kindPath{{Signature, StatementName}}},
		{"signature of another key", func(t *testing.T) []File {
			var buf bytes.Buffer
			_, err := write(&buf, testBundle(), priv, otherPriv)
			require.NoError(t, err)
			return entries(t, buf.Bytes())
		}, []kindPath{{Signature, StatementName}}},
		{"signature removed", func(t *testing.T) []File {
			e := env(t)
			e["signatures"] = []any{}
			return resign(t, entries(t, bundle), encode(t, e), priv)
		}, []kindPath{{Signature, StatementName}}},
		{"not JSON", func(t *testing.T) []File {
			return resign(t, entries(t, bundle), []byte("{"), priv)
		}, []kindPath{{Changed, StatementName}}},
		{"other payload type", func(t *testing.T) []File {
			e := env(t)
			e["payloadType"] = "text/plain"
			return resign(t, entries(t, bundle), encode(t, e), priv)
		}, []kindPath{{Changed, StatementName}}},
		{"signed with the key, a subject's digest wrong", func(t *testing.T) []File {
			b := testBundle()
			files := append(b.Files, File{Path: IndexName, Data: entries(t, bundle)[3].Data})
			files = sortedFiles(files)
			files[2].Data = []byte("not what the bundle holds")
			st, err := statement(files, b.predicate(Fingerprint(pub)), priv)
			require.NoError(t, err)
			return resign(t, entries(t, bundle), st, priv)
		}, []kindPath{{Changed, StatementName}}},
		{"signed with the key, a file left out and another named", func(t *testing.T) []File {
			b := testBundle()
			files := sortedFiles(append(b.Files, File{Path: IndexName, Data: entries(t, bundle)[3].Data}))
			files[0].Path = "elsewhere.json"
			st, err := statement(files, b.predicate(Fingerprint(pub)), priv)
			require.NoError(t, err)
			return resign(t, entries(t, bundle), st, priv)
		}, []kindPath{{Changed, StatementName}, {Changed, StatementName}}},
		{"signed with the key, of another drill's result", func(t *testing.T) []File {
			b := testBundle()
			files := sortedFiles(append(b.Files, File{Path: IndexName, Data: entries(t, bundle)[3].Data}))
			b.Result = "fail"
			st, err := statement(files, b.predicate(Fingerprint(pub)), priv)
			require.NoError(t, err)
			return resign(t, entries(t, bundle), st, priv)
		}, []kindPath{{Changed, StatementName}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verify(t, repack(t, tt.es(t)), pub)
			assert.Equal(t, tt.want, kindPaths(v.Problems), "%+v", v.Problems)
			assert.False(t, v.Intact())
			assert.Equal(t, InTotoInvalid, v.InToto)
			for _, p := range v.Problems {
				assert.NotContains(t, strings.ToLower(p.Detail), "panic")
			}
		})
	}
}

func sortedFiles(fs []File) []File {
	out := slices.Clone(fs)
	slices.SortFunc(out, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	return out
}
