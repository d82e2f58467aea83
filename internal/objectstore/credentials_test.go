package objectstore

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore/awstest"
)

// TestS3_NoCredentialsIsErrNoCredentialsWithTheHint: a request the SDK's
// default chain finds no credentials for fails with ErrNoCredentials, the
// SDK's reason and the caller's hint; nothing is sent.
func TestS3_NoCredentialsIsErrNoCredentialsWithTheHint(t *testing.T) {
	awstest.NoCredentials(t)
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
