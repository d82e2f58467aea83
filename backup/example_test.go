package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// ExampleCheckProtection is how a command wires the checks: one
// objectstore.S3 per endpoint, credentials by reference, one call, the
// result printed as JSON; exit 3 when a check failed, 1 on an error.
func ExampleCheckProtection() {
	ctx := context.Background()
	connect := func(endpoint, idVar, secretVar string) *objectstore.S3 {
		st, err := objectstore.New(ctx, objectstore.Config{
			Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
			Credentials: &objectstore.Credentials{AccessKeyIDEnv: idVar, SecretAccessKeyEnv: secretVar},
			Getenv:      os.Getenv,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
		return st
	}
	primary := connect("http://127.0.0.1:27000", "FIREDRILL_LAB_PRIMARY_ACCESS_KEY", "FIREDRILL_LAB_PRIMARY_SECRET_KEY")
	offsite := connect("http://127.0.0.1:27010", "FIREDRILL_LAB_OFFSITE_ACCESS_KEY", "FIREDRILL_LAB_OFFSITE_SECRET_KEY")

	// The backup of a scenario that names a schedule, from the bucket alone.
	b, err := backup.LatestBackup(ctx, primary, "velero-backups", "lab", "shop-daily", false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	lock := backup.LockRequirement{Mode: objectstore.Compliance, MinRetention: 12 * time.Hour}
	res, err := backup.CheckProtection(ctx, backup.ProtectionSpec{
		Primary: backup.PrimaryBucket{Store: primary, Bucket: "velero-backups", Prefix: "lab"},
		Lock:    lock,
		Backup:  b,
		Copies: []backup.CopySpec{{
			Name: "offsite", Store: offsite, Bucket: "velero-backups-offsite", Prefix: "lab",
			Mode: backup.ModeChecksum, Lock: &lock,
		}},
	})
	_ = json.NewEncoder(os.Stdout).Encode(res)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	case res.Failed():
		os.Exit(3)
	}
}
