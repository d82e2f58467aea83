package kube

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
)

// TestRouteLogs: client-go's unreturnable errors (runtime.HandleError,
// the way a pods/exec stream copy reports a writer's error) and its
// klog.Errorf lines (the exec WebSocket heartbeat's) reach the logger at
// debug level, so a user sees them only with --log-level debug.
func TestRouteLogs(t *testing.T) {
	defer klog.ClearLogger()
	var debug, info bytes.Buffer
	RouteLogs(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
	utilruntime.HandleError(errors.New("stdout is longer than 65536 bytes"))
	klog.Errorf("Websocket Ping failed: %v", errors.New("use of closed network connection"))
	klog.Flush()
	out := debug.String()
	assert.Contains(t, out, `level=DEBUG msg="Unhandled Error"`)
	assert.Contains(t, out, `err="stdout is longer than 65536 bytes"`)
	assert.Contains(t, out, `level=DEBUG msg="Websocket Ping failed: use of closed network connection"`)
	assert.NotContains(t, out, "level=ERROR")

	RouteLogs(slog.New(slog.NewTextHandler(&info, &slog.HandlerOptions{Level: slog.LevelInfo})))
	utilruntime.HandleError(errors.New("stdout is longer than 65536 bytes"))
	klog.Errorf("Websocket Ping failed")
	klog.Flush()
	assert.Empty(t, info.String(), "nothing at the default level")
}
