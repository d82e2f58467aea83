package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// entry is one name in a directory listing: an object, or a common prefix
// (a "directory", its name ending in the delimiter).
type entry struct {
	name string // the full key or prefix
	dir  bool
	obj  objectstore.ObjectInfo
}

// listPage is one page of a listing, or the error that ended it.
type listPage struct {
	entries []entry
	err     error
}

// listPages lists prefix on side page by page in a goroutine, keeping at
// most prefetch pages ahead of the consumer: memory stays at a few pages
// whatever the number of objects. With delim set, keys below the next
// delimiter come back as directory entries. The channel is closed after
// the last page or the first error; cancelling ctx stops the goroutine.
func listPages(ctx context.Context, side Side, prefix, delim string, prefetch int) <-chan listPage {
	ch := make(chan listPage, prefetch)
	go func() {
		defer close(ch)
		req := objectstore.ListRequest{Prefix: prefix, Delimiter: delim}
		for {
			p, err := side.Store.ListObjects(ctx, side.Bucket, req)
			if err == nil && p.IsTruncated && (p.NextContinuationToken == "" || p.NextContinuationToken == req.ContinuationToken) {
				// A token that does not advance would repeat the page forever.
				err = fmt.Errorf("list s3://%s/%s at %s: the server's continuation token does not advance", side.Bucket, prefix, side.Store.Endpoint())
			}
			select {
			case ch <- listPage{entries: pageEntries(p), err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || !p.IsTruncated {
				return
			}
			req.ContinuationToken = p.NextContinuationToken
		}
	}()
	return ch
}

// pageEntries merges a page's objects and common prefixes into one list
// in key order, as S3 orders them.
func pageEntries(p objectstore.ListPage) []entry {
	es := make([]entry, 0, len(p.Objects)+len(p.CommonPrefixes))
	for _, o := range p.Objects {
		es = append(es, entry{name: o.Key, obj: o})
	}
	for _, cp := range p.CommonPrefixes {
		es = append(es, entry{name: cp, dir: true})
	}
	if len(p.CommonPrefixes) > 0 {
		slices.SortStableFunc(es, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	}
	return es
}

// cursor walks a stream of pages one entry at a time and checks that
// names come in strictly ascending order, which the merge relies on.
type cursor struct {
	side   Side
	prefix string
	pages  <-chan listPage
	cur    []entry
	i      int
	last   string
	err    error
	done   bool
}

func newCursor(ctx context.Context, side Side, prefix, delim string) *cursor {
	// Two pages ahead keep the server busy while the merge works through
	// the current page.
	return &cursor{side: side, prefix: prefix, pages: listPages(ctx, side, prefix, delim, 2)}
}

// peek returns the current entry, or nil at the end or after an error
// (see err).
func (c *cursor) peek() *entry {
	for !c.done && c.i >= len(c.cur) {
		p, ok := <-c.pages
		switch {
		case !ok:
			c.done = true
		case p.err != nil:
			c.err, c.done = p.err, true
		default:
			c.cur, c.i = p.entries, 0
		}
	}
	if c.done {
		return nil
	}
	e := &c.cur[c.i]
	if c.last != "" && e.name <= c.last || !strings.HasPrefix(e.name, c.prefix) {
		c.err = fmt.Errorf("listing of s3://%s/%s at %s is not in ascending key order (%q after %q); a merge cannot compare it",
			c.side.Bucket, c.prefix, c.side.Store.Endpoint(), e.name, c.last)
		c.done = true
		return nil
	}
	return e
}

// next moves past the current entry.
func (c *cursor) next() {
	c.last = c.cur[c.i].name
	c.i++
}
