package secret

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY\"<&>'"

func TestRedact_EveryEncodingOutputsUse(t *testing.T) {
	s := New(key)
	jsonEscaped, _ := json.Marshal(key)
	var html strings.Builder
	require.NoError(t, template.Must(template.New("").Parse("{{.}}")).Execute(&html, key))
	cases := map[string]string{
		"raw":          key,
		"json":         string(jsonEscaped),
		"query":        url.QueryEscape(key),
		"path":         url.PathEscape(key),
		"html":         html.String(),
		"base64":       base64.StdEncoding.EncodeToString([]byte(key)),
		"base64url":    base64.URLEncoding.EncodeToString([]byte(key)),
		"basic auth":   base64.StdEncoding.EncodeToString([]byte("user:" + key)),
		"offset 2":     base64.StdEncoding.EncodeToString([]byte("ab" + key + "tail")),
		"offset 1 url": base64.RawURLEncoding.EncodeToString([]byte("a" + key + "zz")),
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			out := s.String("before " + enc + " after")
			assert.Contains(t, out, Mask)
			assert.True(t, strings.HasPrefix(out, "before "), out)
			assert.True(t, strings.HasSuffix(out, " after"), out)
			mid := enc[len(enc)/2-4 : len(enc)/2+4]
			assert.NotContains(t, out, mid, "the middle of the encoded value is gone")
		})
	}
}

func TestRedact_LongestValueWhole(t *testing.T) {
	// The access key is a prefix of the secret key: replacing it first
	// would leave "-secret" behind.
	s := New("firedrill-lab", "firedrill-lab-secret", "ab")
	assert.Equal(t, "key=[redacted] secret=[redacted] ab", s.String("key=firedrill-lab secret=firedrill-lab-secret ab"))
}

func TestAdd_MinimumLengths(t *testing.T) {
	s := New("abc", " abcd\n")
	s.AddData("shop", "password")
	assert.Equal(t, "abc [redacted] shop [redacted]", s.String("abc abcd shop password"))
	var none *Set
	assert.Equal(t, "abcd", none.String("abcd"), "a nil set redacts nothing")
	none.Add("abcd") // and takes nothing, without panicking
}

func TestAddURL_TokensAndPasswordsNotTheHost(t *testing.T) {
	s := New()
	s.AddURL("https://hooks.example.com/services/T0/B0/XXXXtokenXXXX?sig=abcdef123")
	s.AddURL("https://alice:hunter22@push.example.com:9091")
	assert.Equal(t, "post to [redacted] failed", s.String("post to https://hooks.example.com/services/T0/B0/XXXXtokenXXXX?sig=abcdef123 failed"))
	assert.Equal(t, "invalid token [redacted], sig [redacted]", s.String("invalid token XXXXtokenXXXX, sig abcdef123"))
	assert.Equal(t, "[redacted] and https://[redacted]@push.example.com and [redacted]",
		s.String("https://alice:hunter22@push.example.com:9091 and https://alice:hunter22@push.example.com and hunter22"))
	assert.Equal(t, "hooks.example.com", s.String("hooks.example.com"))
	s.AddURL("http://pushgateway:9091")
	assert.Equal(t, "push to http://pushgateway:9091", s.String("push to http://pushgateway:9091"), "a URL without a token stays printable")
}

func TestAddPEM_EachLine(t *testing.T) {
	pem := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKzEuV1\nQ2xk9kq8Zw==\n-----END PRIVATE KEY-----\n"
	s := New()
	s.AddPEM(pem)
	assert.Equal(t, "[redacted]", s.String(strings.TrimSpace(pem)))
	assert.Equal(t, "line [redacted]", s.String("line MC4CAQAwBQYDK2VwBCIEIKzEuV1"))
	assert.Equal(t, "-----END PRIVATE KEY-----", s.String("-----END PRIVATE KEY-----"))
}

func TestError_RedactsMessageKeepsChain(t *testing.T) {
	s := New("s3cr3t-value")
	base := errors.New("denied")
	err := s.Error(fmt.Errorf("login with s3cr3t-value: %w", base))
	assert.Equal(t, "login with [redacted]: denied", err.Error())
	assert.ErrorIs(t, err, base)
	assert.Same(t, base, s.Error(base), "nothing to redact: the same error")
	assert.NoError(t, s.Error(nil))
}

func TestWriter_RedactsEachWrite(t *testing.T) {
	s := New("s3cr3t-value")
	var b strings.Builder
	n, err := fmt.Fprintf(s.Writer(&b), "Error: key s3cr3t-value refused\n")
	require.NoError(t, err)
	assert.Equal(t, len("Error: key s3cr3t-value refused\n"), n)
	assert.Equal(t, "Error: key [redacted] refused\n", b.String())
	s.Add("learned-later")
	fmt.Fprint(s.Writer(&b), "learned-later")
	assert.Equal(t, "Error: key [redacted] refused\n[redacted]", b.String(), "values added later apply")
}

func TestURL_HidesPasswords(t *testing.T) {
	for raw, want := range map[string]string{
		"https://user:pass@minio.example.com:9000": "https://user:xxxxx@minio.example.com:9000",
		"https://minio.example.com:9000":           "https://minio.example.com:9000",
		"minio:9000":                               "minio:9000",
		"http://u:p@ss@host/%zz":                   "the URL",
	} {
		assert.Equal(t, want, URL(raw), raw)
	}
}
