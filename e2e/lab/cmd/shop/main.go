// Command shop is the lab's "realistic application": a small web shop whose
// three tiers really run as pods on the lab's nodes, so a drill can prove a
// restored shop serves, not only that its objects exist. One static binary
// plays every role; the first argument picks it:
//
//	shop web     HTTP on :8080. GET / is the storefront page; GET /healthz is
//	             200 only while the api answers ($API_URL/livez, 1 s);
//	             /orders is proxied to the api.
//	shop api     HTTP on :9090. GET /livez is 200 while the api serves (its
//	             readiness: the api and web live in one namespace, the
//	             database in another, and a restore that maps namespaces
//	             breaks only the cross-namespace call, which GET /orders
//	             shows); GET /healthz is 200 only while the database answers
//	             PING ($DB_ADDR, 1 s); GET /orders lists the order log,
//	             POST /orders (the body is one line) appends an order.
//	shop db      a line-based TCP database on :5432 keeping an append-only
//	             order log in $DATA_DIR (default /data), where it also
//	             rewrites the file "canary" with the current time every
//	             $CANARY_INTERVAL (default 5s). With $CANARY_NODE set it
//	             writes the canary only on that node ($NODE_NAME): a copy
//	             of the db restored elsewhere keeps, and serves, the canary
//	             its data was restored with, so the canary tells the
//	             recovery point.
//	shop check URL
//	             exit 0 if GET URL answers 2xx, else say why and exit 1
//	             (for exec probes).
//	shop cat FILE...
//	             write each file to stdout, as cat(1) does (the image has
//	             no shell: for exec checks reading the db's data).
//	shop sha256sum FILE...
//	             print "<hex SHA-256>  FILE" per file, as sha256sum(1).
//
// $LISTEN (or -listen) overrides a server's address; its host part must be
// numeric or empty, so no role looks up any name but its configured back
// end. The database speaks one command per line:
//
//	PING          -> PONG
//	APPEND text   -> OK n      (n: the order's number, counting from 1)
//	LIST          -> one line per order, then "."  (a line starting with "."
//	                 gets one more ".", as in SMTP)
//	anything else -> ERR reason
//
// All of the database's state is in $DATA_DIR (orders.log and canary), so a
// file-system backup of that directory is a backup of the shop's data. Every
// role logs a line when it starts and one per error, and exits 0 within 5 s
// of SIGTERM or SIGINT.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	healthTimeout   = time.Second     // a health check's call to the back end
	requestTimeout  = 3 * time.Second // any other call to the back end
	checkTimeout    = 2 * time.Second // shop check
	shutdownTimeout = 5 * time.Second
	dbIdleTimeout   = time.Minute // a database connection waiting for a command

	ordersFile = "orders.log"
	canaryFile = "canary"
	// canaryLayout is RFC 3339 in UTC with all nine digits of nanoseconds,
	// so canaries sort as text; time.RFC3339Nano parses it.
	canaryLayout = "2006-01-02T15:04:05.000000000Z07:00"
	maxOrderLen  = 1024
)

var defaultListen = map[string]string{"web": ":8080", "api": ":9090", "db": ":5432"}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	if len(os.Args) < 2 {
		usage()
	}
	role, args := os.Args[1], os.Args[2:]
	log.SetPrefix("shop " + role + ": ")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	var err error
	switch role {
	case "web", "api", "db":
		err = serve(ctx, role, args)
	case "check":
		if len(args) != 1 {
			usage()
		}
		err = check(ctx, args[0])
	case "cat", "sha256sum":
		if len(args) == 0 {
			usage()
		}
		err = readFiles(os.Stdout, role == "sha256sum", args)
	default:
		usage()
	}
	stop()
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: shop web|api|db [-listen ADDR]\n       shop check URL\n       shop cat|sha256sum FILE...")
	os.Exit(2)
}

// serve reads the role's configuration, listens and serves until ctx ends.
func serve(ctx context.Context, role string, args []string) error {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	listen := fs.String("listen", envOr("LISTEN", defaultListen[role]), "address to listen on (numeric host or none, and port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := numericAddr(*listen); err != nil {
		return fmt.Errorf("LISTEN: %w", err)
	}

	var run func(net.Listener) error
	var backend string
	switch role {
	case "web":
		api, err := apiURL(os.Getenv("API_URL"))
		if err != nil {
			return err
		}
		backend = "api " + api.String()
		run = func(ln net.Listener) error { return serveHTTP(ctx, ln, webHandler(api)) }
	case "api":
		addr := os.Getenv("DB_ADDR")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("DB_ADDR %q: want host:port: %v", addr, err)
		}
		backend = "db " + addr
		run = func(ln net.Listener) error { return serveHTTP(ctx, ln, apiHandler(addr)) }
	case "db":
		dir := envOr("DATA_DIR", "/data")
		every, err := time.ParseDuration(envOr("CANARY_INTERVAL", "5s"))
		if err != nil || every <= 0 {
			return fmt.Errorf("CANARY_INTERVAL %q: want a positive duration such as 5s", os.Getenv("CANARY_INTERVAL"))
		}
		writer := canaryWriter(os.Getenv("CANARY_NODE"), os.Getenv("NODE_NAME"))
		s, err := openStore(dir, writer)
		if err != nil {
			return err
		}
		backend = fmt.Sprintf("data %s (%d orders), canary every %s", dir, s.n, every)
		if !writer {
			every = 0
			backend = fmt.Sprintf("data %s (%d orders), canary kept: node %q is not $CANARY_NODE %q", dir, s.n, os.Getenv("NODE_NAME"), os.Getenv("CANARY_NODE"))
		}
		run = func(ln net.Listener) error { return serveDB(ctx, ln, s, every) }
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Printf("started: listening on %s, %s", ln.Addr(), backend)
	if err := run(ln); err != nil {
		return err
	}
	log.Print("stopped")
	return nil
}

// readFiles writes each file to w, or with sum its SHA-256 line as
// sha256sum(1) prints it. The first file that cannot be read ends it.
func readFiles(w io.Writer, sum bool, files []string) error {
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		if sum {
			h := sha256.New()
			_, err = io.Copy(h, f)
			if err == nil {
				_, err = fmt.Fprintf(w, "%x  %s\n", h.Sum(nil), name)
			}
		} else {
			_, err = io.Copy(w, f)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// canaryWriter reports whether this db writes the canary: always when
// canaryNode is empty, else only on that node.
func canaryWriter(canaryNode, nodeName string) bool {
	return canaryNode == "" || canaryNode == nodeName
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// numericAddr refuses a listen address whose host is a name: binding must
// never look up the host's own name.
func numericAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q: the host must be an IP address or empty", addr)
	}
	return nil
}

func apiURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API_URL %q: want a URL such as http://api.shop.svc:9090", s)
	}
	return u, nil
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.Default()}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// transport never keeps connections alive: every call is a new connection,
// so it meets the Service's current endpoints and NetworkPolicies, not an
// established flow that a policy change would leave open. It ignores
// HTTP_PROXY: the back ends are in-cluster.
func transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: healthTimeout}).DialContext,
		DisableKeepAlives:     true,
		ResponseHeaderTimeout: requestTimeout,
	}
}

// getOK returns nil if GET u answers 2xx, else why not.
func getOK(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// check is "shop check URL".
func check(ctx context.Context, u string) error {
	return getOK(ctx, &http.Client{Timeout: checkTimeout, Transport: transport()}, u)
}

const storefrontPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title></head>
<body>
<h1>The lab shop</h1>
<ul>
<li>Espresso beans, 1 kg: 24.00</li>
<li>Ceramic mug: 12.50</li>
<li>Hand grinder: 49.00</li>
<li>Paper filters, 100: 4.20</li>
</ul>
<p><a href="/orders">Orders</a></p>
</body></html>
`

// webHandler serves the storefront; its health is the api's.
func webHandler(api *url.URL) http.Handler {
	client := &http.Client{Timeout: healthTimeout, Transport: transport()}
	health := api.JoinPath("livez").String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, storefrontPage)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := getOK(r.Context(), client, health); err != nil {
			log.Printf("healthz: api: %v", err)
			http.Error(w, "api: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.Handle("/orders", &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(api); pr.SetXForwarded() },
		Transport: transport(),
		ErrorLog:  log.Default(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Printf("%s /orders: api: %v", r.Method, err)
			http.Error(w, "api: "+err.Error(), http.StatusBadGateway)
		},
	})
	return mux
}

// apiHandler serves the orders from the database at dbAddr; its health is
// the database's.
func apiHandler(dbAddr string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		reply, err := dbDo(ctx, dbAddr, "PING")
		if err == nil && reply[0] != "PONG" {
			err = fmt.Errorf("PING: unexpected reply %q", reply[0])
		}
		if err != nil {
			log.Printf("healthz: %v", err)
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		orders, err := dbDo(ctx, dbAddr, "LIST")
		if err != nil {
			log.Printf("GET /orders: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, o := range orders {
			fmt.Fprintln(w, o)
		}
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOrderLen+1))
		order := strings.TrimSpace(string(body))
		switch {
		case err != nil:
			http.Error(w, "read order: "+err.Error(), http.StatusBadRequest)
			return
		case order == "" || len(body) > maxOrderLen || strings.ContainsAny(order, "\r\n"):
			http.Error(w, fmt.Sprintf("an order is one non-empty line of at most %d bytes", maxOrderLen), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		reply, err := dbDo(ctx, dbAddr, "APPEND "+order)
		n, ok := strings.CutPrefix(reply[0], "OK ")
		if err == nil && !ok {
			err = fmt.Errorf("APPEND: unexpected reply %q", reply[0])
		}
		if err != nil {
			log.Printf("POST /orders: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "order %s\n", n)
	})
	return mux
}

// dbDo sends one command to the database at addr on a new connection and
// returns its reply: one line, or for LIST the lines before ".". An ERR
// reply is an error. It always returns at least one (maybe empty) line.
func dbDo(ctx context.Context, addr, cmd string) (reply []string, err error) {
	defer func() {
		if err != nil {
			reply, err = []string{""}, fmt.Errorf("db %s: %w", addr, err)
		}
	}()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR ") {
			return nil, fmt.Errorf("%s: %s", strings.Fields(cmd)[0], line)
		}
		if cmd != "LIST" {
			return []string{line}, nil
		}
		if line == "." {
			if reply == nil {
				reply = []string{}
			}
			return reply, nil
		}
		reply = append(reply, strings.TrimPrefix(line, "."))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, io.ErrUnexpectedEOF
}

// store is the database's append-only order log, $DATA_DIR/orders.log.
type store struct {
	dir  string
	mu   sync.Mutex
	f    *os.File // opened O_APPEND
	n    int      // orders in the log
	size int64    // bytes in the log
}

// openStore opens (creating) the order log in dir and, with canary, writes
// the first canary, so both are there before the database listens. A last
// line without its newline, as a copy taken during a write may have, is
// dropped.
func openStore(dir string, canary bool) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ordersFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if keep := bytes.LastIndexByte(b, '\n') + 1; keep < len(b) {
		log.Printf("%s: dropping a partial last line of %d bytes", path, len(b)-keep)
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return nil, err
		}
		b = b[:keep]
	}
	if canary {
		if err := writeCanary(dir, time.Now()); err != nil {
			f.Close()
			return nil, fmt.Errorf("canary: %w", err)
		}
	}
	return &store{dir: dir, f: f, n: bytes.Count(b, []byte{'\n'}), size: int64(len(b))}, nil
}

// append adds an order (one line) to the log, durably, and returns its number.
func (s *store) append(order string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := order + "\n"
	if _, err := s.f.WriteString(line); err != nil {
		s.f.Truncate(s.size) // no partial line for the next append to extend
		return 0, err
	}
	if err := s.f.Sync(); err != nil {
		return 0, err
	}
	s.n++
	s.size += int64(len(line))
	return s.n, nil
}

func (s *store) list() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(s.dir, ordersFile))
	if err != nil || len(b) == 0 {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}

// writeCanary replaces dir/canary with the time, atomically: readers (and
// backups) see the old time or the new, never a partial file.
func writeCanary(dir string, now time.Time) error {
	tmp := filepath.Join(dir, canaryFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(now.UTC().Format(canaryLayout))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, canaryFile))
}

// serveDB rewrites the canary every canaryEvery (never when 0) and answers database
// connections on ln, until ctx ends. Then it stops accepting, lets each
// connection finish its command (for at most shutdownTimeout) and closes the
// log.
func serveDB(ctx context.Context, ln net.Listener, s *store, canaryEvery time.Duration) error {
	defer s.f.Close()
	var wg sync.WaitGroup
	wg.Go(func() {
		if canaryEvery <= 0 {
			return
		}
		t := time.NewTicker(canaryEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if err := writeCanary(s.dir, now); err != nil {
					log.Printf("canary: %v", err)
				}
			}
		}
	})

	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var acceptErr error
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				acceptErr = err
			}
			break
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Go(func() {
			s.handle(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		})
	}

	// Shutting down: no connection gets another command; the ones being
	// answered finish.
	ln.Close()
	mu.Lock()
	for c := range conns {
		if cr, ok := c.(interface{ CloseRead() error }); ok {
			cr.CloseRead()
		} else {
			c.Close()
		}
	}
	mu.Unlock()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done
	}
	return acceptErr
}

// handle answers one connection's commands until it closes or idles.
func (s *store) handle(c net.Conn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	w := bufio.NewWriter(c)
	for {
		c.SetReadDeadline(time.Now().Add(dbIdleTimeout))
		if !sc.Scan() {
			break
		}
		c.SetWriteDeadline(time.Now().Add(requestTimeout))
		s.answer(w, strings.TrimSuffix(sc.Text(), "\r"))
		if err := w.Flush(); err != nil {
			log.Printf("%s: %v", c.RemoteAddr(), err)
			return
		}
	}
	var ne net.Error
	if err := sc.Err(); err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		log.Printf("%s: %v", c.RemoteAddr(), err)
	}
}

func (s *store) answer(w io.Writer, line string) {
	cmd, arg, _ := strings.Cut(line, " ")
	switch {
	case line == "PING":
		io.WriteString(w, "PONG\n")
	case line == "LIST":
		orders, err := s.list()
		if err != nil {
			log.Printf("LIST: %v", err)
			fmt.Fprintf(w, "ERR %v\n", err)
			return
		}
		for _, o := range orders {
			if strings.HasPrefix(o, ".") {
				o = "." + o
			}
			fmt.Fprintln(w, o)
		}
		io.WriteString(w, ".\n")
	case cmd == "APPEND" && strings.TrimSpace(arg) != "":
		n, err := s.append(arg)
		if err != nil {
			log.Printf("APPEND: %v", err)
			fmt.Fprintf(w, "ERR %v\n", err)
			return
		}
		fmt.Fprintf(w, "OK %d\n", n)
	case cmd == "APPEND":
		io.WriteString(w, "ERR empty order\n")
	default:
		fmt.Fprintf(w, "ERR unknown command %q\n", cmd)
	}
}
