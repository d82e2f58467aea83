//go:build e2e

package e2e

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// TestProtection_ReplicationLagOnRealMinIO: real MinIO bucket replication
// whose target stops answering (issue 14, item 2). A test bucket on the
// primary MinIO replicates, through a TCP relay the test controls, to a
// test bucket on the off-site MinIO. One object replicates; the relay is
// closed; the next object stays PENDING (or turns FAILED) on the source.
// The comparison counts it as not yet replicated, not missing; the copy
// warns, and fails once the lag exceeds the bound.
func TestProtection_ReplicationLagOnRealMinIO(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	p, o := l.Stores["primary"], l.Stores["offsite"]
	src, dst := p.minioClient(t), o.minioClient(t)
	sb, db := "e2e-repl-src-"+randomSuffix(), "e2e-repl-dst-"+randomSuffix()
	for _, b := range []struct {
		mc   *minio.Client
		name string
	}{{dst, db}, {src, sb}} {
		require.NoError(t, b.mc.MakeBucket(ctx, b.name, minio.MakeBucketOptions{}))
		t.Cleanup(func() {
			ctx := testContext(t, time.Minute)
			// MinIO refuses to remove a bucket that still replicates.
			if b.name == sb {
				assert.NoError(t, b.mc.RemoveBucketReplication(ctx, b.name))
			}
			assert.NoError(t, b.mc.RemoveBucketWithOptions(ctx, b.name, minio.RemoveBucketOptions{ForceDelete: true}))
		})
		require.NoError(t, b.mc.EnableVersioning(ctx, b.name))
	}
	relay := newRelay(t, hostPort(o.Endpoint))
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/replicate-bucket", hostPort(p.Endpoint), sb, relay.addr(), db)
	cmd.Dir = "lab"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	put := func(key string) {
		_, err := src.PutObject(ctx, sb, key, strings.NewReader("content of "+key), int64(len("content of "+key)), minio.PutObjectOptions{})
		require.NoError(t, err)
	}
	put("lab/backups/b1/a.json")
	waitReplicated(t, ctx, src, sb, "lab/backups/b1/a.json")
	relay.close()
	put("lab/backups/b1/b.json")

	st := s3Store(t, l, "primary")
	h, err := st.Head(ctx, sb, "lab/backups/b1/b.json", "")
	require.NoError(t, err)
	require.True(t, h.ReplicationStatus.Waiting(), "status %q", h.ReplicationStatus)
	t.Logf("replication status of the object written after the relay closed: %s", h.ReplicationStatus)

	spec := backup.ProtectionSpec{
		Primary: backup.PrimaryBucket{Store: st, Bucket: sb, Prefix: "lab"},
		Canary:  backup.CanarySpec{Disabled: true},
		Copies: []backup.CopySpec{{Name: "offsite", Store: s3Store(t, l, "offsite"), Bucket: db, Prefix: "lab",
			Mode: backup.ModeChecksum, Scope: backup.ScopePrefix}},
	}
	for _, tc := range []struct {
		name   string
		later  time.Duration
		status finding.Status
		msg    string
	}{
		{"now: lag within the bound", 0, finding.StatusWarn, "1 not yet replicated"},
		{"two hours later: lag past the bound", 2 * time.Hour, finding.StatusFail, "longer than the 1h00m allowed (maxReplicationLag)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec.Now = func() time.Time { return time.Now().Add(tc.later) }
			res, err := backup.CheckProtection(ctx, spec)
			logFindings(t, res)
			require.NoError(t, err)
			require.Len(t, res.Copies, 1)
			cmp := res.Copies[0].Comparison
			assert.Equal(t, 1, cmp.Same, "%+v", cmp)
			assert.Equal(t, 1, cmp.NotReplicated, "%+v", cmp)
			assert.Zero(t, cmp.Missing, "%+v", cmp)
			require.Len(t, cmp.Objects, 1)
			assert.Equal(t, "backups/b1/b.json", cmp.Objects[0].Key)
			// PENDING turns FAILED once MinIO has tried the closed relay.
			assert.Regexp(t, `^replication (PENDING|FAILED) on the primary for `, cmp.Objects[0].Detail)
			f := findingOf(t, res, "protection.copy.offsite")
			assert.Equal(t, tc.status, f.Status, f.Message)
			assert.Contains(t, f.Message, tc.msg)
		})
	}
}

func hostPort(endpoint string) string {
	return strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
}

// waitReplicated waits until MinIO reports key replicated.
func waitReplicated(t *testing.T, ctx context.Context, mc *minio.Client, bucket, key string) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		require.NoError(t, err)
		if info.ReplicationStatus == string(objectstore.ReplicationCompleted) {
			return
		}
		select {
		case <-ctx.Done():
			require.Failf(t, "not replicated", "%s: status %q", key, info.ReplicationStatus)
		case <-tick.C:
		}
	}
}

// relay forwards TCP connections to a server until closed: a replication
// target the test can switch off.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newRelay(t *testing.T, to string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &relay{ln: ln}
	t.Cleanup(r.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, u)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

// close stops accepting and cuts every open connection.
func (r *relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
}
