package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Key file names `firedrill evidence keygen` writes.
const (
	PrivateKeyFile = "firedrill-evidence.key"
	PublicKeyFile  = "firedrill-evidence.pub"
)

// GenerateKey returns a new Ed25519 key pair, PEM-encoded as PKCS #8
// ("PRIVATE KEY") and PKIX ("PUBLIC KEY"), the forms openssl reads.
func GenerateKey() (privatePEM, publicPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// WriteKeyPair writes a new key pair into dir as PrivateKeyFile (mode
// 0600) and PublicKeyFile (0644). It never overwrites: when either file
// exists it returns an error wrapping fs.ErrExist and writes nothing.
// A missing dir is made with its parents, mode 0700 (like mkdir -p, so
// ~/.config/firedrill works on a fresh machine); an existing directory
// keeps its mode.
func WriteKeyPair(dir string) (privatePath, publicPath string, err error) {
	privatePath, publicPath = filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privatePath, publicPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s: %w (firedrill never overwrites a key)", p, os.ErrExist)
		}
	}
	priv, pub, err := GenerateKey()
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create key directory: %w", err)
	}
	if err := writeNew(privatePath, priv, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(publicPath, pub, 0o644); err != nil {
		_ = os.Remove(privatePath)
		return "", "", err
	}
	return privatePath, publicPath, nil
}

// writeNew creates path exclusively (O_EXCL), so a race never overwrites.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ParsePrivateKey reads a PEM "PRIVATE KEY" (PKCS #8) holding an Ed25519
// key. Errors never include the key's bytes.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" (make one with 'firedrill evidence keygen')")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the PEM block is not a PKCS #8 private key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T, want Ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" (PKIX) holding an Ed25519 key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM \"PUBLIC KEY\" (the .pub file 'firedrill evidence keygen' writes)")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the PEM block is not a public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the public key is %T, want Ed25519", k)
	}
	return pub, nil
}

// Fingerprint names a public key in manifests and messages:
// "sha256:" and the hex SHA-256 of the raw 32-byte key.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}
