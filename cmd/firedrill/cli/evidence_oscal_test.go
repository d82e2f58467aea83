package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// oscalDoc is the part of an assessment-results document the tests read;
// drill/oscal validates the whole against NIST's schema.
type oscalDoc struct {
	AR struct {
		Metadata struct {
			Title        string `json:"title"`
			OSCALVersion string `json:"oscal-version"`
		} `json:"metadata"`
		Results []struct {
			Title        string `json:"title"`
			Observations []struct {
				RelevantEvidence []struct {
					Href string `json:"href"`
				} `json:"relevant-evidence"`
			} `json:"observations"`
			Findings []struct {
				Target struct {
					Status struct {
						State string `json:"state"`
					} `json:"status"`
				} `json:"target"`
			} `json:"findings"`
		} `json:"results"`
		BackMatter struct {
			Resources []struct {
				UUID   string `json:"uuid"`
				RLinks []struct {
					Href   string `json:"href"`
					Hashes []struct {
						Algorithm string `json:"algorithm"`
						Value     string `json:"value"`
					} `json:"hashes"`
				} `json:"rlinks"`
			} `json:"resources"`
		} `json:"back-matter"`
	} `json:"assessment-results"`
}

func TestEvidence_OSCAL(t *testing.T) {
	ctx := context.Background()
	state := writeHistory(t)
	key, pub := keyPair(t)
	const id = "fd-20261103-090000-cccc"
	env := map[string]string{"FIREDRILL_STATE_DIR": state}
	d, err := drill.OpenDir(state, id)
	require.NoError(t, err)
	rep, err := d.ReadReport()
	require.NoError(t, err)
	rep.FinishedAt = rep.StartedAt.Add(20 * time.Minute)
	rep.Findings = []finding.Finding{
		finding.Pass("protection.bucket.object-lock", "s3://velero-backups", "Object Lock is on."),
		finding.Fail("objective.rto", finding.SeverityFail, "region-loss", "The RTO was missed."),
	}
	require.NoError(t, d.WriteReport(rep))

	res := run(t, ctx, env, "evidence", "export", id, "--key", key, "--format", "oscal")
	require.Equal(t, ExitOK, res.code, res.String())
	var doc oscalDoc
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc), res.stdout)
	assert.Equal(t, "1.2.2", doc.AR.Metadata.OSCALVersion)
	require.Len(t, doc.AR.Results, 1)
	assert.Contains(t, doc.AR.Results[0].Title, id)
	require.Len(t, doc.AR.Results[0].Observations, 2, "one per check")
	for _, f := range doc.AR.Results[0].Findings {
		assert.Equal(t, "not-satisfied", f.Target.Status.State, "the drill failed: it supports no control")
	}

	// The evidence the observations point at is the bundle kept in the
	// drill's directory, by its SHA-256.
	var kept []drill.EvidenceRecord
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "evidence.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &kept))
	require.Len(t, kept, 1)
	href := doc.AR.Results[0].Observations[0].RelevantEvidence[0].Href
	var sums []string
	for _, r := range doc.AR.BackMatter.Resources {
		if "#"+r.UUID == href {
			sums = append(sums, r.RLinks[0].Hashes[0].Value)
			assert.Equal(t, "SHA-256", r.RLinks[0].Hashes[0].Algorithm)
			// The link names the file export wrote, relative to the
			// state directory: the drill's own directory, next to
			// report.json.
			assert.Equal(t, "drills/"+id+"/evidence.tar.gz", r.RLinks[0].Href)
			assert.FileExists(t, filepath.Join(state, filepath.FromSlash(r.RLinks[0].Href)))
		}
	}
	assert.Equal(t, []string{kept[0].SHA256}, sums)
	res = run(t, ctx, nil, "evidence", "verify", filepath.Join(state, "drills", id, "evidence.tar.gz"), "--public-key", pub)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "in-toto statement (attestation.dsse.json): its DSSE signature verifies")

	// Again to a file: the same document, the same bytes.
	out := filepath.Join(t.TempDir(), "ar.json")
	res = run(t, ctx, env, "evidence", "export", id, "--key", key, "--format", "oscal", "-f", out)
	require.Equal(t, ExitOK, res.code, res.String())
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.JSONEq(t, string(mustJSON(t, doc)), string(mustJSON(t, unmarshalOSCAL(t, again))))

	// A period: one result per drill, the exported one with its bundle.
	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-01", "--to", "2026-11-03", "-o", "oscal")
	require.Equal(t, ExitOK, res.code, res.String())
	period := unmarshalOSCAL(t, []byte(res.stdout))
	require.Len(t, period.AR.Results, 3)
	assert.Equal(t, "firedrill disaster-recovery drills from 2026-11-01 to 2026-11-03", period.AR.Metadata.Title, "the period as given")
	assert.Contains(t, period.AR.Results[2].Title, id, "oldest first")
	assert.Len(t, period.AR.BackMatter.Resources, 2, "the plan and the one bundle exported")

	res = run(t, ctx, env, "evidence", "summary", "--from", "2020-01-01", "--to", "2020-01-02", "-o", "oscal")
	assert.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "Error: no drills in the period from 2020-01-01 to 2020-01-02, and an OSCAL assessment-results document needs at least one drill to report\n")
	assert.Contains(t, res.stderr, "Hint: widen --from/--to")
	// -f: the document in a file, a period without drills writes none.
	out = filepath.Join(t.TempDir(), "period.json")
	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-01", "--to", "2026-11-03", "-o", "oscal", "-f", out)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, "Summary of 3 drills (-o oscal): "+out+"\n", res.stdout)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Len(t, unmarshalOSCAL(t, written).AR.Results, 3)
	res = run(t, ctx, env, "evidence", "summary", "--from", "2020-01-01", "--to", "2020-01-02", "-o", "oscal", "-f", out+".none")
	assert.Equal(t, ExitError, res.code, res.String())
	assert.NoFileExists(t, out+".none")
	// The exit codes of evidence summary --help: a period without drills
	// is no error for the other formats.
	res = run(t, ctx, env, "evidence", "summary", "--from", "2020-01-01", "--to", "2020-01-02", "-o", "json")
	assert.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, `"drills": []`)

	// Two drills exported: each bundle's link is its own, and names the
	// file export wrote, with the SHA-256 of that file.
	const second = "fd-20261101-090000-aaaa"
	res = run(t, ctx, env, "evidence", "export", second, "--key", key)
	require.Equal(t, ExitOK, res.code, res.String())
	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-01", "--to", "2026-11-03", "-o", "oscal")
	require.Equal(t, ExitOK, res.code, res.String())
	links := map[string]string{}
	for _, r := range unmarshalOSCAL(t, []byte(res.stdout)).AR.BackMatter.Resources {
		if len(r.RLinks) > 0 {
			links[r.RLinks[0].Href] = r.RLinks[0].Hashes[0].Value
		}
	}
	require.Len(t, links, 2, "two bundles, two links: %v", links)
	for _, drillID := range []string{id, second} {
		href := "drills/" + drillID + "/evidence.tar.gz"
		require.Contains(t, links, href)
		b, err := os.ReadFile(filepath.Join(state, filepath.FromSlash(href)))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("%x", sha256.Sum256(b)), links[href], "the link's hash is the file's")
	}

	res = run(t, ctx, env, "evidence", "export", id, "--key", key, "--format", "pdf")
	assert.Equal(t, ExitUsage, res.code, res.String())
	res = run(t, ctx, env, "evidence", "export", id, "--key", key, "--format", "oscal", "-o", "json")
	assert.Equal(t, ExitUsage, res.code, res.String())
}

func unmarshalOSCAL(t *testing.T, b []byte) oscalDoc {
	t.Helper()
	var d oscalDoc
	require.NoError(t, json.Unmarshal(b, &d), string(b))
	return d
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// evidence --help and the README's Auditors section name every framework
// whose controls the built-in mapping holds (each framework's control ids
// start with its Cadence's ControlPrefix).
func TestEvidenceHelp_NamesEveryMappedFramework(t *testing.T) {
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	res := run(t, context.Background(), nil, "evidence", "--help")
	require.Equal(t, ExitOK, res.code, res.String())
	help := strings.Join(strings.Fields(res.stdout), " ")
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	_, auditors, ok := strings.Cut(string(readme), "\n## Auditors\n")
	require.True(t, ok, "README has an Auditors section")
	intro, _, _ := strings.Cut(auditors, "\n\n")
	intro = strings.Join(strings.Fields(intro), " ")
	for _, c := range drill.Cadences {
		name := strings.TrimSpace(c.ControlPrefix)
		require.True(t, slices.ContainsFunc(m.Controls, func(x evidence.Control) bool { return strings.HasPrefix(x.ID, c.ControlPrefix) }),
			"the mapping has controls of %s", name)
		assert.Contains(t, help, name, "evidence --help")
		assert.Contains(t, intro, name, "README, Auditors")
	}
}

// TestBundleHref: the URL a bundle was pushed to, else the name of the
// file export wrote with -f, never a local directory; empty (the oscal
// default, drill.EvidenceBundlePath: drills/ID/evidence.tar.gz in the
// state directory) for the file export writes without -f, or when it
// wrote to standard output.
func TestBundleHref(t *testing.T) {
	assert.Equal(t, "https://s3.example/ev/x.evidence.tar.gz", bundleHref(&evidence.Pushed{URL: "https://s3.example/ev/x.evidence.tar.gz"}, "/state/drills/x/evidence.tar.gz"))
	assert.Equal(t, "", bundleHref(nil, "/state/drills/x/evidence.tar.gz"))
	assert.Equal(t, "", bundleHref(nil, "/home/ci/.local/share/firedrill/drills/fd-1/evidence.tar.gz"))
	assert.Equal(t, "evidence.tar.gz", bundleHref(nil, "/tmp/out/evidence.tar.gz"), "-f names it so")
	assert.Equal(t, "bundle.tar.gz", bundleHref(nil, "/tmp/out/bundle.tar.gz"))
	assert.Equal(t, "", bundleHref(nil, "-"))
	assert.Equal(t, "", bundleHref(nil, ""))
}
