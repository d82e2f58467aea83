package objectstore

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// versionsXML is a ListObjectVersions answer as MinIO writes it: versions
// and delete markers interleaved in key order, entities, owners, a
// checksum algorithm, an older version of a key behind its latest.
const versionsXML = `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>lab/kopia/</Prefix><KeyMarker></KeyMarker>` +
	`<NextKeyMarker>lab/kopia/shop/q&amp;1</NextKeyMarker><NextVersionIdMarker>v-&#34;4</NextVersionIdMarker><VersionIdMarker></VersionIdMarker>` +
	`<MaxKeys>4</MaxKeys><Delimiter></Delimiter><IsTruncated>true</IsTruncated>` +
	`<Version><Key>lab/kopia/shop/kopia.repository</Key><LastModified>2026-11-22T17:33:06.123Z</LastModified><ETag>&#34;9f5b6d9a034d175868bf593885b7dc4e&#34;</ETag>` +
	`<Size>421</Size><Owner><ID>02d6</ID><DisplayName>minio</DisplayName></Owner><StorageClass>STANDARD</StorageClass><IsLatest>true</IsLatest><VersionId>v-1</VersionId>` +
	`<ChecksumAlgorithm>SHA256</ChecksumAlgorithm></Version>` +
	`<DeleteMarker><Key>lab/kopia/shop/p0 &amp; gone</Key><LastModified>2026-11-23T01:00:00Z</LastModified><Owner><ID>02d6</ID><DisplayName>minio</DisplayName></Owner>` +
	`<IsLatest>true</IsLatest><VersionId>v-2</VersionId></DeleteMarker>` +
	`<Version><Key>lab/kopia/shop/p0 &amp; gone</Key><LastModified>2026-11-22T17:33:07Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag>` +
	`<Size>123456789012</Size><StorageClass>STANDARD</StorageClass><IsLatest>false</IsLatest><VersionId>v-3</VersionId></Version>` +
	`<Version><Key>lab/kopia/shop/q&amp;1</Key><LastModified>2026-11-22T17:33:08Z</LastModified><ETag>"0cc175b9c0f1b6a831c399e269772661-2"</ETag>` +
	`<Size>1</Size><StorageClass>STANDARD</StorageClass><IsLatest>true</IsLatest><VersionId>v-"4</VersionId></Version>` +
	`</ListVersionsResult>`

// TestListVersions_FastDecodingMatchesSDK: the fast decoder and the SDK's
// read the same version listing the same way.
func TestListVersions_FastDecodingMatchesSDK(t *testing.T) {
	url := serveXML(t, versionsXML)
	fast := newTestS3(t, url, nil)
	sdk := newTestS3(t, url, nil)
	sdk.sdkListDecoding = true

	got, err := fast.ListVersions(context.Background(), "b", VersionsRequest{Prefix: "lab/kopia/"})
	require.NoError(t, err)
	want, err := sdk.ListVersions(context.Background(), "b", VersionsRequest{Prefix: "lab/kopia/"})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	direct, err := decodeVersionsPage([]byte(versionsXML))
	require.NoError(t, err, "the fast decoder reads this page itself")
	assert.Equal(t, want, direct)

	require.Len(t, got.Versions, 4)
	assert.Equal(t, ObjectInfo{Key: "lab/kopia/shop/p0 & gone", VersionID: "v-2", LastModified: got.Versions[1].LastModified, IsLatest: true, DeleteMarker: true}, got.Versions[1])
	assert.Equal(t, "9f5b6d9a034d175868bf593885b7dc4e", got.Versions[0].ETag)
	assert.Equal(t, int64(123456789012), got.Versions[2].Size)
	assert.False(t, got.Versions[2].IsLatest)
	assert.Equal(t, "lab/kopia/shop/q&1", got.NextKeyMarker)
	assert.Equal(t, `v-"4`, got.NextVersionIDMarker)
	assert.True(t, got.IsTruncated)
}

func TestDecodeVersionsPage_LeavesTheUnexpectedToTheSDK(t *testing.T) {
	for name, body := range map[string]string{
		"cdata":           strings.Replace(versionsXML, "<Key>lab/kopia/shop/q&amp;1</Key>", "<Key><![CDATA[lab/kopia/shop/q&1]]></Key>", 1),
		"encoded keys":    strings.Replace(versionsXML, "<Delimiter></Delimiter>", "<EncodingType>url</EncodingType>", 1),
		"a list of keys":  listXML,
		"bad latest flag": strings.Replace(versionsXML, "<IsLatest>false</IsLatest>", "<IsLatest>no</IsLatest>", 1),
		"unclosed":        "<ListVersionsResult><Version>",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeVersionsPage([]byte(body))
			assert.ErrorIs(t, err, errUnexpectedXML)
		})
	}
	// Through the client, the SDK decodes what the fast path refuses.
	body := strings.Replace(versionsXML, "<Key>lab/kopia/shop/q&amp;1</Key>", "<Key><![CDATA[lab/kopia/shop/q&1]]></Key>", 1)
	p, err := newTestS3(t, serveXML(t, body), nil).ListVersions(context.Background(), "b", VersionsRequest{})
	require.NoError(t, err)
	require.Len(t, p.Versions, 4)
	assert.Equal(t, "lab/kopia/shop/q&1", p.Versions[3].Key)
}
