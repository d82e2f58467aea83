package backup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Side is one side of a comparison: a prefix of a bucket.
type Side struct {
	Store  ObjectLister
	Bucket string
	// Prefix is a key prefix: empty, or ending in "/".
	Prefix string
}

// String is "s3://bucket/prefix at endpoint", for messages.
func (s Side) String() string {
	return fmt.Sprintf("s3://%s/%s at %s", s.Bucket, s.Prefix, s.Store.Endpoint())
}

// CompareOptions configure Compare.
type CompareOptions struct {
	// Mode is how objects are compared; default ModeChecksum.
	Mode CompareMode
	// SamplePercent and Seed select the objects ModeSampled downloads.
	SamplePercent float64
	Seed          int64
	// Concurrency bounds the HEAD and GET requests in flight; default 16.
	Concurrency int
	// MaxObjectResults bounds Comparison.Objects; default 1000.
	MaxObjectResults int
	// OnObject, if set, receives every object's outcome, from one
	// goroutine at a time.
	OnObject func(ObjectResult)
	// Exclude, if set, skips the keys that start with it (relative to the
	// prefixes) on both sides, e.g. the canary's objects.
	Exclude string
	// Now is the clock the age of objects not yet replicated is measured
	// with; default time.Now.
	Now func() time.Time
	// WrittenBefore, if set, leaves out the objects written on the
	// primary after it (their LastModified), and the copy's objects of
	// the same keys, counting them in Comparison.Later: what a backup
	// that completed before it cannot depend on, in a repository that
	// later backups keep writing to. The copy's own times say when the
	// copy was made, not when the data was, so they are not used.
	WrittenBefore time.Time
}

// Compare compares the objects under src.Prefix with those under
// dst.Prefix, matching keys relative to the prefixes. It walks both trees
// directory by directory ("/"), up to Concurrency/2 directories at a time,
// and merges the two sorted listings of each directory as they stream in,
// so memory stays at a few pages per directory being listed whatever the
// number of objects. Only the pairs the listings cannot settle (checksum
// and content modes) are fetched, by Concurrency workers.
//
// An object missing on the copy, or different there, whose version on
// the primary still waits for bucket replication (a HEAD on the primary,
// one per such object, reports x-amz-replication-status PENDING or
// FAILED) is counted as not
// yet replicated rather than missing or different: replication lag, not
// a loss. Servers that report no status (Versity) leave it missing.
//
// Per-object failures are counted as errors. Compare returns an error, and
// a Comparison covering what was compared so far with Error set, when a
// listing fails, comes out of order, or ctx is done.
func Compare(ctx context.Context, src, dst Side, opts CompareOptions) (Comparison, error) {
	if opts.Mode == "" {
		opts.Mode = ModeChecksum
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.MaxObjectResults <= 0 {
		opts.MaxObjectResults = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	c := &comparer{opts: opts, src: src, dst: dst,
		tally: &tally{max: opts.MaxObjectResults, onObject: opts.OnObject, by: map[string]int{}},
		jobs:  make(chan job, 2*opts.Concurrency)}
	var workers sync.WaitGroup
	for range opts.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range c.jobs {
				c.tally.add(j.run(ctx, src, dst, opts.Now))
			}
		}()
	}

	q := newTaskQueue(task{})
	var listers sync.WaitGroup
	for range max(1, opts.Concurrency/2) {
		listers.Add(1)
		go func() {
			defer listers.Done()
			for {
				tk, ok := q.pop()
				if !ok {
					return
				}
				if err := c.run(ctx, q, tk); err != nil {
					cancel(err)
					q.abort()
				}
				q.done()
			}
		}()
	}
	listers.Wait()
	close(c.jobs)
	workers.Wait()

	cmp := c.tally.comparison()
	if err := context.Cause(ctx); err != nil {
		cmp.Error = err.Error()
		return cmp, fmt.Errorf("compare %s with %s: %w", src, dst, err)
	}
	return cmp, nil
}

// task is one directory to compare, relative to both prefixes; with only
// set, a directory found on one side only, whose objects are all missing
// (only == StatusMissing) or extra.
type task struct {
	rel  string
	only ObjectStatus
}

// later reports whether a primary entry was written after the cutoff.
func (c *comparer) later(e *entry) bool {
	return !c.opts.WrittenBefore.IsZero() && !e.dir && e.obj.LastModified.After(c.opts.WrittenBefore)
}

func (c *comparer) excluded(rel string) bool {
	return c.opts.Exclude != "" && strings.HasPrefix(rel, c.opts.Exclude)
}

// run compares one directory: the merge of its two listings.
func (c *comparer) run(ctx context.Context, q *taskQueue, tk task) error {
	if tk.only != "" {
		return c.oneSided(ctx, tk)
	}
	a, b := newCursor(ctx, c.src, c.src.Prefix+tk.rel, "/"), newCursor(ctx, c.dst, c.dst.Prefix+tk.rel, "/")
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		x, y := a.peek(), b.peek()
		if a.err != nil || b.err != nil {
			return errors.Join(a.err, b.err)
		}
		var xr, yr string
		if x != nil {
			xr = x.name[len(c.src.Prefix):]
		}
		if y != nil {
			yr = y.name[len(c.dst.Prefix):]
		}
		switch {
		case x == nil && y == nil:
			return nil
		case x != nil && c.excluded(xr):
			a.next()
		case x != nil && c.later(x):
			if y != nil && yr == xr {
				b.next()
			}
			c.tally.addLater()
			a.next()
		case y != nil && c.excluded(yr):
			b.next()
		case y == nil || x != nil && xr < yr:
			if x.dir {
				q.push(task{rel: xr, only: StatusMissing})
			} else {
				c.recheck(ctx, xr, x.obj, ObjectResult{Key: xr, Status: StatusMissing, Detail: "not on the copy"}, "")
			}
			a.next()
		case x == nil || yr < xr:
			if y.dir {
				q.push(task{rel: yr, only: StatusExtra})
			} else {
				c.tally.add(outcome{res: ObjectResult{Key: yr, Status: StatusExtra, Detail: "only on the copy"}})
			}
			b.next()
		default:
			if x.dir {
				q.push(task{rel: xr})
			} else if res, by, ok := c.decide(xr, x.obj, y.obj); ok && res.Status == StatusDiffers {
				c.recheck(ctx, xr, x.obj, res, by)
			} else if ok {
				c.tally.add(outcome{res: res, by: by})
			} else {
				select {
				case c.jobs <- job{rel: xr, src: x.obj, dst: y.obj, content: c.contentOnly(xr)}:
				case <-ctx.Done():
				}
			}
			a.next()
			b.next()
		}
	}
}

// oneSided reports every object under a directory found on one side only.
func (c *comparer) oneSided(ctx context.Context, tk task) error {
	side, detail := c.src, "not on the copy"
	if tk.only == StatusExtra {
		side, detail = c.dst, "only on the copy"
	}
	cur := newCursor(ctx, side, side.Prefix+tk.rel, "")
	for e := cur.peek(); e != nil; e = cur.peek() {
		switch rel := e.name[len(side.Prefix):]; {
		case c.excluded(rel):
		case tk.only == StatusMissing && c.later(e):
			c.tally.addLater()
		case tk.only == StatusMissing:
			c.recheck(ctx, rel, e.obj, ObjectResult{Key: rel, Status: tk.only, Detail: detail}, "")
		default:
			c.tally.add(outcome{res: ObjectResult{Key: rel, Status: tk.only, Detail: detail}})
		}
		cur.next()
	}
	return cur.err
}

// recheck hands a missing or different object to the workers, which ask
// the primary whether replication still owes it to the copy.
func (c *comparer) recheck(ctx context.Context, rel string, src objectstore.ObjectInfo, prior ObjectResult, by string) {
	select {
	case c.jobs <- job{rel: rel, src: src, prior: &prior, by: by}:
	case <-ctx.Done():
	}
}

// comparer is one running comparison.
type comparer struct {
	opts     CompareOptions
	src, dst Side
	tally    *tally
	jobs     chan job
}

// decide settles a pair found on both sides from the listings alone, when
// the mode allows; ok is false when the pair needs a HEAD or a GET.
func (c *comparer) decide(rel string, x, y objectstore.ObjectInfo) (res ObjectResult, by string, ok bool) {
	same := ObjectResult{Key: rel, Status: StatusSame}
	if c.opts.Mode == ModeExistence {
		return same, "existence", true
	}
	if x.Size != y.Size {
		return ObjectResult{Key: rel, Status: StatusDiffers, Detail: fmt.Sprintf("size %d on primary, %d on copy", x.Size, y.Size)}, "size", true
	}
	switch c.opts.Mode {
	case ModeSize:
		return same, "size", true
	case ModeContent:
		return res, "", false
	case ModeSampled:
		if c.sampled(rel) {
			return res, "", false
		}
		if x.PlainMD5ETag() && y.PlainMD5ETag() {
			return etagResult(rel, x, y), "etag", true
		}
		return same, "size", true
	}
	// ModeChecksum: the listing's ETags, when both are plain MD5s of the
	// content, decide without a request.
	if x.PlainMD5ETag() && y.PlainMD5ETag() {
		return etagResult(rel, x, y), "etag", true
	}
	return res, "", false
}

// contentOnly reports whether a pair skips checksums and goes straight to
// the content.
func (c *comparer) contentOnly(rel string) bool {
	return c.opts.Mode == ModeContent || c.opts.Mode == ModeSampled
}

// sampled picks rel for content comparison with probability
// SamplePercent, from the key and the seed only, so a seed always picks
// the same objects.
func (c *comparer) sampled(rel string) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", c.opts.Seed, rel)
	return float64(h.Sum64()%1_000_000) < c.opts.SamplePercent*10_000
}

func etagResult(rel string, x, y objectstore.ObjectInfo) ObjectResult {
	if strings.EqualFold(x.ETag, y.ETag) {
		return ObjectResult{Key: rel, Status: StatusSame}
	}
	return ObjectResult{Key: rel, Status: StatusDiffers, Detail: fmt.Sprintf("MD5 %s on primary, %s on copy", x.ETag, y.ETag)}
}

// job is a pair the listings could not settle, or (prior set) an object
// found missing or different whose replication status decides.
type job struct {
	rel      string
	src, dst objectstore.ObjectInfo
	content  bool
	// prior is the listings' verdict, decided by by.
	prior *ObjectResult
	by    string
}

// outcome is a job's result: the object's, what decided it, and for an
// object not yet replicated when its primary version was written.
type outcome struct {
	res     ObjectResult
	by      string
	written time.Time
}

func (j job) run(ctx context.Context, src, dst Side, now func() time.Time) outcome {
	if ctx.Err() != nil {
		return outcome{res: j.errResult(ctx.Err())}
	}
	if j.prior != nil {
		// A HEAD that fails leaves the object as the listings found it.
		h, err := src.Store.Head(ctx, src.Bucket, j.src.Key, "")
		if err != nil {
			return outcome{res: *j.prior, by: j.by}
		}
		return j.replication(*j.prior, j.by, h, now)
	}
	if !j.content {
		hx, err := src.Store.Head(ctx, src.Bucket, j.src.Key, "")
		if err != nil {
			return outcome{res: j.errResult(fmt.Errorf("primary: %w", err))}
		}
		hy, err := dst.Store.Head(ctx, dst.Bucket, j.dst.Key, "")
		if err != nil {
			return outcome{res: j.errResult(fmt.Errorf("copy: %w", err))}
		}
		if alg, a, b, ok := hx.Checksums.Common(hy.Checksums); ok {
			by := strings.ToLower(alg)
			if a == b {
				return outcome{res: ObjectResult{Key: j.rel, Status: StatusSame}, by: by}
			}
			return j.replication(ObjectResult{Key: j.rel, Status: StatusDiffers, Detail: fmt.Sprintf("%s %s on primary, %s on copy", alg, a, b)}, by, hx, now)
		}
		// No checksum in common: only the content can tell.
	}
	a, err := contentHash(ctx, src, j.src.Key)
	if err != nil {
		return outcome{res: j.errResult(fmt.Errorf("primary: %w", err))}
	}
	b, err := contentHash(ctx, dst, j.dst.Key)
	if err != nil {
		return outcome{res: j.errResult(fmt.Errorf("copy: %w", err))}
	}
	if a == b {
		return outcome{res: ObjectResult{Key: j.rel, Status: StatusSame}, by: "content"}
	}
	res := ObjectResult{Key: j.rel, Status: StatusDiffers, Detail: fmt.Sprintf("content differs (SHA-256 %x on primary, %x on copy)", a[:8], b[:8])}
	h, err := src.Store.Head(ctx, src.Bucket, j.src.Key, "")
	if err != nil {
		return outcome{res: res, by: "content"}
	}
	return j.replication(res, "content", h, now)
}

// replication turns a missing or different object into one not yet
// replicated when the primary's version h still waits for replication.
func (j job) replication(res ObjectResult, by string, h objectstore.ObjectInfo, now func() time.Time) outcome {
	st := h.ReplicationStatus
	switch {
	case st.Waiting():
		written := h.LastModified
		if written.IsZero() {
			written = j.src.LastModified
		}
		was := "not on the copy yet"
		if res.Status == StatusDiffers {
			was = "the copy still holds another version (" + res.Detail + ")"
		}
		age := now().Sub(written)
		return outcome{res: ObjectResult{Key: j.rel, Status: StatusNotReplicated,
			Detail: fmt.Sprintf("replication %s on the primary for %s (written %s); %s", st, durText(age), written.UTC().Format(time.RFC3339), was)},
			by: by, written: written}
	case st == objectstore.ReplicationCompleted:
		res.Detail += ", although the primary reports its replication COMPLETED"
	}
	return outcome{res: res, by: by}
}

func (j job) errResult(err error) ObjectResult {
	return ObjectResult{Key: j.rel, Status: StatusError, Detail: err.Error()}
}

func contentHash(ctx context.Context, s Side, key string) ([sha256.Size]byte, error) {
	h := sha256.New()
	var sum [sha256.Size]byte
	if _, err := s.Store.ReadObject(ctx, s.Bucket, key, "", h); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// tally counts outcomes and keeps the first non-matching ones.
type tally struct {
	mu       sync.Mutex
	c        Comparison
	by       map[string]int
	max      int
	onObject func(ObjectResult)
}

func (t *tally) add(o outcome) {
	r, by := o.res, o.by
	t.mu.Lock()
	defer t.mu.Unlock()
	switch r.Status {
	case StatusNotReplicated:
		t.c.NotReplicated++
		if t.c.OldestNotReplicated == nil || o.written.Before(*t.c.OldestNotReplicated) {
			w := o.written.UTC()
			t.c.OldestNotReplicated = &w
		}
	case StatusSame:
		t.c.Same++
	case StatusMissing:
		t.c.Missing++
	case StatusExtra:
		t.c.Extra++
	case StatusDiffers:
		t.c.Differs++
	case StatusError:
		t.c.Errors++
	}
	if by != "" {
		t.by[by]++
	}
	if r.Status != StatusSame {
		t.keep(r)
	}
	if t.onObject != nil {
		t.onObject(r)
	}
}

// keep adds r to the objects reported, at most t.max of them: the first
// t.max in key order, whatever order the workers finish in, so the same
// buckets always give the same report.
func (t *tally) keep(r ObjectResult) {
	if len(t.c.Objects) < t.max {
		t.c.Objects = append(t.c.Objects, r)
		return
	}
	t.c.ObjectsTruncated = true
	last := 0
	for i, o := range t.c.Objects {
		if o.Key > t.c.Objects[last].Key {
			last = i
		}
	}
	if r.Key < t.c.Objects[last].Key {
		t.c.Objects[last] = r
	}
}

func (t *tally) addLater() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.Later++
}

func (t *tally) comparison() Comparison {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.c
	if len(t.by) > 0 {
		c.ComparedBy = t.by
	}
	slices.SortFunc(c.Objects, func(a, b ObjectResult) int { return strings.Compare(a.Key, b.Key) })
	return c
}
