package evidence

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// The in-toto statement of a bundle: an in-toto Statement v1
// (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
// in a DSSE envelope (https://github.com/secure-systems-lab/dsse), the
// form Sigstore's cosign and in-toto's tools read. Its subjects are the
// bundle's files (all but manifest.json, manifest.sig and the envelope
// itself) by SHA-256; its predicate is the drill's result (DrillResult).
// The envelope is signed with the bundle's Ed25519 key over DSSE's PAE
// encoding, its signature's keyid left empty (DSSE: an unauthenticated
// hint; verifiers try the key they are given).
const (
	// StatementName is the envelope's file in the bundle. The manifest
	// lists it like any other file.
	StatementName = "attestation.dsse.json"
	// PayloadType is the envelope's payloadType for an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateType names the predicate's shape, DrillResult.
	PredicateType = "https://firedrill.dev/drill-result/v1"
)

// DrillResult is the predicate of a bundle's in-toto statement
// (PredicateType): what the drill concluded, as the signer states it, with
// the keys and times of the drill's report.json.
//
//	{"drill_id": "fd-20261122-101500-ab12", "scenario": "region-loss",
//	 "result": "pass",                      // pass, fail, error, interrupted, died
//	 "started_at": "2026-11-22T10:15:00Z", "finished_at": "...",  // RFC 3339, UTC
//	 "firedrill_version": "v0.9.0",
//	 "rto": {"objective_seconds": 900, "measured_seconds": 412.5,
//	         "declared_manual_seconds": 300, "total_seconds": 712.5, "status": "met"},
//	 "rpo": {"objective_seconds": 3600, "measured_seconds": null, "total_seconds": null, "status": "not-measured"},
//	 "controls_supported": ["SOC 2 A1.3", ...],   // of index.json; [] when none
//	 "signed_by": "sha256:..."}                   // Fingerprint of the key
type DrillResult struct {
	DrillID           string       `json:"drill_id"`
	Scenario          string       `json:"scenario"`
	Result            string       `json:"result"`
	Started           time.Time    `json:"started_at"`
	Finished          time.Time    `json:"finished_at"`
	FiredrillVersion  string       `json:"firedrill_version"`
	RTO               *Measurement `json:"rto,omitempty"`
	RPO               *Measurement `json:"rpo,omitempty"`
	ControlsSupported []string     `json:"controls_supported"`
	SignedBy          string       `json:"signed_by"`
}

// Measurement is a recovery time or point against its objective, in
// seconds, as the README's "The RTO rule" judges it: TotalSeconds is the
// figure Status (met, missed or not-measured) is judged on, MeasuredSeconds
// plus DeclaredManualSeconds, the declared estimates of the runbook's
// manual steps nobody timed (RTO only; absent when none were declared).
// MeasuredSeconds and TotalSeconds are null when the drill could not
// measure it.
type Measurement struct {
	ObjectiveSeconds      float64  `json:"objective_seconds"`
	MeasuredSeconds       *float64 `json:"measured_seconds"`
	DeclaredManualSeconds *float64 `json:"declared_manual_seconds,omitempty"`
	TotalSeconds          *float64 `json:"total_seconds"`
	Status                string   `json:"status"`
}

// predicate is the bundle's DrillResult.
func (b Bundle) predicate(signedBy string) DrillResult {
	controls := []string{}
	if b.Index != nil {
		controls = append(controls, Supported(b.Index.Controls)...)
	}
	return DrillResult{
		DrillID: b.DrillID, Scenario: b.Scenario, Result: b.Result,
		Started: b.Started.UTC(), Finished: b.Finished.UTC(), FiredrillVersion: b.DrillVersion,
		RTO: b.RTO, RPO: b.RPO, ControlsSupported: controls, SignedBy: signedBy,
	}
}

// statement returns the DSSE envelope, as the bytes of its file, of the
// in-toto statement whose subjects are files (sorted by path, the bundle's
// own excluded) and whose predicate is p, signed with key. Equal input
// gives equal bytes: protojson's output is compacted (it varies its
// whitespace on purpose) and Ed25519 signatures are deterministic.
func statement(files []File, p DrillResult, key ed25519.PrivateKey) ([]byte, error) {
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType}
	for _, f := range files {
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: f.Path, Digest: map[string]string{"sha256": SHA256Hex(f.Data)}})
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode the drill result: %w", err)
	}
	var pm map[string]any
	if err := json.Unmarshal(pj, &pm); err != nil {
		return nil, fmt.Errorf("encode the drill result: %w", err)
	}
	if st.Predicate, err = structpb.NewStruct(pm); err != nil {
		return nil, fmt.Errorf("encode the drill result: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode the in-toto statement: %w", err)
	}
	var payload bytes.Buffer
	if err := json.Compact(&payload, raw); err != nil {
		return nil, fmt.Errorf("encode the in-toto statement: %w", err)
	}
	signer, err := dsse.NewEnvelopeSigner(ed25519Key{priv: key})
	if err != nil {
		return nil, err
	}
	env, err := signer.SignPayload(context.Background(), PayloadType, payload.Bytes())
	if err != nil {
		return nil, fmt.Errorf("sign the in-toto statement: %w", err)
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the DSSE envelope: %w", err)
	}
	return append(out, '\n'), nil
}

// ed25519Key is an Ed25519 key as DSSE signs and verifies with: over the
// PAE bytes themselves (Ed25519 hashes internally). priv is nil for a
// verifier.
type ed25519Key struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

var _ dsse.SignerVerifier = ed25519Key{}

func (k ed25519Key) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, data), nil
}

func (k ed25519Key) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(k.pub, data, sig) {
		return errors.New("ed25519: invalid signature")
	}
	return nil
}

// KeyID is empty: the envelope names no key, and a verifier tries its own.
func (k ed25519Key) KeyID() (string, error) { return "", nil }

func (k ed25519Key) Public() crypto.PublicKey { return k.pub }

// Values of Verification.InToto.
const (
	// InTotoVerified: the envelope's signature verifies with the key, the
	// statement names every file of the manifest with its SHA-256, and its
	// predicate is of the manifest's drill and result.
	InTotoVerified = "verified"
	// InTotoNone: the bundle has no envelope. Bundles of firedrill before
	// the statement was added have none; their manifest signature still
	// covers every file, so the bundle can be intact without it.
	InTotoNone = "none"
	// InTotoInvalid: the envelope is there and something about it is
	// wrong; Problems say what.
	InTotoInvalid = "invalid"
)

// checkStatement checks the envelope, when the bundle has one, after the
// manifest was read and checked (m is nil when it could not be).
func (x *verifier) checkStatement(pub ed25519.PublicKey, m *Manifest) {
	v := x.v
	if x.statement == nil {
		v.InToto = InTotoNone
		return
	}
	before := len(v.Problems)
	defer func() {
		if len(v.Problems) > before {
			v.InToto = InTotoInvalid
		} else {
			v.InToto = InTotoVerified
		}
	}()
	bad := func(kind, format string, args ...any) { x.problem(kind, StatementName, format, args...) }
	var env dsse.Envelope
	dec := json.NewDecoder(bytes.NewReader(x.statement))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		bad(Changed, "not a DSSE envelope: %v", err)
		return
	}
	if env.PayloadType != PayloadType {
		bad(Changed, "payloadType %q, want %q", env.PayloadType, PayloadType)
		return
	}
	ev, err := dsse.NewEnvelopeVerifier(ed25519Key{pub: pub})
	if err != nil {
		bad(Signature, "%v", err)
		return
	}
	_, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil {
		bad(Signature, "the DSSE signature of the in-toto statement does not verify with key %s: the statement was altered, or signed with another key", v.KeyFingerprint)
		return
	}
	st := &intoto.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		bad(Changed, "the signed payload is not an in-toto statement: %v", err)
		return
	}
	if err := st.Validate(); err != nil {
		bad(Changed, "the signed in-toto statement is not valid: %v", err)
		return
	}
	if st.GetType() != intoto.StatementTypeUri || st.GetPredicateType() != PredicateType {
		bad(Changed, "statement %q with predicate %q, want %q with %q", st.GetType(), st.GetPredicateType(), intoto.StatementTypeUri, PredicateType)
	}
	if m == nil {
		return
	}
	// Every file the manifest lists, but the envelope itself, is a subject
	// with the same SHA-256; nothing else is.
	want := map[string]string{}
	for _, f := range m.Files {
		if f.Path != StatementName {
			want[f.Path] = f.SHA256
		}
	}
	named := map[string]bool{}
	for _, s := range st.GetSubject() {
		sum, ok := want[s.GetName()]
		switch {
		case !ok:
			bad(Changed, "names subject %q, which the manifest does not list", s.GetName())
		case named[s.GetName()]:
			bad(Changed, "names subject %q twice", s.GetName())
		case s.GetDigest()["sha256"] != sum:
			bad(Changed, "subject %q has sha256 %s, the manifest says %s", s.GetName(), short(s.GetDigest()["sha256"]), short(sum))
		}
		named[s.GetName()] = true
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !named[p] {
			bad(Changed, "does not name %q, which the manifest lists", p)
		}
	}
	pred, err := st.GetPredicate().MarshalJSON()
	if err != nil {
		bad(Changed, "the predicate cannot be read: %v", err)
		return
	}
	var r DrillResult
	if err := json.Unmarshal(pred, &r); err != nil {
		bad(Changed, "the predicate is not a drill result: %v", err)
		return
	}
	if r.DrillID != m.DrillID || r.Result != m.Result {
		bad(Changed, "the predicate is of drill %q with result %q, the manifest of %q with %q", r.DrillID, r.Result, m.DrillID, m.Result)
	}
}
