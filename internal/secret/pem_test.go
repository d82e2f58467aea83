package secret

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client key's PEM lines are secrets, but a line that holds only its
// public key is also a line of the certificate: masking it corrupted the
// public certificate a step printed from its kubeconfig (found by a
// review). Every key type a kubeconfig holds: the certificate is printed
// whole, every private line of the key is masked.
func TestAddPEM_CertificateOfTheKeyStaysWhole(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecSEC1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	ecPKCS8, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		key     any
		pub     any
		der     []byte
		kind    string
		private [][]byte
	}{
		"EC SEC 1":  {ec, &ec.PublicKey, ecSEC1, "EC PRIVATE KEY", [][]byte{ec.D.Bytes()}},
		"EC PKCS 8": {ec, &ec.PublicKey, ecPKCS8, "PRIVATE KEY", [][]byte{ec.D.Bytes()}},
		"RSA": {rs, &rs.PublicKey, x509.MarshalPKCS1PrivateKey(rs), "RSA PRIVATE KEY",
			[][]byte{rs.D.Bytes(), rs.Primes[0].Bytes(), rs.Primes[1].Bytes()}},
	} {
		t.Run(name, func(t *testing.T) {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin"},
				NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
			certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, tc.pub, tc.key)
			require.NoError(t, err)
			cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
			key := string(pem.EncodeToMemory(&pem.Block{Type: tc.kind, Bytes: tc.der}))

			s := New()
			s.AddPEM(key)
			assert.Equal(t, cert, s.String(cert), "the certificate is public")
			assert.Equal(t, Mask, s.String(strings.TrimSpace(key)), "the key whole")
			// Printed line by line, what survives holds nothing private: no
			// 8-byte run of the private scalar or primes.
			var kept []byte
			for _, l := range strings.Split(strings.TrimSpace(key), "\n") {
				if out := s.String(l); out != Mask && !strings.HasPrefix(l, "-----") {
					b, err := base64.StdEncoding.DecodeString(out)
					require.NoError(t, err)
					kept = append(kept, b...)
				}
			}
			// A line of public bytes alone (the EC point, the RSA
			// modulus) is printed as it is: it is the certificate's too.
			point := publicBytes(t, tc.pub)
			public := 0
			for _, l := range strings.Split(strings.TrimSpace(key), "\n") {
				if b, err := base64.StdEncoding.DecodeString(l); err == nil && len(b) > 0 && bytes.Contains(point, b) {
					public++
					assert.Equal(t, l, s.String(l), "a line of public key bytes only")
				}
			}
			assert.Positive(t, public, "the key has lines of public bytes only")
			for _, p := range tc.private {
				for i := 0; i+8 <= len(p); i++ {
					require.False(t, bytes.Contains(kept, p[i:i+8]), "a line holding private bytes was kept")
				}
			}
		})
	}
}

// publicBytes is the raw public key: the EC point, or the RSA modulus.
func publicBytes(t *testing.T, pub any) []byte {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		k, err := p.ECDH()
		require.NoError(t, err)
		return k.Bytes()
	case *rsa.PublicKey:
		return p.N.Bytes()
	}
	t.Fatalf("no public bytes for %T", pub)
	return nil
}
