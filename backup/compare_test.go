package backup

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

// pair is two stores with a bucket each, for comparisons.
type pair struct {
	a, b *memstore.Store
}

func newPair(t *testing.T, pageSize int) pair {
	p := pair{a: memstore.New(), b: memstore.New()}
	p.a.EndpointURL, p.b.EndpointURL = "http://a.test", "http://b.test"
	p.a.PageSize, p.b.PageSize = pageSize, pageSize
	require.NoError(t, p.a.CreateBucket(context.Background(), "src", true))
	require.NoError(t, p.b.CreateBucket(context.Background(), "dst", true))
	return p
}

func (p pair) put(t *testing.T, st *memstore.Store, bucket, key, data string) {
	t.Helper()
	_, err := st.PutObject(context.Background(), bucket, key, []byte(data), objectstore.PutOptions{})
	require.NoError(t, err)
}

func (p pair) compare(t *testing.T, opts CompareOptions) Comparison {
	t.Helper()
	c, err := Compare(context.Background(), Side{Store: p.a, Bucket: "src", Prefix: "s/"}, Side{Store: p.b, Bucket: "dst", Prefix: "d/x/"}, opts)
	require.NoError(t, err)
	return c
}

// TestCompare_MatchesNaiveDiff: random key sets, paged listings of two
// different prefixes, against a map-based diff.
func TestCompare_MatchesNaiveDiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := newPair(t, 7)
	want := Comparison{}
	for i := range 500 {
		key := fmt.Sprintf("%c/%05d", 'a'+rune(rng.IntN(5)), i)
		data := fmt.Sprintf("object %d", i)
		switch rng.IntN(10) {
		case 0:
			p.put(t, p.a, "src", "s/"+key, data)
			want.Missing++
		case 1:
			p.put(t, p.b, "dst", "d/x/"+key, data)
			want.Extra++
		case 2:
			p.put(t, p.a, "src", "s/"+key, data)
			p.put(t, p.b, "dst", "d/x/"+key, data+"!") // another size
			want.Differs++
		case 3:
			p.put(t, p.a, "src", "s/"+key, data)
			p.put(t, p.b, "dst", "d/x/"+key, data[:len(data)-1]+"?") // same size
			want.Differs++
		default:
			p.put(t, p.a, "src", "s/"+key, data)
			p.put(t, p.b, "dst", "d/x/"+key, data)
			want.Same++
		}
	}
	// Keys outside the prefixes do not count.
	p.put(t, p.a, "src", "t/outside", "x")
	p.put(t, p.b, "dst", "d/y", "x")

	var seen atomic.Int64
	got := p.compare(t, CompareOptions{Mode: ModeChecksum, Concurrency: 3, OnObject: func(ObjectResult) { seen.Add(1) }})
	assert.Equal(t, want.Same, got.Same)
	assert.Equal(t, want.Missing, got.Missing)
	assert.Equal(t, want.Extra, got.Extra)
	assert.Equal(t, want.Differs, got.Differs)
	assert.Zero(t, got.Errors)
	assert.Equal(t, int64(500), seen.Load(), "OnObject sees every object")
	assert.Len(t, got.Objects, want.Missing+want.Extra+want.Differs)
	assert.IsNonDecreasing(t, keysOf(got.Objects))
}

func keysOf(rs []ObjectResult) []string {
	var ks []string
	for _, r := range rs {
		ks = append(ks, r.Key)
	}
	return ks
}

func TestCompare_Modes(t *testing.T) {
	p := newPair(t, 0)
	p.put(t, p.a, "src", "s/same", "same content")
	p.put(t, p.b, "dst", "d/x/same", "same content")
	// A forged copy: different content, same size, ETag and checksum.
	p.put(t, p.a, "src", "s/forged", "original")
	p.put(t, p.b, "dst", "d/x/forged", "original")
	require.NoError(t, p.b.SetContent("dst", "d/x/forged", []byte("ORIGINAL")))
	p.put(t, p.a, "src", "s/resized", "short")
	p.put(t, p.b, "dst", "d/x/resized", "longer")

	cases := []struct {
		mode          CompareMode
		same, differs int
		by            map[string]int
	}{
		{ModeExistence, 3, 0, map[string]int{"existence": 3}},
		{ModeSize, 2, 1, map[string]int{"size": 3}},
		{ModeChecksum, 2, 1, map[string]int{"etag": 2, "size": 1}},
		{ModeContent, 1, 2, map[string]int{"content": 2, "size": 1}},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			c := p.compare(t, CompareOptions{Mode: tc.mode})
			assert.Equal(t, tc.same, c.Same)
			assert.Equal(t, tc.differs, c.Differs)
			assert.Equal(t, tc.by, c.ComparedBy)
		})
	}
}

// TestCompare_ChecksumFallbacks: without plain MD5 ETags the checksum mode
// uses stored checksums, and without those the content.
func TestCompare_ChecksumFallbacks(t *testing.T) {
	multipart := func(o *objectstore.ObjectInfo) { o.ETag = hex.EncodeToString(make([]byte, 16)) + "-3" }
	noChecksums := func(o *objectstore.ObjectInfo) { multipart(o); o.Checksums = objectstore.Checksums{} }
	p := newPair(t, 0)
	for _, k := range []string{"sha", "sha-differs", "content", "content-differs"} {
		p.put(t, p.a, "src", "s/"+k, "data of "+k)
		p.put(t, p.b, "dst", "d/x/"+k, "data of "+k)
	}
	require.NoError(t, p.b.SetContent("dst", "d/x/sha-differs", []byte("DATA OF SHA-DIFFERS")))
	require.NoError(t, p.b.Tamper("dst", "d/x/sha-differs", func(o *objectstore.ObjectInfo) { o.Checksums.SHA256 = "changed" }))
	require.NoError(t, p.b.SetContent("dst", "d/x/content-differs", []byte("DATA OF CONTENT-DIFFERS")))
	for _, k := range []string{"sha", "sha-differs"} {
		require.NoError(t, p.a.Tamper("src", "s/"+k, multipart))
		require.NoError(t, p.b.Tamper("dst", "d/x/"+k, multipart))
	}
	for _, k := range []string{"content", "content-differs"} {
		require.NoError(t, p.a.Tamper("src", "s/"+k, noChecksums))
		require.NoError(t, p.b.Tamper("dst", "d/x/"+k, noChecksums))
	}
	c := p.compare(t, CompareOptions{Mode: ModeChecksum})
	assert.Equal(t, 2, c.Same)
	assert.Equal(t, 2, c.Differs)
	assert.Equal(t, map[string]int{"sha256": 2, "content": 2}, c.ComparedBy)
	assert.Equal(t, []string{"content-differs", "sha-differs"}, keysOf(c.Objects))
	assert.Contains(t, c.Objects[0].Detail, "content differs")
	assert.Contains(t, c.Objects[1].Detail, "SHA256")
}

func TestCompare_SampledIsReproducible(t *testing.T) {
	p := newPair(t, 0)
	for i := range 400 {
		k := fmt.Sprintf("k%04d", i)
		p.put(t, p.a, "src", "s/"+k, k)
		p.put(t, p.b, "dst", "d/x/"+k, k)
	}
	sample := func(seed int64, pct float64) []string {
		c := p.compare(t, CompareOptions{Mode: ModeSampled, SamplePercent: pct, Seed: seed})
		assert.Equal(t, 400, c.Same)
		cmp := comparer{opts: CompareOptions{Mode: ModeSampled, SamplePercent: pct, Seed: seed}}
		var keys []string
		for i := range 400 {
			if k := fmt.Sprintf("k%04d", i); cmp.sampled(k) {
				keys = append(keys, k)
			}
		}
		assert.Equal(t, len(keys), c.ComparedBy["content"], "the comparison downloads exactly the sampled keys")
		return keys
	}
	a, b := sample(42, 10), sample(42, 10)
	assert.Equal(t, a, b, "same seed, same sample")
	assert.InDelta(t, 40, len(a), 20, "about 10%% of 400")
	assert.NotEqual(t, a, sample(7, 10), "another seed, another sample")
	assert.Len(t, sample(1, 100), 400)
}

func TestCompare_UnsortedListingIsAnError(t *testing.T) {
	p := newPair(t, 0)
	for _, k := range []string{"a", "b", "c"} {
		p.put(t, p.a, "src", "s/"+k, k)
		p.put(t, p.b, "dst", "d/x/"+k, k)
	}
	p.b.Unsorted = true
	_, err := Compare(context.Background(), Side{Store: p.a, Bucket: "src", Prefix: "s/"}, Side{Store: p.b, Bucket: "dst", Prefix: "d/x/"}, CompareOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not in ascending key order")
	assert.Contains(t, err.Error(), "http://b.test")
}

func TestCompare_TruncatesObjectsNotCounts(t *testing.T) {
	p := newPair(t, 0)
	for i := range 30 {
		p.put(t, p.a, "src", fmt.Sprintf("s/%02d", i), "x")
	}
	c := p.compare(t, CompareOptions{MaxObjectResults: 10})
	assert.Equal(t, 30, c.Missing)
	assert.Len(t, c.Objects, 10)
	assert.True(t, c.ObjectsTruncated)
	assert.Equal(t, "- 00", c.Objects[0].Combined())
	assert.Equal(t, "- 09", c.Objects[9].Combined(), "the first 10 in key order, whatever order the workers finished in")
}

func TestCompare_Exclude(t *testing.T) {
	p := newPair(t, 0)
	p.put(t, p.a, "src", "s/canary/1", "x")
	p.put(t, p.a, "src", "s/data", "x")
	p.put(t, p.b, "dst", "d/x/data", "x")
	p.put(t, p.b, "dst", "d/x/canary/2", "x")
	c := p.compare(t, CompareOptions{Exclude: "canary/"})
	assert.Equal(t, Comparison{Same: 1, ComparedBy: map[string]int{"etag": 1}}, c)
}

// slowStore counts the requests in flight.
type slowStore struct {
	*memstore.Store
	inflight, peak atomic.Int64
}

func (s *slowStore) ReadObject(ctx context.Context, bucket, key, v string, w io.Writer) (int64, error) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(time.Millisecond)
	return s.Store.ReadObject(ctx, bucket, key, v, w)
}

func TestCompare_ConcurrencyIsBounded(t *testing.T) {
	p := newPair(t, 0)
	for i := range 100 {
		k := fmt.Sprintf("%03d", i)
		p.put(t, p.a, "src", "s/"+k, k)
		p.put(t, p.b, "dst", "d/x/"+k, k)
	}
	src := &slowStore{Store: p.a}
	c, err := Compare(context.Background(), Side{Store: src, Bucket: "src", Prefix: "s/"}, Side{Store: p.b, Bucket: "dst", Prefix: "d/x/"},
		CompareOptions{Mode: ModeContent, Concurrency: 4})
	require.NoError(t, err)
	assert.Equal(t, 100, c.Same)
	assert.LessOrEqual(t, src.peak.Load(), int64(4))
	assert.Greater(t, src.peak.Load(), int64(1), "requests do run in parallel")
}

// TestCompare_GeneratedBucketsStream: two generated buckets compare
// without being stored, a page at a time.
func TestCompare_GeneratedBucketsStream(t *testing.T) {
	const n = 20_000
	gen := func(i int) objectstore.ObjectInfo {
		key := fmt.Sprintf("g/%08d", i)
		sum := md5.Sum([]byte(key))
		return objectstore.ObjectInfo{Key: key, Size: 100, ETag: hex.EncodeToString(sum[:])}
	}
	a, b := memstore.New(), memstore.New()
	a.AddGenerated("src", n, gen)
	b.AddGenerated("dst", n, gen)
	c, err := Compare(context.Background(), Side{Store: a, Bucket: "src", Prefix: "g/"}, Side{Store: b, Bucket: "dst", Prefix: "g/"}, CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, n, c.Same)
	assert.Equal(t, n/1000, a.Calls()["ListObjects"])
}

// TestCompare_DirectoriesOnOneSide: a directory found on one side only is
// listed whole, its objects counted missing or extra, nested ones too.
func TestCompare_DirectoriesOnOneSide(t *testing.T) {
	p := newPair(t, 2)
	for _, k := range []string{"both/1", "both/deep/2", "srconly/a", "srconly/deep/er/b", "top"} {
		p.put(t, p.a, "src", "s/"+k, k)
	}
	for _, k := range []string{"both/1", "both/deep/2", "dstonly/c", "dstonly/d/e", "top"} {
		p.put(t, p.b, "dst", "d/x/"+k, k)
	}
	c := p.compare(t, CompareOptions{})
	assert.Equal(t, 3, c.Same)
	assert.Equal(t, 2, c.Missing)
	assert.Equal(t, 2, c.Extra)
	var got []string
	for _, o := range c.Objects {
		got = append(got, o.Combined())
	}
	assert.Equal(t, []string{"+ dstonly/c", "+ dstonly/d/e", "- srconly/a", "- srconly/deep/er/b"}, got)

	c = p.compare(t, CompareOptions{Exclude: "srconly/"})
	assert.Equal(t, 0, c.Missing, "excluded directory")
	c = p.compare(t, CompareOptions{Exclude: "dstonly/d/"})
	assert.Equal(t, 1, c.Extra, "excluded nested directory")
}

func TestCompare_CancelledContext(t *testing.T) {
	p := newPair(t, 1)
	for i := range 50 {
		k := fmt.Sprintf("d%02d/k", i)
		p.put(t, p.a, "src", "s/"+k, k)
		p.put(t, p.b, "dst", "d/x/"+k, k)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Compare(ctx, Side{Store: p.a, Bucket: "src", Prefix: "s/"}, Side{Store: p.b, Bucket: "dst", Prefix: "d/x/"}, CompareOptions{})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotEmpty(t, c.Error)
}

// TestCheckProtection_ReplicationLagIsNotAMissingCopy: objects the
// primary still owes its replication target (x-amz-replication-status
// PENDING or FAILED, as MinIO reports on the source) are "not yet
// replicated", with the age of the oldest, apart from "missing" (issue
// 14, item 2); past the scenario's bound the copy fails; an object the
// primary calls COMPLETED but the copy lacks is a real loss.
func TestCheckProtection_ReplicationLagIsNotAMissingCopy(t *testing.T) {
	dir := backupPrefix(veleroPrefix, backupName)
	// primaryOnly writes key on the primary only, age before the check,
	// with the given replication status.
	primaryOnly := func(t *testing.T, f *fixture, key string, age time.Duration, st objectstore.ReplicationStatus) {
		now := f.now
		f.now = now.Add(-age)
		_, err := f.primary.PutObject(context.Background(), bucketPrimary, dir+key, []byte("new "+key), objectstore.PutOptions{})
		require.NoError(t, err)
		f.now = now
		require.NoError(t, f.primary.SetReplicationStatus(bucketPrimary, dir+key, st))
	}
	cases := []struct {
		name    string
		damage  func(t *testing.T, f *fixture)
		lag     time.Duration
		status  finding.Status
		counts  Comparison
		message []string
		detail  string
	}{
		{
			name: "pending for 10 minutes: lag, a warning",
			damage: func(t *testing.T, f *fixture) {
				primaryOnly(t, f, "late-1.json", 10*time.Minute, objectstore.ReplicationPending)
				primaryOnly(t, f, "late-2.json", 3*time.Minute, objectstore.ReplicationPending)
			},
			status: finding.StatusWarn,
			counts: Comparison{Same: 6, NotReplicated: 2},
			message: []string{"copy offsite holds every object the primary has replicated; 2 not yet replicated, the oldest waiting 10m00s (allowed 1h00m): replication lag, not a loss",
				"0 missing"},
			detail: "replication PENDING on the primary for 10m00s (written 2026-03-01T03:50:00Z); not on the copy yet",
		},
		{
			name: "failed for 2 hours: past the default bound",
			damage: func(t *testing.T, f *fixture) {
				primaryOnly(t, f, "stuck.json", 2*time.Hour, objectstore.ReplicationFailed)
			},
			status:  finding.StatusFail,
			counts:  Comparison{Same: 6, NotReplicated: 1},
			message: []string{"copy offsite is behind: 1 object not yet replicated, the oldest waiting 2h00m, longer than the 1h00m allowed (maxReplicationLag)"},
			detail:  "replication FAILED on the primary for 2h00m",
		},
		{
			name: "pending for 20 minutes, 15 allowed",
			damage: func(t *testing.T, f *fixture) {
				primaryOnly(t, f, "late.json", 20*time.Minute, objectstore.ReplicationPending)
			},
			lag:     15 * time.Minute,
			status:  finding.StatusFail,
			counts:  Comparison{Same: 6, NotReplicated: 1},
			message: []string{"longer than the 15m00s allowed"},
		},
		{
			name: "overwritten, the new version pending: lag, not a difference",
			damage: func(t *testing.T, f *fixture) {
				_, err := f.primary.PutObject(context.Background(), bucketPrimary, dir+"velero-backup.json", []byte(`{"rewritten":true}`), objectstore.PutOptions{})
				require.NoError(t, err)
				require.NoError(t, f.primary.SetReplicationStatus(bucketPrimary, dir+"velero-backup.json", objectstore.ReplicationPending))
			},
			status: finding.StatusWarn,
			counts: Comparison{Same: 5, NotReplicated: 1},
			detail: "the copy still holds another version (size",
		},
		{
			name: "replicated, yet not on the copy: missing",
			damage: func(t *testing.T, f *fixture) {
				primaryOnly(t, f, "lost.json", time.Hour, objectstore.ReplicationCompleted)
			},
			status:  finding.StatusFail,
			counts:  Comparison{Same: 6, Missing: 1},
			message: []string{"copy offsite does not match the primary: 6 same, 1 missing"},
			detail:  "not on the copy, although the primary reports its replication COMPLETED",
		},
		{
			name:   "no replication status (Versity, a copy job): missing",
			damage: func(t *testing.T, f *fixture) { primaryOnly(t, f, "lost.json", time.Minute, "") },
			status: finding.StatusFail,
			counts: Comparison{Same: 6, Missing: 1},
			detail: "not on the copy",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).build()
			tc.damage(t, f)
			spec := f.spec()
			spec.Copies[0].MaxReplicationLag = tc.lag
			res := check(t, spec)
			cf := findingByID(t, res, "protection.copy.offsite")
			assert.Equal(t, tc.status, cf.Status, cf.Message)
			cmp := res.Copies[0].Comparison
			got := Comparison{Same: cmp.Same, Missing: cmp.Missing, Differs: cmp.Differs, NotReplicated: cmp.NotReplicated, Extra: cmp.Extra, Errors: cmp.Errors}
			assert.Equal(t, tc.counts, got)
			for _, m := range tc.message {
				assert.Contains(t, cf.Message, m)
			}
			if tc.detail != "" {
				require.NotEmpty(t, cmp.Objects)
				assert.Contains(t, cmp.Objects[0].Detail, tc.detail)
			}
			if tc.counts.NotReplicated > 0 {
				require.NotNil(t, cmp.OldestNotReplicated)
				assert.Equal(t, StatusNotReplicated, cmp.Objects[0].Status)
				assert.Equal(t, "- "+cmp.Objects[0].Key, cmp.Objects[0].Combined())
			} else {
				assert.Nil(t, cmp.OldestNotReplicated)
			}
		})
	}
}
