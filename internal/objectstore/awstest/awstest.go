// Package awstest holds test helpers for code that builds AWS SDK
// clients. It imports nothing of firedrill, so tests of any package,
// objectstore's own included, can use it.
package awstest

import (
	"path/filepath"
	"testing"
)

// NoCredentials leaves the AWS SDK's default credential chain, which
// reads the process's environment, nothing to find for the rest of the
// test: no variables, no shared files (they point at a file that does
// not exist), no container or web-identity endpoints, no instance
// metadata service (AWS_EC2_METADATA_DISABLED).
func NoCredentials(t testing.TB) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_SHARED_CREDENTIALS_FILE": none, "AWS_CONFIG_FILE": none,
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}
