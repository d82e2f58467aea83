package lab

import (
	"fmt"
	"os"
	"path/filepath"
)

// Ports used by the lab, all on 127.0.0.1. They sit in one block away from
// common defaults (8080, 9000, 2379, 6443...) so the lab collides neither with
// itself nor with a developer's own servers.
const (
	portPrimaryS3       = 27000
	portPrimaryConsole  = 27001
	portOffsiteS3       = 27010
	portOffsiteConsole  = 27011
	portOffcloudS3      = 27020
	portWebhook         = 27030
	portSourceBase      = 27100
	portScratchBase     = 27200
	offsetEtcdClient    = 0
	offsetEtcdPeer      = 1
	offsetAPIServer     = 2
	offsetControllerMgr = 3
	offsetScheduler     = 4
	offsetVeleroMetrics = 6
)

// Lab credentials. They are throwaway values for servers bound to loopback
// and are printed by `firedrill-lab env` on purpose: tests need them.
const (
	s3AccessKey   = "fdlab-access"
	s3SecretKey   = "firedrill-lab-secret"
	s3Region      = "us-east-1"
	backupBucket  = "velero-backups"
	offsiteBucket = "velero-backups-offsite"
	offcloudBkt   = "velero-backups-offcloud"
	backupPrefix  = "lab"
	// Evidence bundles go to buckets of their own on the primary MinIO,
	// never to a backup bucket: one with object lock (no default
	// retention: each bundle carries its own), one without, which
	// firedrill must refuse.
	evidenceBucket   = "firedrill-evidence"
	evidenceUnlocked = "firedrill-evidence-unlocked"
	// historyBucket holds shared drill histories (scheduled drills).
	historyBucket = "firedrill-history"
	scheduleName  = "shop-daily"
	scenarioName  = "lab-region-loss"
	scratchLabel  = "firedrill.dev/scratch"
	veleroNS      = "velero"
)

// Config locates the lab's binaries and state.
type Config struct {
	// StateDir holds PKI, data directories, logs, PID files and kubeconfigs.
	// `down` removes it.
	StateDir string
	// Scripts is the directory of build-bins.sh.
	Scripts string
	// Self is the firedrill-lab binary; the scratch cluster's admission
	// webhook runs as `Self webhook`.
	Self string
	// Bins are the directories of the built binaries, from build-bins.sh.
	Bins Bins
}

// Bins are the directories of the lab's binaries, keyed by version in the
// build cache.
type Bins struct {
	Etcd, Kube, Kubectl, Node, CoreDNS, KubeRouter, MinIO, Versity, Velero, VeleroHelper, VeleroAWS string
}

// DefaultStateDir is $FIREDRILL_LAB_DIR, else the user's cache directory.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("FIREDRILL_LAB_DIR"); d != "" {
		return filepath.Abs(d)
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a directory for lab state: %w (set FIREDRILL_LAB_DIR)", err)
	}
	return filepath.Join(c, "firedrill", "lab", "state"), nil
}

func (c Config) path(elem ...string) string {
	return filepath.Join(append([]string{c.StateDir}, elem...)...)
}
