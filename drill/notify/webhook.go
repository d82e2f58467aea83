package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/secret"
)

// Format is the body a webhook receives.
type Format string

// The formats of Webhook.Format.
const (
	// FormatJSON: the Summary as JSON.
	FormatJSON Format = "json"
	// FormatSlack: {"text": "..."}, which Slack incoming webhooks and the
	// many chat tools compatible with them (Mattermost, Rocket.Chat,
	// Microsoft Teams workflows) accept.
	FormatSlack Format = "slack"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatJSON, FormatSlack:
		return f, nil
	}
	return "", fmt.Errorf("notification format %q: want json or slack", s)
}

// Defaults of Webhook.
const (
	DefaultAttempts = 4
	DefaultBackoff  = time.Second
	DefaultTimeout  = 30 * time.Second
)

// Webhook posts a drill's summary to a URL.
type Webhook struct {
	// URL receives a POST. It is never printed beyond its scheme and host
	// (see Origin): it often holds a token.
	URL    string
	Format Format
	// Client makes the requests (a zero http.Client when nil). Its
	// redirect policy is replaced: redirects are followed only within the
	// URL's own origin (see followSameOrigin).
	Client *http.Client
	// Attempts is how many times a delivery is tried; DefaultAttempts
	// when zero.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// further one; DefaultBackoff when zero. A Retry-After header asking
	// for longer is honoured.
	Backoff time.Duration
	// Timeout bounds the whole delivery, retries and waits included;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// UserAgent is sent as User-Agent; "firedrill" when empty.
	UserAgent string
	// Secrets are replaced in the body sent and in errors, beside the
	// URL's own token (see secret.Set.AddURL), which never is printed.
	Secrets *secret.Set
}

// Send delivers s. It retries network errors, 5xx and 429 answers, and
// gives up on other 4xx answers at once (the request itself is wrong, as
// with a revoked token). It returns nil once the webhook answered 2xx, or
// an error naming the webhook by its scheme and host, the attempts made
// and the last failure; when ctx ends or Timeout passes, the error wraps
// ctx's error.
func (w Webhook) Send(ctx context.Context, s Summary) error {
	target, err := parseURL(w.URL)
	if err != nil {
		return err
	}
	own := secret.New()
	own.AddURL(w.URL)
	err = w.send(ctx, target, s)
	// A server may echo the token, or what it was sent, in its answer.
	return w.Secrets.Error(own.Error(err))
}

var _ drill.Notifier = Webhook{}

// Notify implements drill.Notifier: it sends the drill's Summary.
func (w Webhook) Notify(ctx context.Context, rep *drill.Report, links drill.ReportLinks) error {
	return w.Send(ctx, NewSummary(rep, links.Local, links.Shared))
}

// String is the webhook's scheme and host (see Origin), never its token.
func (w Webhook) String() string { return Origin(w.URL) }

func (w Webhook) send(ctx context.Context, target *url.URL, s Summary) error {
	origin := originOf(target)
	body, err := w.body(s)
	if err != nil {
		return fmt.Errorf("notify %s: %w", origin, err)
	}
	body = w.Secrets.Redact(body)
	attempts, backoff, timeout := w.Attempts, w.Backoff, w.Timeout
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var last error
	for attempt := 1; ; attempt++ {
		wait, err := w.post(ctx, target, body)
		if err == nil {
			return nil
		}
		last = err
		var permanent *permanentError
		if errors.As(err, &permanent) {
			return fmt.Errorf("notify %s: %w (not retried)", origin, err)
		}
		if attempt == attempts {
			return fmt.Errorf("notify %s: gave up after %d attempts: %w", origin, attempts, last)
		}
		wait = max(wait, backoff)
		backoff *= 2
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("notify %s: gave up after %d of %d attempts, no time left within %s: %w", origin, attempt, attempts, timeout, last)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify %s: stopped after %d attempts (last: %v): %w", origin, attempt, last, context.Cause(ctx))
		case <-t.C:
		}
	}
}

func (w Webhook) body(s Summary) ([]byte, error) {
	switch w.Format {
	case FormatJSON, "":
		return json.Marshal(s)
	case FormatSlack:
		return json.Marshal(map[string]string{"text": s.Text()})
	}
	return nil, fmt.Errorf("notification format %q: want json or slack", w.Format)
}

// permanentError is an answer that retrying cannot change.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post makes one attempt. It returns how long the server asked to wait
// (Retry-After) before the next one, if it did.
func (w Webhook) post(ctx context.Context, target *url.URL, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{errors.New("cannot build the request")}
	}
	req.Header.Set("Content-Type", "application/json")
	ua := w.UserAgent
	if ua == "" {
		ua = "firedrill"
	}
	req.Header.Set("User-Agent", ua)
	client := http.Client{}
	if w.Client != nil {
		client = *w.Client
	}
	client.CheckRedirect = followSameOrigin(target)
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Error repeats the URL, token included.
			err = uerr.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	err = fmt.Errorf("answered %s%s", resp.Status, bodyText(snippet, target))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After")), err
	case resp.StatusCode >= 400:
		return 0, &permanentError{err}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return 0, &permanentError{redirectError(resp, target, err)}
	default:
		// 1xx will not change either.
		return 0, &permanentError{err}
	}
}

// maxRedirects bounds the redirects a delivery follows.
const maxRedirects = 5

// followSameOrigin is the webhook client's redirect policy: a redirect is
// followed only within the webhook URL's own origin (scheme, host and
// port, as in RFC 6454), at most maxRedirects times. A 307 or 308 re-sends
// the summary, and any redirect would send the next request (and, for
// some clients, its headers) to a server the URL did not name; so a
// redirect to another origin, https to http included, is not followed and
// the delivery fails, naming where it was sent.
func followSameOrigin(target *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, target) || len(via) > maxRedirects {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// redirectError says why a redirect was not followed, naming at most the
// origin it pointed to (its path may hold a token too).
func redirectError(resp *http.Response, target *url.URL, err error) error {
	loc, lerr := resp.Location()
	switch {
	case lerr != nil:
		return fmt.Errorf("%w, a redirect without a usable Location", err)
	case !sameOrigin(loc, target):
		return fmt.Errorf("%w, a redirect to %s, which is not followed: a webhook is followed only within its own origin %s", err, originOf(loc), originOf(target))
	}
	return fmt.Errorf("%w after %d redirects, which is as many as are followed", err, maxRedirects)
}

// bodyText is the start of an error answer, on one line, without the
// URL's path or query (where tokens are) should the server echo them.
func bodyText(b []byte, target *url.URL) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	for _, secret := range []string{target.String(), target.EscapedPath(), target.RawQuery} {
		if len(secret) > 1 {
			s = strings.ReplaceAll(s, secret, "…")
		}
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// retryAfter reads a Retry-After header in seconds (the HTTP-date form is
// rare for webhooks and is ignored).
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// CheckURL says whether raw can be a webhook URL, naming at most its
// scheme and host.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

// Origin is what may be printed of a webhook URL: scheme://host, or
// "the webhook" when raw is not a URL.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the webhook"
	}
	return originOf(u)
}

func originOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// Not echoed: the URL may hold a token.
		return nil, errors.New("notify webhook: not a valid URL; want https://HOST/PATH")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("notify webhook: want an http:// or https:// URL with a host")
	}
	return u, nil
}
