// Command firedrill-lab starts, checks and stops the lab firedrill is tested
// against: real S3 servers, Kubernetes control planes and Velero on
// 127.0.0.1 (see package lab). The Makefile's lab-* targets call it.
//
//	firedrill-lab up       build what is missing, start, seed (quick when up)
//	firedrill-lab status   exit 0 when every component is up
//	firedrill-lab env      export lines for tests and shells
//	firedrill-lab down     stop everything, wait for exit, remove state
//	firedrill-lab stop C   stop one component (simulate its loss); up restarts it
//	firedrill-lab relay    (started by up) forward a node's TCP to 127.0.0.1
//	firedrill-lab reclaim-volumes (started by up) free Released local PVs
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/firedrill-dev/firedrill/e2e/lab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "firedrill-lab:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: firedrill-lab up|status|env|down|stop|webhook")
	}
	state, err := lab.DefaultStateDir()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := lab.Config{StateDir: state, Scripts: scriptsDir(), Self: self}
	switch args[0] {
	case "up":
		if cfg.Bins, err = lab.LoadBins(ctx, cfg.Scripts, os.Stderr); err != nil {
			return err
		}
		return cfg.Up(ctx, os.Stderr)
	case "status":
		return cfg.Status(ctx, os.Stdout)
	case "env":
		env, err := cfg.Env()
		if err != nil {
			return err
		}
		fmt.Print(env)
		return nil
	case "down":
		return cfg.Down(os.Stderr)
	case "stop":
		// Stop one component (e.g. s3-primary) to simulate its loss; `up`
		// starts it again.
		if len(args) != 2 {
			return fmt.Errorf("usage: firedrill-lab stop COMPONENT (names as in firedrill-lab status)")
		}
		return cfg.StopComponent(args[1])
	case "relay":
		// Started by `up`, one per node: makes the lab's 127.0.0.1
		// servers reachable from that node's pods (see lab.Relay).
		fs := flag.NewFlagSet("relay", flag.ContinueOnError)
		routes := fs.String("routes", "", "LISTEN=TARGET,... TCP routes")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		r, err := lab.ParseRoutes(*routes)
		if err != nil {
			return err
		}
		return lab.Relay(ctx, r, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	case "reclaim-volumes":
		// Started by `up`, one per cluster: makes Released local PVs
		// Available again (see lab.ReclaimVolumes).
		fs := flag.NewFlagSet("reclaim-volumes", flag.ContinueOnError)
		kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster")
		dir := fs.String("dir", "", "directory holding the PVs' directories; PVs elsewhere are left alone")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *kubeconfig == "" || *dir == "" {
			return fmt.Errorf("usage: firedrill-lab reclaim-volumes --kubeconfig FILE --dir DIR")
		}
		return lab.ReclaimVolumes(ctx, *kubeconfig, *dir, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	case "webhook":
		fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
		listen := fs.String("listen", "127.0.0.1:27030", "address to serve on")
		cert := fs.String("cert", "", "serving certificate")
		key := fs.String("key", "", "serving key")
		kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster to check NetworkPolicies in")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		return lab.ServeWebhook(ctx, *listen, *cert, *key, *kubeconfig, log)
	}
	return fmt.Errorf("unknown command %q: want up, status, env, down or webhook", args[0])
}

// scriptsDir finds e2e/lab (build-bins.sh): next to the
// binary's repository (bin/firedrill-lab), else under the working directory.
func scriptsDir() string {
	if d := os.Getenv("FIREDRILL_LAB_SCRIPTS"); d != "" {
		return d
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(filepath.Dir(exe)), "e2e", "lab")
		if _, err := os.Stat(filepath.Join(d, "build-bins.sh")); err == nil {
			return d
		}
	}
	d, _ := filepath.Abs(filepath.Join("e2e", "lab"))
	return d
}
