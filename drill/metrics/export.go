package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"

	"github.com/firedrill-dev/firedrill/drill"
)

// Job is the job label of the metrics pushed to a Pushgateway.
const Job = "firedrill"

// WriteFile writes the metrics of every scenario of reports to path in the
// Prometheus text format, atomically (a temporary file in the same
// directory, then a rename), so node-exporter's textfile collector never
// reads half a file. The collector reads only files named *.prom.
func WriteFile(path string, reports []*drill.Report) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(reports)); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	return nil
}

// File is a file of the metrics of every scenario, for node-exporter's
// textfile collector (see WriteFile).
type File struct {
	// Path is the file, in an existing directory.
	Path string
}

var _ drill.MetricsExporter = File{}

// NewFile is the metrics file at path. It returns an error when path's
// directory does not exist, so a mistake is found before a drill, not
// after.
func NewFile(path string) (File, error) {
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return File{}, fmt.Errorf("no directory %s to write it in", dir)
	}
	return File{Path: path}, nil
}

// ExportMetrics implements drill.MetricsExporter with WriteFile: the file
// holds every scenario of reports, whatever scenario was just drilled.
func (f File) ExportMetrics(_ context.Context, _ string, reports []*drill.Report) error {
	return WriteFile(f.Path, reports)
}

// String is the file's path.
func (f File) String() string { return f.Path }

// Pushgateway is where Push sends metrics.
type Pushgateway struct {
	// URL is the Pushgateway's base URL, e.g. http://pushgateway:9091.
	// Credentials in it (user:password@) are sent as basic auth and never
	// appear in errors.
	URL string
	// Client makes the request; http.DefaultClient when nil. Bound the
	// time a push may take with ctx.
	Client *http.Client
}

// Push replaces the metrics of one scenario on the Pushgateway: the group
// with job "firedrill" and the grouping label scenario=NAME, which the
// Pushgateway adds to every series (so the series look the same as those
// of WriteFile). Other scenarios' groups are untouched. It returns an
// error naming the Pushgateway (without credentials) when the push fails,
// or when reports holds no finished drill of scenario.
func (g Pushgateway) Push(ctx context.Context, scenario string, reports []*drill.Report) error {
	base, user, err := parseGatewayURL(g.URL)
	if err != nil {
		return err
	}
	var mine []Scenario
	for _, s := range Scenarios(reports) {
		if s.Name == scenario {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return fmt.Errorf("push metrics of %s to the Pushgateway at %s: no finished drill of %s", scenario, base.Redacted(), scenario)
	}
	client := g.Client
	if client == nil {
		client = http.DefaultClient
	}
	p := push.New(base.String(), Job).
		Collector(newCollector(mine, false)).
		Grouping(LabelScenario, scenario).
		Format(expfmt.NewFormat(expfmt.TypeTextPlain)).
		Client(client)
	if user != nil {
		pw, _ := user.Password()
		p = p.BasicAuth(user.Username(), pw)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push metrics of %s to the Pushgateway at %s: %w", scenario, base.Redacted(), err)
	}
	return nil
}

var _ drill.MetricsExporter = Pushgateway{}

// ExportMetrics implements drill.MetricsExporter with Push: only the
// metrics of scenario are replaced.
func (g Pushgateway) ExportMetrics(ctx context.Context, scenario string, reports []*drill.Report) error {
	return g.Push(ctx, scenario, reports)
}

// String names the Pushgateway by its URL without credentials.
func (g Pushgateway) String() string {
	base, _, err := parseGatewayURL(g.URL)
	if err != nil {
		return "the Pushgateway"
	}
	return "the Pushgateway at " + base.String()
}

// CheckPushgatewayURL says whether raw can be a Pushgateway URL, without
// repeating a password it may hold.
func CheckPushgatewayURL(raw string) error {
	_, _, err := parseGatewayURL(raw)
	return err
}

// parseGatewayURL splits the credentials off a Pushgateway URL.
func parseGatewayURL(raw string) (base *url.URL, user *url.Userinfo, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Error repeats the URL, password included.
			err = uerr.Err
		}
		return nil, nil, fmt.Errorf("pushgateway URL: %v; want http(s)://HOST:PORT", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("pushgateway URL %s: want http(s)://HOST:PORT", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, nil, fmt.Errorf("pushgateway URL %s://%s: no query or fragment; credentials go in user:password@", u.Scheme, u.Host)
	}
	user, u.User = u.User, nil
	return u, user, nil
}
