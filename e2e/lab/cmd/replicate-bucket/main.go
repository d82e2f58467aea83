// Command replicate-bucket sets up MinIO bucket replication of one test
// bucket to another, for e2e tests that need a replication state the lab's
// own replication never shows: a target that stops answering, so objects
// stay PENDING or turn FAILED on the source. It lives in the lab's module
// because it needs MinIO's admin API (madmin), which firedrill does not.
//
//	replicate-bucket SOURCE_HOSTPORT SOURCE_BUCKET TARGET_HOSTPORT TARGET_BUCKET
//
// Credentials come from FIREDRILL_LAB_PRIMARY_ACCESS_KEY/SECRET_KEY (the
// source) and FIREDRILL_LAB_OFFSITE_ACCESS_KEY/SECRET_KEY (the target);
// the region from FIREDRILL_LAB_PRIMARY_REGION. Both buckets must exist
// with versioning enabled. Nothing else is touched.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/replication"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: replicate-bucket SOURCE_HOSTPORT SOURCE_BUCKET TARGET_HOSTPORT TARGET_BUCKET")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "replicate-bucket:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, src, srcBucket, dst, dstBucket string) error {
	ak, sk := os.Getenv("FIREDRILL_LAB_PRIMARY_ACCESS_KEY"), os.Getenv("FIREDRILL_LAB_PRIMARY_SECRET_KEY")
	adm, err := madmin.New(src, ak, sk, false)
	if err != nil {
		return err
	}
	arn, err := adm.SetRemoteTarget(ctx, srcBucket, &madmin.BucketTarget{
		SourceBucket: srcBucket,
		Endpoint:     dst,
		Credentials: &madmin.Credentials{AccessKey: os.Getenv("FIREDRILL_LAB_OFFSITE_ACCESS_KEY"),
			SecretKey: os.Getenv("FIREDRILL_LAB_OFFSITE_SECRET_KEY")},
		TargetBucket: dstBucket,
		Type:         madmin.ReplicationService,
		API:          "s3v4",
		Region:       os.Getenv("FIREDRILL_LAB_PRIMARY_REGION"),
	})
	if err != nil {
		return fmt.Errorf("set replication target: %w", err)
	}
	mc, err := minio.New(src, &minio.Options{Creds: credentials.NewStaticV4(ak, sk, ""), Region: os.Getenv("FIREDRILL_LAB_PRIMARY_REGION")})
	if err != nil {
		return err
	}
	cfg := replication.Config{Rules: []replication.Rule{{
		ID: "e2e", Status: replication.Enabled, Priority: 1,
		DeleteMarkerReplication:   replication.DeleteMarkerReplication{Status: replication.Disabled},
		DeleteReplication:         replication.DeleteReplication{Status: replication.Disabled},
		ExistingObjectReplication: replication.ExistingObjectReplication{Status: replication.Enabled},
		Destination:               replication.Destination{Bucket: arn},
	}}}
	if err := mc.SetBucketReplication(ctx, srcBucket, cfg); err != nil {
		return fmt.Errorf("set bucket replication: %w", err)
	}
	return nil
}
