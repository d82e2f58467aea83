package lab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/replication"
)

// store is one of the lab's S3 servers.
type store struct {
	name     string // "primary", "offsite", "offcloud"
	port     int
	bucket   string
	versity  bool
	consoleP int
}

func (s store) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }
func (s store) hostPort() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

var (
	primaryStore  = store{name: "primary", port: portPrimaryS3, consoleP: portPrimaryConsole, bucket: backupBucket}
	offsiteStore  = store{name: "offsite", port: portOffsiteS3, consoleP: portOffsiteConsole, bucket: offsiteBucket}
	offcloudStore = store{name: "offcloud", port: portOffcloudS3, bucket: offcloudBkt, versity: true}
	stores        = []store{primaryStore, offsiteStore, offcloudStore}
)

func (s store) client() (*minio.Client, error) {
	return minio.New(s.hostPort(), &minio.Options{
		Creds:  credentials.NewStaticV4(s3AccessKey, s3SecretKey, ""),
		Region: s3Region,
	})
}

func (s store) healthURL() string {
	if s.versity {
		return s.Endpoint() + "/health"
	}
	return s.Endpoint() + "/minio/health/ready"
}

// start runs the server and waits for its health endpoint.
func (s store) start(ctx context.Context, c Config) error {
	data := c.path("s3", s.name)
	d := daemon{name: "s3-" + s.name}
	if s.versity {
		d.path = filepath.Join(c.Bins.Versity, "versitygw")
		d.env = []string{"ROOT_ACCESS_KEY=" + s3AccessKey, "ROOT_SECRET_KEY=" + s3SecretKey}
		d.args = []string{"--port", s.hostPort(), "--region", s3Region, "--health", "/health",
			"posix", "--versioning-dir", filepath.Join(data, "versions"), filepath.Join(data, "buckets")}
		if err := mkdirs(filepath.Join(data, "versions"), filepath.Join(data, "buckets")); err != nil {
			return err
		}
	} else {
		d.path = filepath.Join(c.Bins.MinIO, "minio")
		d.env = []string{"MINIO_ROOT_USER=" + s3AccessKey, "MINIO_ROOT_PASSWORD=" + s3SecretKey,
			"MINIO_REGION=" + s3Region, "MINIO_BROWSER=off", "MINIO_UPDATE=off"}
		d.args = []string{"server", data, "--quiet", "--address", s.hostPort(),
			"--console-address", "127.0.0.1:" + strconv.Itoa(s.consoleP)}
		if err := mkdirs(data); err != nil {
			return err
		}
	}
	p, err := c.start(d)
	if err != nil {
		return err
	}
	return c.waitReady(ctx, p, time.Minute, httpOK(plainClient, s.healthURL()))
}

// lockedBucket creates s's bucket with object lock (which turns versioning
// on) and a default COMPLIANCE retention of one day: protected like a real
// backup bucket, yet disposable.
func (s store) lockedBucket(ctx context.Context) error {
	mc, err := s.client()
	if err != nil {
		return err
	}
	exists, err := mc.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("%s: check bucket %s: %w", s.name, s.bucket, err)
	}
	if !exists {
		if err := mc.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s3Region, ObjectLocking: true}); err != nil {
			return fmt.Errorf("%s: create bucket %s: %w", s.name, s.bucket, err)
		}
	}
	mode, validity, unit := minio.Compliance, uint(1), minio.Days
	if err := mc.SetObjectLockConfig(ctx, s.bucket, &mode, &validity, &unit); err != nil {
		return fmt.Errorf("%s: set object lock on %s: %w", s.name, s.bucket, err)
	}
	return nil
}

// evidenceBuckets creates the evidence buckets and the drills' shared
// history bucket on the primary MinIO.
func evidenceBuckets(ctx context.Context) error {
	mc, err := primaryStore.client()
	if err != nil {
		return err
	}
	for bucket, lock := range map[string]bool{evidenceBucket: true, evidenceUnlocked: false, historyBucket: false} {
		exists, err := mc.BucketExists(ctx, bucket)
		if err != nil {
			return fmt.Errorf("check bucket %s: %w", bucket, err)
		}
		if exists {
			continue
		}
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s3Region, ObjectLocking: lock}); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	return nil
}

// replicate makes the primary MinIO replicate every new object version of
// the backup bucket to the off-site MinIO. Replicas keep version ids,
// ETags and checksums.
func replicate(ctx context.Context) error {
	adm, err := madmin.New(primaryStore.hostPort(), s3AccessKey, s3SecretKey, false)
	if err != nil {
		return err
	}
	targets, err := adm.ListRemoteTargets(ctx, primaryStore.bucket, string(madmin.ReplicationService))
	if err != nil {
		return fmt.Errorf("list replication targets: %w", err)
	}
	arn := ""
	for _, t := range targets {
		if t.Endpoint == offsiteStore.hostPort() && t.TargetBucket == offsiteStore.bucket {
			arn = t.Arn
		}
	}
	if arn == "" {
		arn, err = adm.SetRemoteTarget(ctx, primaryStore.bucket, &madmin.BucketTarget{
			SourceBucket: primaryStore.bucket,
			Endpoint:     offsiteStore.hostPort(),
			Credentials:  &madmin.Credentials{AccessKey: s3AccessKey, SecretKey: s3SecretKey},
			TargetBucket: offsiteStore.bucket,
			Secure:       false,
			Type:         madmin.ReplicationService,
			API:          "s3v4",
			Region:       s3Region,
		})
		if err != nil {
			return fmt.Errorf("set replication target: %w", err)
		}
	}
	mc, err := primaryStore.client()
	if err != nil {
		return err
	}
	cfg := replication.Config{Rules: []replication.Rule{{
		ID:                        "offsite",
		Status:                    replication.Enabled,
		Priority:                  1,
		DeleteMarkerReplication:   replication.DeleteMarkerReplication{Status: replication.Disabled},
		DeleteReplication:         replication.DeleteReplication{Status: replication.Disabled},
		ExistingObjectReplication: replication.ExistingObjectReplication{Status: replication.Enabled},
		Destination:               replication.Destination{Bucket: arn},
	}}}
	if err := mc.SetBucketReplication(ctx, primaryStore.bucket, cfg); err != nil {
		return fmt.Errorf("set bucket replication: %w", err)
	}
	return nil
}

// waitReplicated waits until every object version under prefix in the
// primary bucket exists, with the same version id, in the off-site bucket.
func waitReplicated(ctx context.Context, prefix string) error {
	src, err := primaryStore.client()
	if err != nil {
		return err
	}
	dst, err := offsiteStore.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := 0
		var last string
		for o := range src.ListObjects(ctx, primaryStore.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
			if o.Err != nil {
				return o.Err
			}
			if o.IsDeleteMarker {
				continue
			}
			if _, err := dst.StatObject(ctx, offsiteStore.bucket, o.Key, minio.StatObjectOptions{VersionID: o.VersionID}); err != nil {
				missing++
				last = o.Key
			}
		}
		if missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d object versions not replicated off-site (e.g. %s): %w", missing, last, ctx.Err())
		case <-tick.C:
		}
	}
}

// copyOffcloud copies the latest version of every object under prefix from
// the primary MinIO to the Versity gateway, skipping objects already there
// with the same size and ETag: the lab's stand-in for a nightly rclone job
// to another cloud (Versity has no replication).
func copyOffcloud(ctx context.Context, prefix string) (int, error) {
	src, err := primaryStore.client()
	if err != nil {
		return 0, err
	}
	dst, err := offcloudStore.client()
	if err != nil {
		return 0, err
	}
	copied := 0
	for o := range src.ListObjects(ctx, primaryStore.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return copied, o.Err
		}
		if st, err := dst.StatObject(ctx, offcloudStore.bucket, o.Key, minio.StatObjectOptions{}); err == nil &&
			st.Size == o.Size && strings.Trim(st.ETag, `"`) == strings.Trim(o.ETag, `"`) {
			continue
		}
		if err := copyObject(ctx, src, dst, o); err != nil {
			return copied, fmt.Errorf("copy %s off-cloud: %w", o.Key, err)
		}
		copied++
	}
	return copied, nil
}

func copyObject(ctx context.Context, src, dst *minio.Client, o minio.ObjectInfo) error {
	r, err := src.GetObject(ctx, primaryStore.bucket, o.Key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	// Versity rejects minio-go's trailing checksums; a plain MD5-ETag upload
	// works on both servers.
	_, err = dst.PutObject(ctx, offcloudStore.bucket, o.Key, r, o.Size, minio.PutObjectOptions{
		ContentType:      o.ContentType,
		SendContentMd5:   true,
		DisableMultipart: true,
	})
	return err
}

func (s store) health(ctx context.Context) error {
	return httpOK(plainClient, s.healthURL())(ctx)
}

var errNotSeeded = errors.New("lab is not seeded")
