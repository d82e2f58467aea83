package objectstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cannedHTTP answers every request with the same ListObjectsV2 body, so a
// benchmark or a fuzz run measures the SDK's stack and the decoders, not
// a network.
type cannedHTTP struct{ body []byte }

func (c cannedHTTP) Do(*http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK",
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
	}, nil
}

// cannedS3 is an S3 whose every ListObjectsV2 answer is body; sdk turns
// decodeListPage off.
func cannedS3(body []byte, sdk bool) *S3 {
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		HTTPClient:       cannedHTTP{body},
		RetryMaxAttempts: 1,
	})
	return &S3{client: client, endpoint: "canned", opTimeout: time.Minute, sdkListDecoding: sdk}
}

// listPage1000 is a 1,000-object page as MinIO writes it for a kopia
// repository (about 330 KB).
func listPage1000() []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>`)
	for i := range 1000 {
		fmt.Fprintf(&sb, `<Contents><Key>lab/kopia/ns-0/p%032d</Key><LastModified>2026-11-22T17:33:06.123Z</LastModified><ETag>&#34;9f5b6d9a034d175868bf593885b7dc4e&#34;</ETag><Size>1024</Size><Owner><ID>02d6</ID><DisplayName>minio</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>`, i)
	}
	sb.WriteString(`</ListBucketResult>`)
	return []byte(sb.String())
}

// BenchmarkListObjects compares, on the same 1,000-object page and through
// the same SDK stack (signing, retries, middleware), decodeListPage with
// the SDK's own encoding/xml decoder: the reason firedrill keeps its own
// decoder. Run: go test ./internal/objectstore -run '^$' -bench ListObjects -benchmem
func BenchmarkListObjects(b *testing.B) {
	body := listPage1000()
	for _, bc := range []struct {
		name string
		sdk  bool
	}{{"decodeListPage", false}, {"SDK", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := cannedS3(body, bc.sdk)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.ListObjects(context.Background(), "b", ListRequest{Prefix: "lab/"})
				if err != nil || len(p.Objects) != 1000 {
					b.Fatalf("%d objects, %v", len(p.Objects), err)
				}
			}
		})
	}
}

// TestListObjects_CannedPageMatchesSDK: the benchmark's page decodes the
// same both ways, so the benchmark compares equal work.
func TestListObjects_CannedPageMatchesSDK(t *testing.T) {
	body := listPage1000()
	fast, err := cannedS3(body, false).ListObjects(context.Background(), "b", ListRequest{})
	require.NoError(t, err)
	sdk, err := cannedS3(body, true).ListObjects(context.Background(), "b", ListRequest{})
	require.NoError(t, err)
	require.Len(t, fast.Objects, 1000)
	assert.Equal(t, sdk, fast)
}

// FuzzDecodeListPage is a differential test: whenever both decoders accept
// a page, they read the same objects, prefixes and continuation from it.
// Pages decodeListPage refuses go to the SDK anyway; pages only the SDK
// refuses are wrong in a field firedrill does not read.
func FuzzDecodeListPage(f *testing.F) {
	f.Add([]byte(strings.Replace(listXML, "<EncodingType></EncodingType>", "", 1)))
	f.Add([]byte(`<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>`))
	f.Add([]byte(`<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>`))
	f.Add([]byte(`<?xml version="1.0"?><ListBucketResult><Contents><Key>&lt;&#x41;&#66;</Key><ETag>"x"</ETag><LastModified>2026-01-02T03:04:05Z</LastModified></Contents></ListBucketResult>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, err := decodeListPage(body)
		if err != nil {
			return
		}
		if fast.IsTruncated && fast.NextContinuationToken == "" {
			return // ListObjects refuses such a page both ways
		}
		sdk, err := cannedS3(body, true).ListObjects(context.Background(), "b", ListRequest{})
		if err != nil {
			// The SDK also checks fields firedrill never reads (KeyCount,
			// MaxKeys, ...); a page only a real server's bug could write.
			t.Skip("the SDK refuses this page")
		}
		if !assert.ObjectsAreEqual(normalise(sdk), normalise(fast)) {
			t.Fatalf("decoders differ on %q:\nfast %+v\nsdk  %+v", body, fast, sdk)
		}
	})
}

// normalise makes empty and nil slices equal.
func normalise(p ListPage) ListPage {
	if len(p.Objects) == 0 {
		p.Objects = nil
	}
	if len(p.CommonPrefixes) == 0 {
		p.CommonPrefixes = nil
	}
	for i := range p.Objects {
		if len(p.Objects[i].ChecksumAlgorithms) == 0 {
			p.Objects[i].ChecksumAlgorithms = nil
		}
	}
	return p
}
