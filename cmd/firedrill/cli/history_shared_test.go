package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore/awstest"
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
	assert.NotContains(t, res.stderr, "Hint: give the shared history its credentials", "they were given")
}

// TestHistory_NoCredentialsHintsAtTheVariables: without
// $FIREDRILL_HISTORY_ACCESS_KEY_ID and with nothing for the AWS SDK's
// chain to find, every command that reads the shared history fails with
// the SDK's reason and a hint naming the variables (never a value).
func TestHistory_NoCredentialsHintsAtTheVariables(t *testing.T) {
	awstest.NoCredentials(t)
	shared := []string{"--history", "s3://team-bucket/team", "--history-endpoint", "http://127.0.0.1:1", "--history-path-style"}
	state := []string{"--state-dir", t.TempDir()}
	for name, args := range map[string][]string{
		"fleet":            {"fleet"},
		"history":          append([]string{"history"}, state...),
		"history show":     append([]string{"history", "show", "fd-20261201-000000-aaaa"}, state...),
		"due":              append([]string{"due"}, state...),
		"evidence summary": append([]string{"evidence", "summary"}, state...),
	} {
		t.Run(name, func(t *testing.T) {
			res := run(t, context.Background(), nil, append(args, shared...)...)
			require.Equal(t, ExitError, res.code, res.String())
			assert.Contains(t, res.stderr, "s3://team-bucket/team")
			assert.Contains(t, res.stderr, "no credentials: ")
			assert.Contains(t, res.stderr, "\nHint: give the shared history its credentials: set $FIREDRILL_HISTORY_ACCESS_KEY_ID and $FIREDRILL_HISTORY_SECRET_ACCESS_KEY, or the AWS SDK's own")
		})
	}
}

func TestHistory_SharedHistoryHalfACredentialNamesTheMissingVariable(t *testing.T) {
	env := map[string]string{"FIREDRILL_HISTORY_ACCESS_KEY_ID": "AKIDSHOULDNOTSHOW"}
	res := run(t, context.Background(), env, "history", "--history", "s3://team-bucket/team", "--history-endpoint", "http://127.0.0.1:1")
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY")
	assert.NotContains(t, res.String(), "AKIDSHOULDNOTSHOW")
}
