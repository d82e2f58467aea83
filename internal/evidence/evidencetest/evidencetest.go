// Package evidencetest opens evidence bundles in tests.
package evidencetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
	"google.golang.org/protobuf/encoding/protojson"
)

// Gunzip is the bundle's tar stream, uncompressed.
func Gunzip(t testing.TB, bundle []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatalf("open bundle: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read bundle: %v", err)
	}
	return out
}

// Files are the bundle's entries by their name in the archive
// ("DRILL_ID/report.json").
func Files(t testing.TB, bundle []byte) map[string][]byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(Gunzip(t, bundle)))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("read bundle: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		files[h.Name] = data
	}
}

// InToto is a bundle's in-toto statement as a verifier outside firedrill
// sees it.
type InToto struct {
	// Subjects map each subject's name to its SHA-256, hex.
	Subjects map[string]string
	// PredicateType and Predicate are the statement's.
	PredicateType string
	Predicate     map[string]any
}

// VerifyInToto checks the in-toto statement of a bundle with the
// maintained DSSE and in-toto libraries and the standard library only,
// never with firedrill's own verifier: the DSSE envelope's signature with
// the PEM public key (PKIX Ed25519), the statement's validity, and every
// subject's SHA-256 against the bytes of the file it names. statementName
// is the envelope's file in the bundle, e.g. "attestation.dsse.json".
func VerifyInToto(t testing.TB, bundle, publicKeyPEM []byte, statementName string) *InToto {
	t.Helper()
	block, _ := pem.Decode(publicKeyPEM)
	if block == nil {
		t.Fatalf("the public key is not PEM")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("parse public key: %v", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("the public key is %T, want Ed25519", k)
	}
	sv, err := signerverifier.NewED25519SignerVerifierFromSSLibKey(&signerverifier.SSLibKey{
		KeyType: signerverifier.ED25519KeyType, Scheme: signerverifier.ED25519KeyType,
		KeyVal: signerverifier.KeyVal{Public: hex.EncodeToString(pub)},
	})
	if err != nil {
		t.Fatalf("DSSE verifier: %v", err)
	}
	// The bundle's files, by their path under the drill's directory.
	files := map[string][]byte{}
	for name, data := range Files(t, bundle) {
		_, rel, _ := strings.Cut(name, "/")
		files[rel] = data
	}
	raw, ok := files[statementName]
	if !ok {
		t.Fatalf("the bundle has no %s", statementName)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s is not a DSSE envelope: %v", statementName, err)
	}
	if env.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("payloadType %q", env.PayloadType)
	}
	ev, err := dsse.NewEnvelopeVerifier(sv)
	if err != nil {
		t.Fatalf("DSSE verifier: %v", err)
	}
	_, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil {
		t.Fatalf("the DSSE envelope does not verify: %v", err)
	}
	st := &intoto.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		t.Fatalf("the payload is not an in-toto statement: %v", err)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("invalid in-toto statement: %v", err)
	}
	if st.GetType() != intoto.StatementTypeUri {
		t.Fatalf("statement _type %q, want %q", st.GetType(), intoto.StatementTypeUri)
	}
	out := &InToto{Subjects: map[string]string{}, PredicateType: st.GetPredicateType(), Predicate: st.GetPredicate().AsMap()}
	for _, s := range st.GetSubject() {
		data, ok := files[s.GetName()]
		if !ok {
			t.Errorf("subject %q is not a file of the bundle", s.GetName())
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); s.GetDigest()["sha256"] != got {
			t.Errorf("subject %q: sha256 %s in the statement, %s in the bundle", s.GetName(), s.GetDigest()["sha256"], got)
		}
		out.Subjects[s.GetName()] = s.GetDigest()["sha256"]
	}
	return out
}
