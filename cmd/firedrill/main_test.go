package main

import (
	"runtime/debug"
	"testing"
)

// The image has no /etc/ssl/certs: the binary must carry its own roots.
func TestFallbackRootsAreLinked(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	for _, d := range info.Deps {
		if d.Path == "golang.org/x/crypto/x509roots/fallback" {
			return
		}
	}
	t.Fatal("golang.org/x/crypto/x509roots/fallback is not linked: HTTPS from the container image would fail with an unknown authority")
}
