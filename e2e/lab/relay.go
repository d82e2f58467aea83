package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// Relay forwards TCP connections from each listen address to its target,
// byte for byte (TLS passes through untouched). The lab runs one per node
// network: the API servers and S3 servers listen on 127.0.0.1 only, and the
// relay makes them reachable from that node's pods at the machine's side of
// its veth pair (see nodeNet), which is reachable from nowhere else.
//
// routes maps "listenHost:port" to "targetHost:port". Relay returns when ctx
// ends or a listener fails.
func Relay(ctx context.Context, routes map[string]string, log *slog.Logger) error {
	var lc net.ListenConfig
	var wg sync.WaitGroup
	errc := make(chan error, len(routes))
	var listeners []net.Listener
	for from, to := range routes {
		l, err := lc.Listen(ctx, "tcp", from)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("relay listen %s: %w", from, err)
		}
		listeners = append(listeners, l)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- serveRelay(l, to, log)
		}()
	}
	log.Info("relay serving", "routes", len(routes))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, l := range listeners {
		l.Close()
	}
	wg.Wait()
	return err
}

func serveRelay(l net.Listener, to string, log *slog.Logger) error {
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			d := net.Dialer{Timeout: 5 * time.Second}
			t, err := d.Dial("tcp", to)
			if err != nil {
				log.Warn("relay dial", "to", to, "err", err)
				return
			}
			defer t.Close()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(t, c)
			go pipe(c, t)
			<-done
			<-done
		}()
	}
}

// ParseRoutes reads "from=to,from=to" as Relay's routes.
func ParseRoutes(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(r), "=")
		if !ok {
			return nil, fmt.Errorf("relay route %q: want LISTEN=TARGET", r)
		}
		out[from] = to
	}
	return out, nil
}
