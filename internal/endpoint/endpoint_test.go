package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSameServer(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"http://127.0.0.1:27999", "http://127.0.0.1:27999", true},
		{"http://127.0.0.1:27999", "http://127.0.0.1:27999/", true},
		{"http://127.0.0.1:27999", "http://localhost:27999", true},
		{"http://127.0.0.1:27999", "http://[::1]:27999", true},
		{"http://127.0.0.1:27999", "https://127.0.0.1:27999", true},
		{"https://S3.Example.com", "https://s3.example.com:443/", true},
		{"http://s3.example.com", "http://s3.example.com:80", true},
		{"", "http://127.0.0.1:27999", true},
		{"", "", true},
		{"not a url", "http://minio:9000", true},
		{"http://127.0.0.1:27999", "http://127.0.0.1:27000", false},
		{"http://minio-a:9000", "http://minio-b:9000", false},
		{"https://s3.example.com", "http://s3.example.com", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.same, SameServer(c.a, c.b), "%q vs %q", c.a, c.b)
		assert.Equal(t, c.same, SameServer(c.b, c.a), "%q vs %q", c.b, c.a)
	}
}
