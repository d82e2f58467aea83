package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/uploader"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// repository is one repository of Velero's file-system backup (node-agent
// with kopia, or restic before it) that a backup's volume data lives in:
// one per namespace, <prefix>/<type>/<namespace>/ in the bucket of the
// backup storage location (Velero v1.18's
// pkg/repository/provider/unified_repo.go, getStorageVariables: the
// prefix joined with the repository type and the BackupRepository's
// volumeNamespace).
type repository struct {
	typ       string // velerov1.BackupRepositoryTypeKopia or ...Restic
	namespace string
	// pvbs counts the PodVolumeBackups of the backup that name it.
	pvbs int
}

// prefix is the repository's key prefix under veleroPrefix.
func (r repository) prefix(veleroPrefix string) string {
	return keyPrefix(path.Join(veleroPrefix, r.typ, r.namespace))
}

// formatBlob is the object without which the repository cannot be
// opened: kopia's format blob, restic's config.
func (r repository) formatBlob() string {
	if r.typ == velerov1.BackupRepositoryTypeRestic {
		return "config"
	}
	return "kopia.repository"
}

// maxPodVolumeBackups bounds the podvolumebackups list read, compressed
// and decompressed; a PodVolumeBackup is about 1 KiB of JSON.
const maxPodVolumeBackups = 64 << 20

// readPodVolumeBackups reads backups/<name>/<name>-podvolumebackups.json.gz,
// the gzipped JSON list of PodVolumeBackups Velero stores with each backup
// (pkg/persistence/object_store_layout.go, getPodVolumeBackupsKey). A
// backup without file-system backups has no such object: nil, nil.
func readPodVolumeBackups(ctx context.Context, st ObjectLister, bucket, veleroPrefix, name string) ([]velerov1.PodVolumeBackup, error) {
	key := backupPrefix(veleroPrefix, name) + name + "-podvolumebackups.json.gz"
	var buf bytes.Buffer
	if _, err := st.ReadObject(ctx, bucket, key, "", &limitedWriter{w: &buf, n: maxPodVolumeBackups}); err != nil {
		if errors.Is(err, objectstore.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var pvbs []velerov1.PodVolumeBackup
	if err := json.NewDecoder(io.LimitReader(zr, maxPodVolumeBackups)).Decode(&pvbs); err != nil {
		return nil, fmt.Errorf("parse %s: %w", key, err)
	}
	return pvbs, nil
}

// pvbRepositoryType is the repository type of a PodVolumeBackup's
// uploader, as Velero decides it (pkg/podvolume/util.go,
// getRepositoryType): kopia for "kopia", restic for "restic" and for
// PodVolumeBackups older than the uploader type; "" for anything else.
func pvbRepositoryType(uploaderType string) string {
	switch uploaderType {
	case "", uploader.ResticType:
		return velerov1.BackupRepositoryTypeRestic
	case uploader.KopiaType:
		return velerov1.BackupRepositoryTypeKopia
	}
	return ""
}

// backupRepositories finds the repositories a backup's volume data is in:
// those its PodVolumeBackups name, and the kopia repositories found in
// the bucket of the namespaces the backup includes (Velero's data mover
// keeps its snapshots there too, and lists no PodVolumeBackup). vb may be
// nil when velero-backup.json could not be read; only the
// PodVolumeBackups count then. The result is sorted by type and
// namespace.
func backupRepositories(ctx context.Context, st ObjectLister, bucket, veleroPrefix, name string, vb *velerov1.Backup) ([]repository, error) {
	pvbs, err := readPodVolumeBackups(ctx, st, bucket, veleroPrefix, name)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*repository{}
	add := func(typ, ns string) *repository {
		k := typ + "/" + ns
		if byKey[k] == nil {
			byKey[k] = &repository{typ: typ, namespace: ns}
		}
		return byKey[k]
	}
	for _, p := range pvbs {
		typ := pvbRepositoryType(p.Spec.UploaderType)
		if typ == "" || p.Spec.Pod.Namespace == "" {
			return nil, fmt.Errorf("PodVolumeBackup %s of backup %s: uploader type %q of pod %s/%s names no repository firedrill knows (kopia, restic)",
				p.Name, name, p.Spec.UploaderType, p.Spec.Pod.Namespace, p.Spec.Pod.Name)
		}
		add(typ, p.Spec.Pod.Namespace).pvbs++
	}
	if vb != nil {
		dir := keyPrefix(path.Join(veleroPrefix, velerov1.BackupRepositoryTypeKopia))
		nss, err := listDirs(ctx, st, bucket, dir)
		if err != nil {
			return nil, err
		}
		for _, ns := range nss {
			if includesNamespace(vb.Spec, ns) {
				add(velerov1.BackupRepositoryTypeKopia, ns)
			}
		}
	}
	out := make([]repository, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b repository) int {
		return strings.Compare(a.typ+"/"+a.namespace, b.typ+"/"+b.namespace)
	})
	return out, nil
}

// includesNamespace reports whether a backup of spec includes namespace
// ns, as Velero's namespace includes/excludes decide it: no includes or
// "*" include every namespace; the excludes win; patterns are globs
// (Velero uses gobwas/glob; path.Match agrees on namespace names, which
// hold no "/").
func includesNamespace(spec velerov1.BackupSpec, ns string) bool {
	match := func(pats []string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(p, ns); ok {
				return true
			}
		}
		return false
	}
	if match(spec.ExcludedNamespaces) {
		return false
	}
	return len(spec.IncludedNamespaces) == 0 || match(spec.IncludedNamespaces)
}

// listDirs lists the directory names directly under dir ("a/b/").
func listDirs(ctx context.Context, st ObjectLister, bucket, dir string) ([]string, error) {
	var names []string
	req := objectstore.ListRequest{Prefix: dir, Delimiter: "/"}
	for {
		p, err := st.ListObjects(ctx, bucket, req)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s at %s: %w", bucket, dir, st.Endpoint(), err)
		}
		for _, cp := range p.CommonPrefixes {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(cp, dir), "/"))
		}
		if !p.IsTruncated {
			return names, nil
		}
		if p.NextContinuationToken == "" || p.NextContinuationToken == req.ContinuationToken {
			return nil, fmt.Errorf("list s3://%s/%s at %s: the server's continuation token does not advance", bucket, dir, st.Endpoint())
		}
		req.ContinuationToken = p.NextContinuationToken
	}
}
