package evidence

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinMappingNamesTheControlsAuditorsAsk(t *testing.T) {
	m, err := BuiltinMapping()
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, c := range m.Controls {
		ids[c.ID] = true
	}
	for _, want := range []string{
		"ISO/IEC 27001:2022 A.5.29", "ISO/IEC 27001:2022 A.5.30", "ISO/IEC 27001:2022 A.8.13",
		"SOC 2 A1.2", "SOC 2 A1.3", "DORA Article 11", "DORA Article 12", "NIS2 Article 21(2)(c)",
		"PCI DSS v4.0 12.10.2", "HIPAA 45 CFR 164.308(a)(7)(ii)(D)",
	} {
		assert.True(t, ids[want], want)
	}
}

// proofs are the mapping's proofs, those named holding, the others not,
// each with a reason.
func proofs(m *Mapping, holding ...string) []Proof {
	var out []Proof
	for id := range m.Proofs {
		p := Proof{ID: id, Holds: slices.Contains(holding, id)}
		if !p.Holds {
			p.Why = "why " + id
		}
		out = append(out, p)
	}
	return out
}

func byID(t *testing.T, cs []ControlSupport, id string) ControlSupport {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no control %s", id)
	return ControlSupport{}
}

func TestSupport(t *testing.T) {
	m, err := BuiltinMapping()
	require.NoError(t, err)

	// Immutable backups alone: backup processes (A1.2), nothing about
	// testing recovery, which needs a restore.
	cs := m.Support(proofs(m, "backups-immutable"), "")
	assert.Equal(t, []string{"SOC 2 A1.2"}, Supported(cs))
	a813 := byID(t, cs, "ISO/IEC 27001:2022 A.8.13")
	assert.False(t, a813.Supported)
	assert.Equal(t, []string{"backups-immutable"}, a813.By)
	assert.Equal(t, []string{"offsite-copies-verified", "restore-tested", "retention-window-verified"}, a813.Missing)
	assert.Equal(t, []string{"restore-tested"}, a813.MissingRequired)
	assert.Equal(t, "required proof not shown: restore-tested (why restore-tested)", a813.Why)
	assert.Empty(t, byID(t, cs, "SOC 2 A1.2").Why)

	// A drill that failed its protection checks and never restored, but
	// ended with a retrospective: no control about testing recovery.
	assert.Empty(t, Supported(m.Support(proofs(m, "lessons-learned", "rpo-measured"), "")))

	cs = m.Support(proofs(m, "restore-tested", "backups-immutable"), "")
	sup := Supported(cs)
	assert.Contains(t, sup, "ISO/IEC 27001:2022 A.8.13")
	assert.Contains(t, sup, "SOC 2 A1.3")
	assert.Len(t, sup, 10, "every control: each requires only restore-tested or backups-immutable")
	assert.Empty(t, Supported(m.Support(nil, "")))
	assert.Equal(t, "required proof not shown: restore-tested (not decided for this drill)",
		byID(t, m.Support(nil, ""), "DORA Article 11").Why)
}

// TestSupport_RetentionWindow: the recovery window check supports the
// controls that ask for backup retention (ISO/IEC 27001 A.8.13, SOC 2 A1.2,
// DORA Article 12, NIS2 Article 21(2)(c)) and none about testing recovery,
// and it never stands in for a restore those controls require.
func TestSupport_RetentionWindow(t *testing.T) {
	m, err := BuiltinMapping()
	require.NoError(t, err)
	require.Contains(t, m.Proofs, "retention-window-verified")
	assert.Contains(t, m.Proofs["retention-window-verified"], "objectives.retention")

	var asking []string
	for _, c := range m.Controls {
		if slices.Contains(c.Proofs, "retention-window-verified") {
			asking = append(asking, c.ID)
		}
	}
	assert.Equal(t, []string{"ISO/IEC 27001:2022 A.8.13", "SOC 2 A1.2", "DORA Article 12", "NIS2 Article 21(2)(c)"}, asking)

	// The window alone: no control whose required proof is a restore.
	cs := m.Support(proofs(m, "retention-window-verified"), "")
	assert.Empty(t, Supported(cs))
	assert.Equal(t, []string{"retention-window-verified"}, byID(t, cs, "DORA Article 12").By)
	// With a restore, the window is among the proofs that support them.
	cs = m.Support(proofs(m, "restore-tested", "retention-window-verified"), "")
	a813 := byID(t, cs, "ISO/IEC 27001:2022 A.8.13")
	assert.True(t, a813.Supported)
	assert.Equal(t, []string{"restore-tested", "retention-window-verified"}, a813.By)
	assert.NotContains(t, byID(t, cs, "SOC 2 A1.3").By, "retention-window-verified", "A1.3 (testing recovery) does not count the window")
}

// A drill that did not pass supports no control, whatever its proofs: the
// restore passing is not enough (issue 14, item 10).
func TestSupport_OnlyADrillThatPassed(t *testing.T) {
	m, err := BuiltinMapping()
	require.NoError(t, err)
	var all []string
	for id := range m.Proofs {
		all = append(all, id)
	}
	for _, fault := range []string{"the drill failed", "the drill ended in error", "the drill was interrupted", "the drill has no result (still running, or its process died)"} {
		cs := m.Support(proofs(m, all...), fault)
		assert.Empty(t, Supported(cs), fault)
		for _, c := range cs {
			assert.Equal(t, fault+": only a drill that passed supports a control", c.Why)
			assert.NotEmpty(t, c.By, "the proofs still say what held")
		}
	}
	assert.Len(t, Supported(m.Support(proofs(m, all...), "")), len(m.Controls))
}

func TestLoadMappingExtends(t *testing.T) {
	dir := t.TempDir()
	ext := filepath.Join(dir, "ours.yaml")
	require.NoError(t, os.WriteFile(ext, []byte(`apiVersion: firedrill.dev/v1alpha1
kind: ControlMapping
controls:
  - id: "BSI C5 BCM-04"
    title: Verification of business continuity
    proofs: [restore-tested, runbook-exercised]
  - id: "SOC 2 A1.2"
    title: Ours
    proofs: [offsite-copies-verified]
`), 0o644))
	m, err := LoadMapping(ext)
	require.NoError(t, err)
	byID := map[string]Control{}
	for _, c := range m.Controls {
		byID[c.ID] = c
	}
	assert.Equal(t, []string{"restore-tested", "runbook-exercised"}, byID["BSI C5 BCM-04"].Proofs)
	assert.Equal(t, "Ours", byID["SOC 2 A1.2"].Title, "same id replaces")
	assert.Contains(t, byID, "DORA Article 12", "built-in controls stay")
}

func TestLoadMappingErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`apiVersion: firedrill.dev/v1alpha1
kind: ControlMapping
proofs:
  mine: my own
controls:
  - id: X
    title: x
    proofs: [restore-tested]
  - id: Y
    title: y
    proofs: [restore-tsted]
`), 0o644))
	_, err := LoadMapping(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+":3: proofs: only firedrill defines proofs")
	assert.Contains(t, err.Error(), bad+`:9: controls[1].proofs: unknown proof "restore-tsted"`)
	assert.NotContains(t, err.Error(), ":6:", "the valid control is not blamed")

	_, err = LoadMapping(filepath.Join(dir, "missing.yaml"))
	assert.ErrorContains(t, err, "missing.yaml")
}
