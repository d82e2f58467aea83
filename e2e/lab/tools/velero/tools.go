//go:build tools

// Package tools pins the Velero server and CLI for the lab, and the
// restore helper Velero injects into restored pods. velero cannot be
// `go install`ed (its go.mod replaces kopia), so this module copies velero
// v1.18.3's requirements and replace line; k8s.io/cli-runtime is raised to
// v0.33.13 because the module proxy refuses v0.33.12.
package tools

import (
	_ "github.com/vmware-tanzu/velero/cmd/velero"
	_ "github.com/vmware-tanzu/velero/cmd/velero-restore-helper"
)
