package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"testing"
)

// emptyEntriesBundle is a small gzip of a great many empty entries under
// one drill's directory: what a hostile bundle costs Verify in memory.
func emptyEntriesBundle(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	tw := tar.NewWriter(gz)
	for i := range n {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("fd-1/%08d", i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatUSTAR}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkVerify_ManyEmptyEntries reports, beside allocations, the
// bundle's size and what of the heap Verify's result still holds. The
// 400,000 entries are a 2 MB bundle (before the entry limit: 13.5 GB
// allocated, 325 MB peak RSS of 'firedrill evidence verify', 17 s); the
// 10,000 are as many as a bundle may have.
func BenchmarkVerify_ManyEmptyEntries(b *testing.B) {
	_, pub := testKey(b)
	for _, n := range []int{maxEntries, 400_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bundle := emptyEntriesBundle(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			var held uint64
			for range b.N {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				v, err := Verify(bytes.NewReader(bundle), pub)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if after.HeapAlloc > before.HeapAlloc {
					held = max(held, after.HeapAlloc-before.HeapAlloc)
				}
				runtime.KeepAlive(v)
			}
			b.ReportMetric(float64(len(bundle))/(1<<20), "bundle-MB")
			b.ReportMetric(float64(held)/(1<<20), "held-MB")
		})
	}
}
