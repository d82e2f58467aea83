package scenarios

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// awsRegion is the shape of AWS region names (eu-west-1, us-gov-west-1,
// ap-southeast-2), which Wasabi, Backblaze B2 (us-west-004), Linode and
// others copy in their endpoint host names.
var awsRegion = regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]{1,3}$`)

// s3Provider is an S3 service whose endpoint host names follow a known
// pattern: [BUCKET.]s3[-REGION|.REGION].SUFFIX.
type s3Provider struct {
	suffix string
	// regionBound: the service refuses requests signed for a region other
	// than the endpoint's (AWS answers AuthorizationHeaderMalformed or a
	// redirect, Wasabi likewise), so a mismatch can only fail: an error.
	regionBound bool
}

var s3Providers = []s3Provider{
	{suffix: "amazonaws.com", regionBound: true},
	{suffix: "amazonaws.com.cn", regionBound: true},
	{suffix: "wasabisys.com", regionBound: true},
	{suffix: "backblazeb2.com"},
}

func providerOf(host string) *s3Provider {
	for i, p := range s3Providers {
		if host == p.suffix || strings.HasSuffix(host, "."+p.suffix) {
			return &s3Providers[i]
		}
	}
	return nil
}

// regionInHost is the region a host name names: a label shaped like an
// AWS region, or AWS's older "s3-REGION" label.
func regionInHost(labels []string) string {
	for _, l := range labels {
		if awsRegion.MatchString(l) {
			return l
		}
		if r, ok := strings.CutPrefix(l, "s3-"); ok && awsRegion.MatchString(r) {
			return r
		}
	}
	return ""
}

// bucketInHost is the bucket a provider's virtual-hosted-style host name
// holds: the labels before the "s3" (or "s3-...") label; empty for a
// path-style host.
func bucketInHost(labels []string) (bucket, service string) {
	for i, l := range labels {
		if l == "s3" || strings.HasPrefix(l, "s3-") {
			return strings.Join(labels[:i], "."), strings.Join(labels[i:], ".")
		}
	}
	return "", ""
}

// endpoint checks what the host name of a bucket's endpoint says against
// the bucket's region and bucket name (issue 14, item 7). On the hosts of
// known providers the pattern is certain and a contradiction can only make
// every request fail or address another bucket: an error. On other hosts
// a region-shaped label or a leading bucket name may be a coincidence of
// naming: a warning.
func (v *validator) endpoint(p string, b Bucket) {
	u, err := url.Parse(b.Endpoint)
	if err != nil || u.Hostname() == "" {
		return
	}
	v.endpointPath(p, b, u)
	if net.ParseIP(u.Hostname()) != nil {
		return
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	labels := strings.Split(host, ".")
	prov := providerOf(host)

	if in := regionInHost(labels); in != "" {
		region, at, said := b.Region, p+".region", "region is "+b.Region
		if region == "" {
			region, at, said = DefaultRegion, p+".endpoint", "region is not set, so requests are signed for "+DefaultRegion
		}
		if in != region {
			if prov != nil && prov.regionBound {
				v.errorf(at, "endpoint %s is in region %s but %s, which it refuses; set %s.region: %s", host, in, said, p, in)
			} else {
				v.warnf(at, "endpoint %s names region %s but %s; if the server is in %s, set %s.region: %s", host, in, said, in, p, in)
			}
		}
	}

	if b.Bucket == "" {
		return
	}
	if prov != nil {
		inHost, service := bucketInHost(labels)
		switch {
		case inHost == "":
		case inHost == b.Bucket:
			v.errorf(p+".endpoint", "already holds bucket %s (virtual-hosted style), and bucket is set too, so requests would address it twice; set endpoint: %s://%s and keep bucket: %s", b.Bucket, u.Scheme, service, b.Bucket)
		default:
			v.errorf(p+".endpoint", "is the address of bucket %s (virtual-hosted style), but bucket is %s; set endpoint: %s://%s and bucket to the bucket that holds the backups", inHost, b.Bucket, u.Scheme, service)
		}
		return
	}
	if rest, ok := strings.CutPrefix(host, b.Bucket+"."); ok && strings.Contains(rest, ".") {
		v.warnf(p+".endpoint", "starts with the bucket name %s: if this is the bucket's virtual-hosted address, requests would address the bucket twice; set endpoint: %s://%s (the server's own address) and keep bucket: %s", b.Bucket, u.Scheme, rest, b.Bucket)
	}
}

// endpointPath checks the path of a bucket's endpoint (issue 14, item 7).
// An S3 endpoint is a server's address and has no path: the SDK appends
// /BUCKET/KEY (path style) or puts the bucket in the host name, so any
// path written here is sent before the bucket on every request. A path
// that is the bucket itself (the bucket's path-style address, copied from
// a console) makes requests address /BUCKET/BUCKET/KEY, which answer
// NoSuchKey or NoSuchBucket: an error. Any other path is most likely a
// mistake too, but a server behind a reverse proxy may be mounted under
// one: a warning.
func (v *validator) endpointPath(p string, b Bucket, u *url.URL) {
	path := strings.Trim(u.Path, "/")
	if path == "" {
		return
	}
	server := u.Scheme + "://" + u.Host
	first, rest, _ := strings.Cut(path, "/")
	if b.Bucket != "" && first == b.Bucket {
		fix := ""
		if rest != "" {
			fix = fmt.Sprintf(" and write %s in prefix", rest)
		}
		v.errorf(p+".endpoint", "holds bucket %s in its path (the bucket's path-style address), and bucket is set too, so every request would address /%s/%s/...; set endpoint: %s, keep bucket: %s%s", b.Bucket, b.Bucket, b.Bucket, server, b.Bucket, fix)
		return
	}
	v.warnf(p+".endpoint", "has the path /%s, but an S3 endpoint is the server's address and has no path (requests add /BUCKET/KEY to it); set endpoint: %s, unless the server is mounted under that path behind a proxy", path, server)
}
