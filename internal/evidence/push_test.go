package evidence

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

func TestPushLocksAndReadsBack(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := memstore.New()
	s.Now = func() time.Time { return now }
	require.NoError(t, s.CreateBucket(ctx, "evidence", true))

	p, err := Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "evidence", Key: "team/fd-1.tar.gz", Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, objectstore.Compliance, p.Mode)
	require.NotNil(t, p.RetainUntil)
	assert.Equal(t, now.Add(DefaultRetention), *p.RetainUntil, "seven years by default")
	assert.NotEmpty(t, p.VersionID)
	// sha256 of "bundle"
	assert.Equal(t, "1e6ed65d77d6364eeaed5a745ba5c4985ae2b700dd85d7cf7f027bdf294a33fc", p.SHA256)

	// The version is locked: the store refuses to delete it.
	err = s.DeleteVersion(ctx, "evidence", "team/fd-1.tar.gz", p.VersionID)
	assert.True(t, objectstore.Refused(err), "%v", err)

	p, err = Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "evidence", Key: "k", Mode: objectstore.Governance, Retention: 24 * time.Hour, Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, objectstore.Governance, p.Mode)
	assert.Equal(t, now.Add(24*time.Hour), *p.RetainUntil)
}

func TestPushRefusesUnlockedBucket(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	require.NoError(t, s.CreateBucket(ctx, "plain", false))
	_, err := Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "plain", Key: "k"})
	assert.ErrorIs(t, err, ErrBucketNotLocked)
	assert.Empty(t, s.Writes(), "nothing written to an unlocked bucket")

	p, err := Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "plain", Key: "k", AllowUnlocked: true})
	require.NoError(t, err)
	assert.Empty(t, p.Mode)
	assert.Nil(t, p.RetainUntil)
}

func TestPushFailsWhenTheLockDoesNotHold(t *testing.T) {
	ctx := context.Background()
	// Versity's behaviour: versions carry no retention of their own.
	s := memstore.New()
	s.NoDefaultRetentionStamp = true
	s.OpErrors = map[string]error{}
	require.NoError(t, s.CreateBucket(ctx, "evidence", true))
	s.OpErrors["ObjectRetention"] = objectstore.ErrNoObjectLockConfig
	_, err := Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "evidence", Key: "k"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read back the retention")

	s.OpErrors = map[string]error{"PutObject": objectstore.ErrAccessDenied}
	_, err = Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "evidence", Key: "k"})
	assert.True(t, errors.Is(err, objectstore.ErrAccessDenied), "%v", err)

	_, err = Push(ctx, s, []byte("bundle"), PushOptions{Bucket: "evidence", Key: "k", Mode: "FOREVER"})
	assert.ErrorContains(t, err, "want COMPLIANCE or GOVERNANCE")
}
