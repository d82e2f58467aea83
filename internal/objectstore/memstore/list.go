package memstore

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// AddGenerated adds a bucket of n objects whose descriptions gen returns
// on demand, in ascending key order of i, without storing them. Listings
// and Head work; ReadObject answers the object's ETag as content.
func (s *Store) AddGenerated(name string, n int, gen func(i int) objectstore.ObjectInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = &bucket{versioning: "Enabled", gen: &generated{n: n, gen: gen}, objects: map[string][]*version{}}
}

// ListObjects implements objectstore.S3's method of the same name.
func (s *Store) ListObjects(ctx context.Context, name string, req objectstore.ListRequest) (objectstore.ListPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("ListObjects", name, req.Prefix, ""); err != nil {
		return objectstore.ListPage{}, err
	}
	b, err := s.bucket("ListObjectsV2", name)
	if err != nil {
		return objectstore.ListPage{}, err
	}
	after := req.ContinuationToken
	var p objectstore.ListPage
	limit := s.pageSize(req.MaxKeys)
	n, i := b.count(), b.search(max(after, req.Prefix))
	for ; i < n; i++ {
		key := b.key(i)
		if key <= after {
			continue
		}
		if !strings.HasPrefix(key, req.Prefix) {
			break
		}
		if len(p.Objects)+len(p.CommonPrefixes) == limit {
			p.IsTruncated = true
			break
		}
		if req.Delimiter != "" {
			if j := strings.Index(key[len(req.Prefix):], req.Delimiter); j >= 0 {
				cp := key[:len(req.Prefix)+j+len(req.Delimiter)]
				p.CommonPrefixes = append(p.CommonPrefixes, cp)
				after = cp + "\U0010FFFF"
				p.NextContinuationToken = after
				i = b.search(after) - 1
				continue
			}
		}
		info, ok := b.latest(i)
		if !ok {
			continue
		}
		p.Objects = append(p.Objects, info)
		p.NextContinuationToken = key
	}
	if !p.IsTruncated {
		p.NextContinuationToken = ""
	}
	if s.Unsorted {
		slices.Reverse(p.Objects)
	}
	return p, nil
}

func (b *bucket) count() int {
	if b.gen != nil {
		return b.gen.n
	}
	return len(b.keys)
}

func (b *bucket) key(i int) string {
	if b.gen != nil {
		return b.gen.gen(i).Key
	}
	return b.keys[i]
}

// search returns the index of the first key >= key.
func (b *bucket) search(key string) int {
	return sort.Search(b.count(), func(i int) bool { return b.key(i) >= key })
}

func (b *bucket) latest(i int) (objectstore.ObjectInfo, bool) {
	if b.gen != nil {
		info := b.gen.gen(i)
		info.IsLatest = true
		return info, true
	}
	vs := b.objects[b.keys[i]]
	if len(vs) == 0 || vs[0].deleteMarker {
		return objectstore.ObjectInfo{}, false
	}
	info := vs[0].info
	info.VersionID, info.IsLatest, info.Checksums = "", true, objectstore.Checksums{}
	return info, true
}

// ListVersions implements objectstore.S3's method of the same name.
func (s *Store) ListVersions(ctx context.Context, name string, req objectstore.VersionsRequest) (objectstore.VersionsPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("ListVersions", name, req.Prefix, ""); err != nil {
		return objectstore.VersionsPage{}, err
	}
	b, err := s.bucket("ListObjectVersions", name)
	if err != nil {
		return objectstore.VersionsPage{}, err
	}
	var p objectstore.VersionsPage
	limit := s.pageSize(req.MaxKeys)
	if s.IgnoreVersionMarkers {
		req.KeyMarker, req.VersionIDMarker = "", ""
	}
	for i := b.search(max(req.KeyMarker, req.Prefix)); i < b.count(); i++ {
		key := b.key(i)
		if !strings.HasPrefix(key, req.Prefix) {
			break
		}
		if b.gen != nil {
			if key <= req.KeyMarker {
				continue
			}
			if len(p.Versions) == limit {
				p.IsTruncated = true
				break
			}
			info, _ := b.latest(i)
			p.Versions = append(p.Versions, info)
			p.NextKeyMarker, p.NextVersionIDMarker = key, info.VersionID
			continue
		}
		vs := b.objects[key]
		skipping := key == req.KeyMarker
		for j, v := range vs {
			if skipping {
				if v.id == req.VersionIDMarker || req.VersionIDMarker == "" && j == len(vs)-1 {
					skipping = false
				}
				continue
			}
			if len(p.Versions) == limit {
				p.IsTruncated = true
				break
			}
			info := v.info
			info.IsLatest, info.DeleteMarker, info.Checksums = j == 0, v.deleteMarker, objectstore.Checksums{}
			info.ChecksumAlgorithms = nil
			p.Versions = append(p.Versions, info)
			p.NextKeyMarker, p.NextVersionIDMarker = key, v.id
		}
		if p.IsTruncated {
			break
		}
	}
	if !p.IsTruncated {
		p.NextKeyMarker, p.NextVersionIDMarker = "", ""
	}
	return p, nil
}
