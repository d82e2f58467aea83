package objectstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/aws/smithy-go/logging"
)

// sdkLog is where the AWS SDK's own lines go (RouteLogs); nil is
// slog.Default().
var sdkLog atomic.Pointer[slog.Logger]

// RouteLogs sends the AWS SDK's own log lines (its WARN and DEBUG
// classifications, such as "falling back to IMDSv1") through l, at warn
// and debug, with source=aws-sdk, so that --log-format json keeps every
// stderr line JSON. Clients made before and after the call use it.
func RouteLogs(l *slog.Logger) { sdkLog.Store(l) }

// sdkLogger is the AWS SDK's logging.Logger over sdkLog.
type sdkLogger struct{}

func (sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	l := sdkLog.Load()
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}
