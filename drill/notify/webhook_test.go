package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// token is the secret part of the webhook URLs of these tests, as in a
// Slack incoming webhook.
const token = "T0001/B0001/s3cretT0ken"

func failedDrill() drill.Report {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return drill.Report{
		DrillID: "fd-20261122-100000-abcd", Scenario: "region-loss", Result: drill.ResultFail,
		StartedAt: t0, FinishedAt: t0.Add(20 * time.Minute),
		RTO: drill.Measure(10*time.Minute, 15*time.Minute), RPO: drill.Measure(6*time.Hour, 3*time.Hour),
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.lock", "s3://b", "locked"),
			finding.Warn("history.upload", "s3://h", "upload failed"),
			finding.Fail("verify.check.web", finding.SeverityFail, "web", "answered 503"),
		},
	}
}

// hook is a webhook server that answers each request with the next status
// of its script (the last one repeats) and records what it received.
type hook struct {
	mu       sync.Mutex
	statuses []int
	headers  map[string]string
	bodies   [][]byte
	ctypes   []string
}

func newHook(t *testing.T, statuses ...int) (*hook, string) {
	h := &hook{statuses: statuses}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL + "/services/" + token
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	n := len(h.bodies)
	h.bodies = append(h.bodies, b)
	h.ctypes = append(h.ctypes, r.Header.Get("Content-Type"))
	status := h.statuses[min(n, len(h.statuses)-1)]
	for k, v := range h.headers {
		w.Header().Set(k, v)
	}
	h.mu.Unlock()
	w.WriteHeader(status)
	if status >= 400 {
		// Some servers echo what they were asked for.
		_, _ = io.WriteString(w, "no such hook: "+r.URL.Path)
	}
}

func (h *hook) attempts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func fast(url string, f Format) Webhook {
	return Webhook{URL: url, Format: f, Backoff: time.Millisecond}
}

func TestSend_JSONSummary(t *testing.T) {
	h, url := newHook(t, http.StatusNoContent)
	rep := failedDrill()
	err := fast(url, FormatJSON).Send(context.Background(), NewSummary(&rep, "/state/drills/fd-1/report.html", "s3://team/drills/fd-1/report.html"))
	require.NoError(t, err)
	require.Equal(t, 1, h.attempts())
	assert.Equal(t, "application/json", h.ctypes[0])

	var got map[string]any
	require.NoError(t, json.Unmarshal(h.bodies[0], &got))
	assert.Equal(t, Schema, got["schema"])
	assert.Equal(t, "fd-20261122-100000-abcd", got["drill_id"])
	assert.Equal(t, "region-loss", got["scenario"])
	assert.Equal(t, "fail", got["result"])
	assert.Equal(t, "/state/drills/fd-1/report.html", got["report"])
	assert.Equal(t, "s3://team/drills/fd-1/report.html", got["shared_report"])
	rto := got["rto"].(map[string]any)
	assert.Equal(t, 900.0, rto["measured_seconds"])
	assert.Equal(t, 600.0, rto["objective_seconds"])
	assert.Equal(t, "missed", rto["status"])
	assert.Equal(t, 10800.0, got["rpo"].(map[string]any)["measured_seconds"])
	findings := got["failed_findings"].([]any)
	require.Len(t, findings, 1, "only failed findings, not passes or warnings")
	assert.Equal(t, "verify.check.web", findings[0].(map[string]any)["id"])
}

func TestSend_SlackText(t *testing.T) {
	h, url := newHook(t, http.StatusOK)
	rep := failedDrill()
	require.NoError(t, fast(url, FormatSlack).Send(context.Background(), NewSummary(&rep, "/state/drills/fd-1/report.html", "")))

	var got map[string]string
	require.NoError(t, json.Unmarshal(h.bodies[0], &got))
	require.Len(t, got, 1)
	assert.Equal(t, "firedrill: drill fd-20261122-100000-abcd of region-loss FAIL\n"+
		"RTO 15m00s of 10m00s: missed, RPO 3h00m of 6h00m: met\n"+
		"1 failed finding:\n"+
		"- verify.check.web (fail): answered 503\n"+
		"Report: /state/drills/fd-1/report.html", got["text"])
}

func TestSend_RetriesUntilDelivered(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		attempts int
	}{
		{"failing twice then succeeding", []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusOK}, 3},
		{"rate limited once", []int{http.StatusTooManyRequests, http.StatusOK}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, url := newHook(t, tt.statuses...)
			rep := failedDrill()
			require.NoError(t, fast(url, FormatJSON).Send(context.Background(), NewSummary(&rep, "r", "")))
			assert.Equal(t, tt.attempts, h.attempts())
			for _, b := range h.bodies[1:] {
				assert.Equal(t, h.bodies[0], b, "every attempt sends the same summary")
			}
		})
	}
}

func TestSend_GivesUpAndNeverPrintsTheToken(t *testing.T) {
	h, url := newHook(t, http.StatusServiceUnavailable)
	rep := failedDrill()
	err := fast(url, FormatJSON).Send(context.Background(), NewSummary(&rep, "r", ""))
	require.Error(t, err)
	assert.Equal(t, DefaultAttempts, h.attempts())
	assert.Contains(t, err.Error(), "notify "+Origin(url)+": gave up after 4 attempts: answered 503 Service Unavailable")
	assert.NotContains(t, err.Error(), "s3cret")
	assert.NotContains(t, err.Error(), "/services/")
}

func TestSend_ClientErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h, url := newHook(t, status, http.StatusOK)
			rep := failedDrill()
			err := fast(url, FormatSlack).Send(context.Background(), NewSummary(&rep, "r", ""))
			require.Error(t, err)
			assert.Equal(t, 1, h.attempts())
			assert.Contains(t, err.Error(), "(not retried)")
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestSend_NetworkErrorsAreRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/services/" + token
	srv.Close()
	rep := failedDrill()
	w := fast(url, FormatJSON)
	w.Attempts = 2
	err := w.Send(context.Background(), NewSummary(&rep, "r", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up after 2 attempts")
	assert.Contains(t, err.Error(), "connect")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestSend_StaysWithinItsTimeout(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		backoff time.Duration
	}{
		{"a backoff longer than the time left", nil, time.Hour},
		{"a Retry-After longer than the time left", map[string]string{"Retry-After": "3600"}, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, url := newHook(t, http.StatusServiceUnavailable)
			h.headers = tt.headers
			rep := failedDrill()
			w := Webhook{URL: url, Backoff: tt.backoff, Timeout: time.Minute}
			err := w.Send(context.Background(), NewSummary(&rep, "r", ""))
			require.Error(t, err)
			assert.Equal(t, 1, h.attempts(), "no pointless wait: it gives up at once")
			assert.Contains(t, err.Error(), "gave up after 1 of 4 attempts, no time left within 1m0s")
		})
	}
}

func TestSend_Cancelled(t *testing.T) {
	arrived, done := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a closed connection only once the body is read.
		_, _ = io.ReadAll(r.Body)
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	rep := failedDrill()
	err := fast(srv.URL+"/services/"+token, FormatJSON).Send(ctx, NewSummary(&rep, "r", ""))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestCheckURLAndOrigin(t *testing.T) {
	tests := []struct {
		url, origin, wantErr string
	}{
		{"https://hooks.slack.com/services/" + token, "https://hooks.slack.com", ""},
		{"http://user:s3cret@hooks.example.com:8080/x?token=s3cret", "http://hooks.example.com:8080", ""},
		{"hooks.slack.com/services/" + token, "the webhook", "want an http:// or https:// URL with a host"},
		{"https://hooks.example.com/%zz" + token, "the webhook", "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			assert.Equal(t, tt.origin, Origin(tt.url))
			err := CheckURL(tt.url)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
	_, err := ParseFormat("teams")
	assert.EqualError(t, err, `notification format "teams": want json or slack`)
}

// Slack reads <!channel>, <@U123> and <URL|label> in a message's text; a
// finding message, a scenario name or an error that holds them must reach
// the channel as text (issue 15, section 7).
func TestSend_SlackTextIsEscaped(t *testing.T) {
	h, url := newHook(t, http.StatusOK)
	rep := failedDrill()
	rep.Scenario = "shop&co"
	rep.Result, rep.Error, rep.ErrorStep = drill.ResultError, "backup <@U024BE7LH> not found", drill.StepRecoveryPoint
	rep.Findings = append(rep.Findings, finding.Fail("verify.check.api", finding.SeverityFail, "api", "<!channel> answered <https://evil.example|the login page> & 500"))
	require.NoError(t, fast(url, FormatSlack).Send(context.Background(), NewSummary(&rep, "/state/drills/fd-1/report.html", "")))

	var got map[string]string
	require.NoError(t, json.Unmarshal(h.bodies[0], &got))
	assert.Equal(t, "firedrill: drill fd-20261122-100000-abcd of shop&amp;co ERROR\n"+
		"in step recovery-point: backup &lt;@U024BE7LH&gt; not found\n"+
		"RTO 15m00s of 10m00s: missed, RPO 3h00m of 6h00m: met\n"+
		"2 failed findings:\n"+
		"- verify.check.web (fail): answered 503\n"+
		"- verify.check.api (fail): &lt;!channel&gt; answered &lt;https://evil.example|the login page&gt; &amp; 500\n"+
		"Report: /state/drills/fd-1/report.html", got["text"])
}

// A webhook that redirects to another host does not get the summary sent
// there (issue 15, section 7); a redirect within the webhook's own origin
// is followed.
func TestSend_RedirectsOnlyWithinTheWebhooksOrigin(t *testing.T) {
	other, otherURL := newHook(t, http.StatusOK) // another origin: another port of 127.0.0.1
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			before := other.attempts()
			var asked int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked++
				http.Redirect(w, r, otherURL+"?stolen=1", status)
			}))
			t.Cleanup(srv.Close)
			rep := failedDrill()
			err := fast(srv.URL+"/services/"+token, FormatJSON).Send(context.Background(), NewSummary(&rep, "r", ""))
			require.Error(t, err)
			assert.Equal(t, before, other.attempts(), "nothing reached the other host")
			assert.Equal(t, 1, asked, "a refused redirect is not retried")
			assert.Contains(t, err.Error(), "a redirect to "+Origin(otherURL)+", which is not followed: a webhook is followed only within its own origin "+Origin(srv.URL))
			assert.Contains(t, err.Error(), "(not retried)")
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}

	t.Run("within the origin", func(t *testing.T) {
		var paths []string
		var body []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			if r.URL.Path == "/services/"+token {
				http.Redirect(w, r, "/v2/services/"+token, http.StatusPermanentRedirect)
				return
			}
			body, _ = io.ReadAll(r.Body)
		}))
		t.Cleanup(srv.Close)
		rep := failedDrill()
		require.NoError(t, fast(srv.URL+"/services/"+token, FormatJSON).Send(context.Background(), NewSummary(&rep, "r", "")))
		assert.Equal(t, []string{"/services/" + token, "/v2/services/" + token}, paths)
		assert.Contains(t, string(body), `"drill_id":"fd-20261122-100000-abcd"`, "a 308 re-sends the summary")
	})

	t.Run("a loop within the origin", func(t *testing.T) {
		var asked int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked++
			http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		}))
		t.Cleanup(srv.Close)
		rep := failedDrill()
		err := fast(srv.URL+"/services/"+token, FormatJSON).Send(context.Background(), NewSummary(&rep, "r", ""))
		require.Error(t, err)
		assert.Equal(t, maxRedirects+1, asked)
		assert.Contains(t, err.Error(), "answered 307 Temporary Redirect after 5 redirects")
		assert.NotContains(t, err.Error(), "s3cret")
	})
}
