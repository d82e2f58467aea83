package memstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/storetest"
)

func TestMemstore_Conformance(t *testing.T) {
	storetest.Suite{NewStore: func(t *testing.T) storetest.Store { return memstore.New() }}.Run(t)
}

func TestMemstore_Conformance_VersityBehaviour(t *testing.T) {
	storetest.Suite{NewStore: func(t *testing.T) storetest.Store {
		s := memstore.New()
		s.NoDefaultRetentionStamp, s.RefuseStatus, s.RefuseCode = true, 403, "AccessDenied"
		return s
	}}.Run(t)
}

// lockedBucket makes a bucket with a one-day COMPLIANCE default and one
// object in it.
func lockedBucket(t *testing.T, s *memstore.Store) objectstore.ObjectInfo {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.CreateBucket(ctx, "b", true))
	require.NoError(t, s.SetObjectLockConfig(ctx, "b", objectstore.LockConfig{Enabled: true, DefaultMode: objectstore.Compliance, DefaultDays: 1}))
	info, err := s.PutObject(ctx, "b", "k", []byte("data"), objectstore.PutOptions{})
	require.NoError(t, err)
	return info
}

func TestMemstore_OpErrorsFailOnlyTheNamedOperation(t *testing.T) {
	s := memstore.New()
	info := lockedBucket(t, s)
	s.OpErrors = map[string]error{"Head:b": objectstore.ErrAccessDenied}
	_, err := s.Head(context.Background(), "b", "k", info.VersionID)
	require.Error(t, err)
	assert.ErrorIs(t, err, objectstore.ErrAccessDenied)
	_, err = s.ObjectRetention(context.Background(), "b", "k", info.VersionID)
	assert.NoError(t, err, "other operations are untouched")
	assert.Equal(t, 1, s.Calls()["Head"])
}

func TestMemstore_LockedVersionsRefuseDeletesUnlessTold(t *testing.T) {
	for _, tt := range []struct {
		name      string
		versity   bool
		ignore    bool
		status    int
		wantError bool
	}{
		{"MinIO refuses with 400", false, false, 400, true},
		{"Versity refuses with 403", true, false, 403, true},
		{"a broken lock deletes", false, true, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			if tt.versity {
				s.NoDefaultRetentionStamp, s.RefuseStatus, s.RefuseCode = true, 403, "AccessDenied"
			}
			s.IgnoreLockOnDelete = tt.ignore
			info := lockedBucket(t, s)
			err := s.DeleteVersion(context.Background(), "b", "k", info.VersionID)
			if !tt.wantError {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, objectstore.Refused(err))
			var e *objectstore.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
		})
	}
}

func TestMemstore_RetentionStampDependsOnTheServer(t *testing.T) {
	minio := memstore.New()
	info := lockedBucket(t, minio)
	r, err := minio.ObjectRetention(context.Background(), "b", "k", info.VersionID)
	require.NoError(t, err)
	assert.Equal(t, objectstore.Compliance, r.Mode, "MinIO stamps the bucket default")

	versity := memstore.New()
	versity.NoDefaultRetentionStamp = true
	info = lockedBucket(t, versity)
	_, err = versity.ObjectRetention(context.Background(), "b", "k", info.VersionID)
	assert.ErrorIs(t, err, objectstore.ErrNoObjectLockConfig, "Versity stamps nothing")
}
