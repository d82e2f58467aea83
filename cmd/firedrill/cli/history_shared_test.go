package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistory_SharedHistoryURLIsValidated(t *testing.T) {
	res := run(t, context.Background(), nil, "history", "--history", "team-bucket/team")
	require.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, "want s3://BUCKET/PREFIX")
	assert.Contains(t, res.stderr, "Hint:")
}

func TestHistory_SharedHistoryErrorsNameEndpointAndBucketNotSecrets(t *testing.T) {
	env := map[string]string{
		"FIREDRILL_HISTORY":                   "s3://team-bucket/team",
		"FIREDRILL_HISTORY_ENDPOINT":          "http://127.0.0.1:1",
		"FIREDRILL_HISTORY_ACCESS_KEY_ID":     "AKIDSHOULDNOTSHOW",
		"FIREDRILL_HISTORY_SECRET_ACCESS_KEY": "verysecretvalue",
	}
	res := run(t, context.Background(), env, "history", "--history-path-style", "-o", "json")
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "http://127.0.0.1:1")
	assert.Contains(t, res.stderr, "s3://team-bucket/team")
	assert.NotContains(t, res.String(), "AKIDSHOULDNOTSHOW")
	assert.NotContains(t, res.String(), "verysecretvalue")
}

func TestHistory_SharedHistoryHalfACredentialNamesTheMissingVariable(t *testing.T) {
	env := map[string]string{"FIREDRILL_HISTORY_ACCESS_KEY_ID": "AKIDSHOULDNOTSHOW"}
	res := run(t, context.Background(), env, "history", "--history", "s3://team-bucket/team", "--history-endpoint", "http://127.0.0.1:1")
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY")
	assert.NotContains(t, res.String(), "AKIDSHOULDNOTSHOW")
}
