package secret

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret value.
const Mask = "[redacted]"

// MinLen is the shortest credential a Set redacts, in bytes: replacing
// shorter values would mangle ordinary output (a 3-letter value would hit
// every word that holds it), and a credential that short protects nothing.
const MinLen = 4

// MinDataLen is the shortest value of a restored Secret a Set redacts, in
// bytes. A Secret may hold ordinary words (a user name "shop" that is also
// the namespace's name): replacing those everywhere would mangle the
// record. Secret objects themselves never carry values in the record;
// this only bounds the search for leaks elsewhere.
const MinDataLen = 8

// minEncodedLen is the shortest encoded form (base64) replaced: shorter
// fragments are as likely to be ordinary text.
const minEncodedLen = 6

// Set is every secret a drill holds. The zero value and nil are empty
// sets: a nil *Set redacts nothing. Its methods are safe for concurrent
// use; values are only ever added, so output redacted early may miss a
// value learned later (the drill rescrubs its directory once it has read
// the restored Secrets).
type Set struct {
	mu     sync.RWMutex
	values map[string]struct{}
	// patterns are every form of every value, longest first; nil after
	// an Add until the next Redact rebuilds them.
	patterns [][]byte
}

// New returns a Set holding the credentials values (see Add).
func New(values ...string) *Set {
	s := &Set{}
	s.Add(values...)
	return s
}

// Add adds credential values: those shorter than MinLen bytes are
// ignored, as are surrounding blanks (a value read from a file ends in a
// newline).
func (s *Set) Add(values ...string) {
	s.add(MinLen, values)
}

// AddData adds values of restored Secrets: those shorter than MinDataLen
// bytes are ignored.
func (s *Set) AddData(values ...string) {
	s.add(MinDataLen, values)
}

// AddPEM adds a PEM text (a private key): the whole text and each line of
// it, so a step that prints the key file line by line leaks no line. A
// line that holds only public key material (an EC key's public point, an
// RSA key's modulus, all of which its certificate carries too) is left
// out: masking it would corrupt the public certificate wherever it is
// printed, and it reveals nothing.
func (s *Set) AddPEM(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	s.Add(text)
	public := publicParts(text)
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "-----") {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(l); err == nil && len(b) > 0 &&
			slices.ContainsFunc(public, func(p []byte) bool { return bytes.Contains(p, b) }) {
			continue
		}
		s.Add(l)
	}
}

// publicParts are the public forms of the private key in a PEM text (PKCS
// #8, SEC 1 or PKCS #1): its PKIX encoding and its raw public bytes. None
// when the text holds no key Go can parse.
func publicParts(text string) [][]byte {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil
	}
	var pub crypto.PublicKey
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if signer, ok := k.(crypto.Signer); ok {
			pub = signer.Public()
		}
	} else if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		pub = k.Public()
	} else if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		pub = k.Public()
	}
	if pub == nil {
		return nil
	}
	var out [][]byte
	if der, err := x509.MarshalPKIXPublicKey(pub); err == nil {
		out = append(out, der)
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		out = append(out, p.N.Bytes())
	case *ecdsa.PublicKey:
		if k, err := p.ECDH(); err == nil {
			out = append(out, k.Bytes())
		}
	case ed25519.PublicKey:
		out = append(out, p)
	}
	return out
}

// AddURL adds the secret parts of a URL that may carry a token (a webhook,
// a Pushgateway): the password of its userinfo, its path (a Slack
// webhook's token is its path), its query and each query value, and the
// URL itself when it has any of them. Its scheme and host stay printable.
// Text that is not a URL is added whole.
func (s *Set) AddURL(raw string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		s.Add(raw)
		return
	}
	if _, ok := u.User.Password(); ok || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		s.Add(raw)
	}
	if p, ok := u.User.Password(); ok {
		s.Add(p, u.User.String())
	}
	if path := strings.Trim(u.EscapedPath(), "/"); path != "" {
		s.Add(path, u.EscapedPath())
		if strings.Contains(path, "/") {
			// The token alone, should the server echo only it.
			s.Add(path[strings.LastIndexByte(path, '/')+1:])
		}
	}
	if u.RawQuery != "" {
		s.Add(u.RawQuery)
		for _, vs := range u.Query() {
			s.Add(vs...)
		}
	}
}

func (s *Set) add(min int, values []string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < min || v == Mask {
			continue
		}
		if s.values == nil {
			s.values = map[string]struct{}{}
		}
		if _, ok := s.values[v]; !ok {
			s.values[v] = struct{}{}
			s.patterns = nil
		}
	}
}

// Len is how many values the set holds.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

// Redact returns b with every secret value replaced by Mask, in each of
// the forms firedrill's outputs use: as is, JSON-escaped, URL-encoded
// (query and path), HTML-escaped (report.html) and base64 (standard and
// URL alphabets, at any alignment in a longer encoded text, so that
// "user:PASSWORD" encoded as one does not escape). A value that holds
// another is replaced whole. b is not modified; the result may share its
// memory when nothing was replaced.
func (s *Set) Redact(b []byte) []byte {
	for _, p := range s.patternList() {
		if bytes.Contains(b, p) {
			b = bytes.ReplaceAll(b, p, []byte(Mask))
		}
	}
	return b
}

// String is Redact for a string.
func (s *Set) String(str string) string {
	for _, p := range s.patternList() {
		str = strings.ReplaceAll(str, string(p), Mask)
	}
	return str
}

// Strings redacts each of ss in place and returns it.
func (s *Set) Strings(ss []string) []string {
	for i := range ss {
		ss[i] = s.String(ss[i])
	}
	return ss
}

// Error returns err with its message redacted; errors.Is and errors.As
// still see err's chain. nil stays nil; an error with nothing to redact is
// returned as it is.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := s.String(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that redacts each Write before passing it to w.
// Each Write is redacted on its own: it suits writers fed whole lines or
// records (progress, log handlers, error printing), not byte streams cut
// at random. It reports len(p) written when w took the redacted bytes.
func (s *Set) Writer(w io.Writer) io.Writer { return &writer{s: s, w: w} }

type writer struct {
	s *Set
	w io.Writer
}

// Unwrap is the writer written to, for callers that ask whether it is a
// terminal.
func (w *writer) Unwrap() io.Writer { return w.w }

func (w *writer) Write(p []byte) (int, error) {
	if _, err := w.w.Write(w.s.Redact(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *Set) patternList() [][]byte {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	p := s.patterns
	s.mu.RUnlock()
	if p != nil || s.Len() == 0 {
		return p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.patterns != nil {
		return s.patterns // built by another caller meanwhile
	}
	seen := map[string]bool{}
	for v := range s.values {
		for _, f := range forms(v) {
			if !seen[f] {
				seen[f] = true
				s.patterns = append(s.patterns, []byte(f))
			}
		}
	}
	// Longest first: a secret that contains another (an access key inside
	// the secret key) is replaced whole, leaving no part of it behind.
	slices.SortFunc(s.patterns, func(a, b []byte) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return bytes.Compare(a, b)
	})
	return s.patterns
}

// forms are the encodings of v that outputs may hold.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		if f != "" && f != v {
			out = append(out, f)
		}
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			q := strings.TrimSpace(b.String())
			add(q[1 : len(q)-1])
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	add(htmlEscaper.Replace(v))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString([]byte(v)))
		for _, core := range base64Cores(enc.WithPadding(base64.NoPadding), v) {
			if len(core) >= minEncodedLen {
				add(core)
			}
		}
	}
	return out
}

// htmlEscaper escapes as html/template does in text (report.html).
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;", "\x00", "\uFFFD")

// base64Cores are, for each of the three byte alignments v can have in a
// longer encoded text, the characters of its encoding that depend on v's
// bytes alone.
func base64Cores(enc *base64.Encoding, v string) []string {
	var out []string
	for k := 0; k < 3; k++ {
		e := enc.EncodeToString(append(make([]byte, k), v...))
		first := (8*k + 5) / 6       // first character with no bit of the prefix
		last := 8 * (k + len(v)) / 6 // characters before it hold no bit from after v
		if first < last && last <= len(e) {
			out = append(out, e[first:last])
		}
	}
	return out
}
