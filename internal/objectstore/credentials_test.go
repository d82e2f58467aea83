package objectstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noSDKCredentials leaves the AWS SDK's default chain nothing to find:
// no variables, no shared files, no instance metadata service.
func noSDKCredentials(t *testing.T) {
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

// TestS3_NoCredentialsIsErrNoCredentialsWithTheHint: a request the SDK's
// default chain finds no credentials for fails with ErrNoCredentials, the
// SDK's reason and the caller's hint; nothing is sent.
func TestS3_NoCredentialsIsErrNoCredentialsWithTheHint(t *testing.T) {
	noSDKCredentials(t)
	ctx := context.Background()
	s, err := New(ctx, Config{Endpoint: "http://127.0.0.1:1", PathStyle: true, MaxAttempts: 1, CredentialsHint: "set $MY_KEY_ID"})
	require.NoError(t, err, "New makes no request")
	_, err = s.ListObjects(ctx, "history", ListRequest{Prefix: "drills/"})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNoCredentials)
	assert.Contains(t, err.Error(), "ListObjectsV2 s3://history/drills/ at http://127.0.0.1:1: no credentials: ")
	assert.NotContains(t, err.Error(), "connection refused", "nothing was sent")
	var h interface{ Hint() string }
	require.True(t, errors.As(err, &h))
	assert.Equal(t, "set $MY_KEY_ID", h.Hint())

	// A cancelled request is not a want of credentials.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.ListObjects(cancelled, "history", ListRequest{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNoCredentials)
}
