package lab

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is one long-running lab process.
type daemon struct {
	name string // unique, e.g. "source-etcd"; names the log and PID files
	path string
	args []string
	env  []string // added to the lab's environment
	dir  string   // working directory; the state dir when empty
	// netns, when set, is the path of a network namespace the process
	// runs in (entered with nsenter, which then execs path: the PID and
	// argv[0] stay the daemon's own).
	netns string
}

// proc is a daemon this invocation started; exited closes when it dies, so a
// wait for readiness fails at once instead of timing out.
type proc struct {
	d      daemon
	pid    int
	exited chan struct{}
}

func (c Config) pidFile(name string) string { return c.path("pids", name+".pid") }
func (c Config) logFile(name string) string { return c.path("logs", name+".log") }

// alive reports whether the PID file of name points at a live process that
// still runs the lab's binary (PIDs get reused).
func (c Config) alive(name string) (int, bool) {
	b, err := os.ReadFile(c.pidFile(name))
	if err != nil {
		return 0, false
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(lines[0])
	if err != nil {
		return 0, false
	}
	return pid, pidRuns(pid, lines[1])
}

func pidRuns(pid int, exe string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state letter follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0) == exe
}

// start starts d unless it already runs. The process gets its own session
// and its output goes to a log file, so it outlives this command and holds
// no terminal or pipe open.
func (c Config) start(d daemon) (*proc, error) {
	if pid, ok := c.alive(d.name); ok {
		return &proc{d: d, pid: pid}, nil
	}
	for _, dir := range []string{c.path("pids"), c.path("logs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(c.logFile(d.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s %s %s\n", time.Now().Format(time.RFC3339), d.path, strings.Join(d.args, " "))
	cmd := exec.Command(d.path, d.args...)
	if d.netns != "" {
		cmd = exec.Command("nsenter", append([]string{"--net=" + d.netns, "--", d.path}, d.args...)...)
	}
	cmd.Env = append(os.Environ(), d.env...)
	cmd.Dir = d.dir
	if cmd.Dir == "" {
		cmd.Dir = c.StateDir
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.name, err)
	}
	p := &proc{d: d, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	rec := fmt.Sprintf("%d\n%s\n%d\n", p.pid, d.path, time.Now().UnixNano())
	if err := os.WriteFile(c.pidFile(d.name), []byte(rec), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return p, nil
}

// waitReady polls ready until it returns nil, p exits, or timeout passes.
// ready must be a real health signal (an endpoint answering, an object
// reaching a condition), never elapsed time.
func (c Config) waitReady(ctx context.Context, p *proc, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil || last == nil {
			last = err // keep the last real answer, not the deadline's
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %v\n%s", p.d.name, timeout, last, c.logTail(p.d.name))
		case <-p.exitedChan():
			return fmt.Errorf("%s exited during start-up\n%s", p.d.name, c.logTail(p.d.name))
		case <-tick.C:
		}
	}
}

// permanentError ends a waitReady at once: the awaited state can no longer
// be reached (a backup failed, say).
type permanentError struct{ error }

func (p *proc) exitedChan() <-chan struct{} {
	if p.exited == nil {
		return nil // not ours: started by an earlier `up`
	}
	return p.exited
}

// logTail returns the last lines of a daemon's log, for error messages.
func (c Config) logTail(name string) string {
	b, err := os.ReadFile(c.logFile(name))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "  last lines of " + c.logFile(name) + ":\n    " + strings.Join(lines, "\n    ")
}

// running lists the daemons with PID files, newest first, so stopping in
// this order takes clients down before the servers they talk to.
func (c Config) recorded() ([]string, error) {
	entries, err := os.ReadDir(c.path("pids"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type rec struct {
		name    string
		started int64
	}
	var recs []rec
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pid")
		if !ok {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(c.path("pids"), e.Name()))
		lines := strings.Split(string(b), "\n")
		var started int64
		if len(lines) > 2 {
			started, _ = strconv.ParseInt(lines[2], 10, 64)
		}
		recs = append(recs, rec{name, started})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].started > recs[j].started })
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = r.name
	}
	return names, nil
}

// stop sends SIGTERM to name's process and waits for it to exit, then
// SIGKILL after grace, then kills what remains of its process group.
// Ports are free again once it returns.
func (c Config) stop(name string, grace time.Duration) error {
	pid, ok := c.alive(name)
	if !ok {
		return os.Remove(c.pidFile(name))
	}
	exe := ""
	if b, err := os.ReadFile(c.pidFile(name)); err == nil {
		exe = strings.Split(string(b), "\n")[1]
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for pidRuns(pid, exe) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(10 * time.Second)
			grace = 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every daemon leads a session of its own (Setsid), so its process
	// group is its pid. What it started and left behind (Velero's plugin
	// processes, stuck in a hung restore, outlived their server) goes
	// with it: kill the group, and wait until none of it remains.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err == nil {
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return os.Remove(c.pidFile(name))
}

// httpOK returns a readiness check that GETs url and wants a 2xx answer.
func httpOK(client *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("GET %s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	}
}

// insecureClient talks to components whose serving certificates are
// self-signed by the component itself (controller-manager, scheduler).
var insecureClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

var plainClient = &http.Client{Timeout: 2 * time.Second}

func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}
