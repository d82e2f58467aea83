package objectstore

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRouteLogs_SDKLinesGoThroughTheLogger(t *testing.T) {
	defer RouteLogs(nil)
	var buf bytes.Buffer
	RouteLogs(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))

	sdkLogger{}.Logf(logging.Warn, "falling back to IMDSv1: %s", "no token")
	sdkLogger{}.Logf(logging.Debug, "request %d", 1) // below the level: dropped

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), "one JSON line, got %q", buf.String())
	assert.Equal(t, "WARN", line["level"])
	assert.Equal(t, "falling back to IMDSv1: no token", line["msg"])
	assert.Equal(t, "aws-sdk", line["source"])
}
