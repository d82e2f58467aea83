package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startDB runs a database on dir at 127.0.0.1:0. stop (also run at cleanup)
// cancels it and waits for it to return.
func startDB(t *testing.T, dir string, canaryEvery time.Duration) (addr string, stop func()) {
	t.Helper()
	s, err := openStore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveDB(ctx, ln, s, canaryEvery) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("db: %v", err)
				}
			case <-time.After(shutdownTimeout + time.Second):
				t.Errorf("db did not stop within %s", shutdownTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

func db(t *testing.T, addr, cmd string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	reply, err := dbDo(ctx, addr, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

func do(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := apiURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantStatus(t *testing.T, what string, code int, body string, wantCode int, wantBody string) {
	t.Helper()
	if code != wantCode || !strings.Contains(body, wantBody) {
		t.Errorf("%s: got %d %q, want %d containing %q", what, code, body, wantCode, wantBody)
	}
}

func TestWebHealthzFollowsAPI(t *testing.T) {
	const (
		up = iota
		failing
		hanging
	)
	var state atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/livez" {
			http.NotFound(w, r)
			return
		}
		switch state.Load() {
		case up:
			io.WriteString(w, "ok")
		case failing:
			http.Error(w, "db db.shop-data.svc:5432: connection refused", http.StatusServiceUnavailable)
		case hanging:
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer api.Close()
	web := httptest.NewServer(webHandler(mustURL(t, api.URL)))
	defer web.Close()

	code, body := do(t, "GET", web.URL+"/healthz", "")
	wantStatus(t, "api up", code, body, http.StatusOK, "ok")

	state.Store(failing)
	code, body = do(t, "GET", web.URL+"/healthz", "")
	wantStatus(t, "api answers 503", code, body, http.StatusServiceUnavailable, "connection refused")

	state.Store(hanging)
	start := time.Now()
	code, body = do(t, "GET", web.URL+"/healthz", "")
	wantStatus(t, "api hangs", code, body, http.StatusServiceUnavailable, "api: ")
	if d := time.Since(start); d > healthTimeout+time.Second {
		t.Errorf("api hangs: web answered after %s, want about %s", d, healthTimeout)
	}

	state.Store(up)
	code, body = do(t, "GET", web.URL+"/healthz", "")
	wantStatus(t, "api up again", code, body, http.StatusOK, "ok")

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	down := httptest.NewServer(webHandler(mustURL(t, gone.URL)))
	defer down.Close()
	code, body = do(t, "GET", down.URL+"/healthz", "")
	wantStatus(t, "api down", code, body, http.StatusServiceUnavailable, "api: ")
}

func TestAPIHealthzFollowsDB(t *testing.T) {
	addr, stopDB := startDB(t, t.TempDir(), time.Hour)
	api := httptest.NewServer(apiHandler(addr))
	defer api.Close()

	code, body := do(t, "GET", api.URL+"/healthz", "")
	wantStatus(t, "db up", code, body, http.StatusOK, "ok")

	stopDB()
	code, body = do(t, "GET", api.URL+"/healthz", "")
	wantStatus(t, "db down", code, body, http.StatusServiceUnavailable, "db "+addr)

	// Something answers on the port, but not the database.
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "HELLO\n")
			c.Close()
		}
	}()
	api2 := httptest.NewServer(apiHandler(other.Addr().String()))
	defer api2.Close()
	code, body = do(t, "GET", api2.URL+"/healthz", "")
	wantStatus(t, "not a db", code, body, http.StatusServiceUnavailable, "unexpected reply")

	// A database that accepts but never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	api3 := httptest.NewServer(apiHandler(silent.Addr().String()))
	defer api3.Close()
	start := time.Now()
	code, body = do(t, "GET", api3.URL+"/healthz", "")
	wantStatus(t, "silent db", code, body, http.StatusServiceUnavailable, "timeout")
	if d := time.Since(start); d > healthTimeout+time.Second {
		t.Errorf("silent db: api answered after %s, want about %s", d, healthTimeout)
	}
}

func TestOrdersSurviveDBRestart(t *testing.T) {
	dir := t.TempDir()
	addr, stopDB := startDB(t, dir, time.Hour)
	api := httptest.NewServer(apiHandler(addr))
	defer api.Close()

	code, body := do(t, "POST", api.URL+"/orders", "2 mugs\n")
	wantStatus(t, "first order", code, body, http.StatusCreated, "order 1")
	code, body = do(t, "POST", api.URL+"/orders", ".dot first")
	wantStatus(t, "second order", code, body, http.StatusCreated, "order 2")
	code, body = do(t, "POST", api.URL+"/orders", "two\nlines")
	wantStatus(t, "two-line order", code, body, http.StatusBadRequest, "one non-empty line")
	code, body = do(t, "GET", api.URL+"/orders", "")
	wantStatus(t, "orders", code, body, http.StatusOK, "")
	if want := "2 mugs\n.dot first\n"; body != want {
		t.Errorf("GET /orders: %q, want %q", body, want)
	}

	stopDB()
	addr2, _ := startDB(t, dir, time.Hour)
	want := []string{"2 mugs", ".dot first"}
	if got := db(t, addr2, "LIST"); !slices.Equal(got, want) {
		t.Errorf("LIST after restart: %q, want %q", got, want)
	}
	if got := db(t, addr2, "APPEND grinder"); got[0] != "OK 3" {
		t.Errorf("APPEND after restart: %q, want OK 3", got)
	}
	if got, want := db(t, addr2, "LIST"), append(want, "grinder"); !slices.Equal(got, want) {
		t.Errorf("LIST: %q, want %q", got, want)
	}
}

func TestWebServesTheShopThroughAPIAndDB(t *testing.T) {
	addr, _ := startDB(t, t.TempDir(), time.Hour)
	api := httptest.NewServer(apiHandler(addr))
	defer api.Close()
	web := httptest.NewServer(webHandler(mustURL(t, api.URL)))
	defer web.Close()

	code, body := do(t, "GET", web.URL+"/", "")
	wantStatus(t, "storefront", code, body, http.StatusOK, "Espresso beans")
	code, body = do(t, "GET", web.URL+"/nothing", "")
	wantStatus(t, "unknown page", code, body, http.StatusNotFound, "")
	code, body = do(t, "GET", web.URL+"/orders", "")
	if code != http.StatusOK || body != "" {
		t.Errorf("no orders yet: %d %q", code, body)
	}
	code, body = do(t, "POST", web.URL+"/orders", "hand grinder")
	wantStatus(t, "order through web", code, body, http.StatusCreated, "order 1")
	code, body = do(t, "GET", web.URL+"/orders", "")
	wantStatus(t, "orders through web", code, body, http.StatusOK, "hand grinder\n")
}

func TestDBProtocol(t *testing.T) {
	addr, _ := startDB(t, t.TempDir(), time.Hour)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	// Several commands on one connection, each with its exact reply.
	for _, step := range []struct{ send, want string }{
		{"PING", "PONG\n"},
		{"LIST", ".\n"},
		{"APPEND 1 kg beans", "OK 1\n"},
		{"APPEND .hidden", "OK 2\n"},
		{"APPEND ", "ERR empty order\n"},
		{"DROP TABLE orders", "ERR unknown command \"DROP\"\n"},
		{"LIST", "1 kg beans\n..hidden\n.\n"},
	} {
		if _, err := io.WriteString(c, step.send+"\r\n"); err != nil {
			t.Fatal(err)
		}
		got := ""
		for {
			line, err := r.ReadString('\n')
			got += line
			if err != nil {
				t.Fatalf("%s: %v after %q", step.send, err, got)
			}
			if step.send != "LIST" || line == ".\n" {
				break
			}
		}
		if got != step.want {
			t.Errorf("%s: %q, want %q", step.send, got, step.want)
		}
	}
}

func TestPartialLastLineIsDropped(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ordersFile), []byte("a\nb\nhalf an ord"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, stopDB := startDB(t, dir, time.Hour)
	if got := db(t, addr, "LIST"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("LIST: %q, want [a b]", got)
	}
	if got := db(t, addr, "APPEND c"); got[0] != "OK 3" {
		t.Errorf("APPEND: %q, want OK 3", got)
	}
	stopDB()
	b, err := os.ReadFile(filepath.Join(dir, ordersFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "a\nb\nc\n" {
		t.Errorf("%s: %q, want %q", ordersFile, b, "a\nb\nc\n")
	}
}

func readCanary(t *testing.T, dir string) (string, time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, canaryFile))
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		t.Fatalf("canary %q: %v", b, err)
	}
	if len(b) != len("2006-01-02T15:04:05.000000000Z") || !strings.HasSuffix(string(b), "Z") {
		t.Errorf("canary %q: want RFC 3339 in UTC with nine digits of nanoseconds", b)
	}
	return string(b), at
}

func TestCanaryIsRewritten(t *testing.T) {
	dir := t.TempDir()
	before := time.Now()
	_, stopDB := startDB(t, dir, 20*time.Millisecond)
	// The first canary is written before the database listens.
	first, firstAt := readCanary(t, dir)
	if firstAt.Before(before.Add(-time.Second)) || firstAt.After(time.Now().Add(time.Second)) {
		t.Errorf("first canary %s: not the current time (%s)", first, before)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		now, nowAt := readCanary(t, dir)
		if now != first {
			if !nowAt.After(firstAt) {
				t.Errorf("canary went from %s to %s, want later", first, now)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("canary still %s after 3s with a 20ms interval", first)
		}
		time.Sleep(10 * time.Millisecond)
	}

	stopDB()
	last, _ := readCanary(t, dir)
	time.Sleep(100 * time.Millisecond)
	if again, _ := readCanary(t, dir); again != last {
		t.Errorf("canary rewritten after the database stopped: %s then %s", last, again)
	}
	if _, err := os.Stat(filepath.Join(dir, canaryFile+".tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary canary left behind: %v", err)
	}
}

func TestServeHTTPFinishesRequestsOnShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serveHTTP(ctx, ln, h) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- resp.Status + " " + string(b)
	}()
	<-started
	cancel()
	if r := <-got; r != "200 OK done" {
		t.Errorf("request in flight at shutdown: %q, want 200 OK done", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serveHTTP: %v", err)
		}
	case <-time.After(shutdownTimeout):
		t.Fatalf("serveHTTP still running %s after cancel", shutdownTimeout)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
}

func TestCheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer ok.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "api down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	ctx := context.Background()
	if err := check(ctx, ok.URL); err != nil {
		t.Errorf("check 200: %v", err)
	}
	if err := check(ctx, failing.URL); err == nil || !strings.Contains(err.Error(), "503 Service Unavailable: api down") {
		t.Errorf("check 503: %v, want the status and the body", err)
	}
	if err := check(ctx, gone.URL); err == nil {
		t.Error("check of a closed server: no error")
	}
}

func TestListenAddressMustBeNumeric(t *testing.T) {
	for addr, ok := range map[string]bool{
		":8080":          true,
		"0.0.0.0:9090":   true,
		"127.0.0.1:5432": true,
		"[::]:8080":      true,
		"localhost:8080": false,
		"web.shop:8080":  false,
		"8080":           false,
	} {
		if err := numericAddr(addr); (err == nil) != ok {
			t.Errorf("numericAddr(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}

func TestDBStopsPromptlyWithAnIdleConnection(t *testing.T) {
	addr, stopDB := startDB(t, t.TempDir(), time.Hour)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "PING\n")
	if line, err := r.ReadString('\n'); line != "PONG\n" {
		t.Fatalf("PING: %q %v", line, err)
	}
	start := time.Now()
	stopDB()
	if d := time.Since(start); d > time.Second {
		t.Errorf("db took %s to stop with an idle client connection", d)
	}
	if line, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("idle connection after stop: %q %v, want EOF", line, err)
	}
}

func TestReadFiles_CatAndSha256sum(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "orders.log")
	if err := os.WriteFile(a, []byte("order 1\norder 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := readFiles(&out, false, []string{a, a}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "order 1\norder 2\norder 1\norder 2\n"; got != want {
		t.Fatalf("cat = %q, want %q", got, want)
	}
	out.Reset()
	if err := readFiles(&out, true, []string{a}); err != nil {
		t.Fatal(err)
	}
	// sha256sum of "order 1\norder 2\n", as coreutils prints it.
	sum := sha256.Sum256([]byte("order 1\norder 2\n"))
	if got, want := out.String(), hex.EncodeToString(sum[:])+"  "+a+"\n"; got != want {
		t.Fatalf("sha256sum = %q, want %q", got, want)
	}
	if err := readFiles(&out, false, []string{filepath.Join(dir, "missing")}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want not exist", err)
	}
}

func TestDB_CanaryOnlyOnCanaryNode(t *testing.T) {
	if !canaryWriter("", "any-node") || !canaryWriter("lab-source-node", "lab-source-node") {
		t.Fatal("canaryWriter: want true without CANARY_NODE and on CANARY_NODE")
	}
	if canaryWriter("lab-source-node", "lab-scratch-node") {
		t.Fatal("canaryWriter: want false on another node")
	}
	// A restored db on another node: its restored canary stays as it was.
	dir := t.TempDir()
	const restored = "2026-12-01T11:30:52.000000000Z"
	if err := os.WriteFile(filepath.Join(dir, canaryFile), []byte(restored), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := openStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serveDB(ctx, ln, s, 0) }()
	// A served command proves the server ran; the canary must be unchanged.
	if reply, err := dbDo(context.Background(), ln.Addr().String(), "PING"); err != nil || len(reply) != 1 || reply[0] != "PONG" {
		t.Fatalf("PING: %q, %v", reply, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, canaryFile))
	if err != nil || string(b) != restored {
		t.Fatalf("canary = %q, %v; want %q kept", b, err, restored)
	}
}
