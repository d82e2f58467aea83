package kube

import (
	"context"
	"log/slog"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// RouteLogs sends what client-go logs through klog to l, at debug level
// whatever klog's own level, and nothing to the process's stderr. That
// covers the errors client-go's own goroutines meet and cannot return
// (k8s.io/apimachinery/pkg/util/runtime.HandleError, "Unhandled Error"),
// such as a pods/exec stream's copy that failed or the WebSocket
// heartbeat of an exec stream firedrill already closed ("Websocket Ping
// failed ... use of closed network connection"): the error that counts
// reaches firedrill as a return value, and the rest is noise to a user,
// kept for --log-level debug. klog's verbosity (-v) stays 0, so client-go's
// V(n) messages are not produced at all.
//
// It sets klog's process-wide logger: call it once the process's logger
// is known (the CLI does so before every command).
func RouteLogs(l *slog.Logger) {
	klog.SetLogger(logr.FromSlogHandler(debugHandler{l.Handler()}))
}

// debugHandler passes every record to h at slog.LevelDebug.
type debugHandler struct{ h slog.Handler }

func (d debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.h.Enabled(ctx, slog.LevelDebug)
}

// Handle asks Enabled itself: logr hands errors to a handler without asking.
func (d debugHandler) Handle(ctx context.Context, r slog.Record) error {
	if !d.h.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}

func (d debugHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return debugHandler{d.h.WithAttrs(as)}
}

func (d debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{d.h.WithGroup(name)}
}
