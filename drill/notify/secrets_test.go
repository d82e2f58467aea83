package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/secret"
)

func TestSend_AnEchoedTokenIsNeverPrinted(t *testing.T) {
	for name, echo := range map[string]func(r *http.Request) string{
		"the token alone":        func(*http.Request) string { return `{"error":"invalid_token","token":"s3cretT0ken"}` },
		"the path, JSON-escaped": func(r *http.Request) string { b, _ := json.Marshal(r.URL.Path); return `{"path":` + string(b) + `}` },
		"the query value":        func(r *http.Request) string { return "bad signature " + r.URL.Query().Get("sig") },
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, echo(r))
			}))
			defer srv.Close()
			rep := failedDrill()
			err := fast(srv.URL+"/services/"+token+"?sig=9f8e7d6c5b", FormatJSON).Send(context.Background(), NewSummary(&rep, "r", ""))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "answered 403 Forbidden")
			assert.NotContains(t, err.Error(), "s3cretT0ken")
			assert.NotContains(t, err.Error(), "9f8e7d6c5b")
		})
	}
}

func TestSend_SecretsAreNotSent(t *testing.T) {
	h, url := newHook(t, http.StatusOK)
	rep := failedDrill()
	// A runbook step printed a credential, JSON-escaped on its way into
	// the finding's message.
	rep.Findings = append(rep.Findings, finding.Fail("runbook.out-of-date", finding.SeverityFail, "rb", `step "x" failed: key=AKIA/EXAMPLE"1`))
	w := fast(url, FormatSlack)
	w.Secrets = secret.New(`AKIA/EXAMPLE"1`)
	require.NoError(t, w.Send(context.Background(), NewSummary(&rep, "r", "")))
	require.Equal(t, 1, h.attempts())
	assert.NotContains(t, string(h.bodies[0]), "AKIA")
	assert.Contains(t, string(h.bodies[0]), "key=[redacted]")
}

func TestWebhook_StringIsTheOriginOnly(t *testing.T) {
	assert.Equal(t, "https://hooks.example.com", Webhook{URL: "https://hooks.example.com/services/T0/B0/s3cret?x=1"}.String())
	assert.Equal(t, "the webhook", Webhook{URL: "::not a url s3cret"}.String())
}
