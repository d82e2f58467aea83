package objectstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadSmallObject_DirectAnswersLikeTheSDK: the direct path and the
// SDK's ReadObject return the same bytes and classify the same errors;
// throttling is retried, and an object larger than asked is an error.
func TestReadSmallObject_DirectAnswersLikeTheSDK(t *testing.T) {
	body := func(b string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { _, _ = w.Write([]byte(b)) }
	}
	cases := []struct {
		name    string
		answers []func(w http.ResponseWriter)
		max     int64
		want    string
		kind    error
		status  int
		code    string
		tooBig  bool
	}{
		{name: "read", answers: []func(http.ResponseWriter){body(`{"kind":"Backup"}`)}, max: 100, want: `{"kind":"Backup"}`},
		{name: "exactly max", answers: []func(http.ResponseWriter){body(`12345`)}, max: 5, want: `12345`},
		{name: "larger than max", answers: []func(http.ResponseWriter){body(`123456`)}, max: 5, tooBig: true},
		{name: "no such key", answers: []func(http.ResponseWriter){errorXML(404, "NoSuchKey", "The specified key does not exist.")},
			max: 100, kind: ErrNotFound, status: 404, code: "NoSuchKey"},
		{name: "throttled, then answered", answers: []func(http.ResponseWriter){errorXML(503, "SlowDown", "Please reduce your request rate."), body(`ok`)},
			max: 100, want: "ok"},
	}
	const key = "lab/backups/daily 1/velero-backup.json"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(direct bool) (string, error, []string) {
				rs := &retentionServer{t: t, answers: tc.answers}
				srv := httptest.NewServer(rs)
				defer srv.Close()
				s := newTestS3(t, srv.URL, nil)
				if !direct {
					s.direct = nil
				} else {
					require.NotNil(t, s.direct)
				}
				b, err := s.ReadSmallObject(context.Background(), "velero", key, tc.max)
				return string(b), err, rs.seen
			}
			sdkBody, sdkErr, _ := run(false)
			got, err, seen := run(true)
			assert.Equal(t, "GET /velero/lab/backups/daily%201/velero-backup.json?", seen[0])
			if tc.tooBig {
				require.Error(t, err)
				require.Error(t, sdkErr)
				assert.Contains(t, err.Error(), "GetObject s3://velero/"+key)
				return
			}
			if tc.kind == nil {
				require.NoError(t, err)
				require.NoError(t, sdkErr)
				assert.Equal(t, tc.want, got)
				assert.Equal(t, sdkBody, got)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.True(t, errors.Is(err, tc.kind), "%v", err)
			assert.True(t, errors.Is(sdkErr, tc.kind), "the SDK's: %v", sdkErr)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.code, e.Code)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}
