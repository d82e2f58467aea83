package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// State is what `up` records once the lab is seeded; `env` prints it.
type State struct {
	Backups  []string  `json:"backups"`  // oldest first
	Canaries []string  `json:"canaries"` // data-canary value in each backup
	SeededAt time.Time `json:"seededAt"`
}

func (c Config) sourceCluster(p *pki) *cluster {
	return &cluster{cfg: c, pki: p, name: "source", base: portSourceBase}
}
func (c Config) scratchCluster(p *pki) *cluster {
	return &cluster{cfg: c, pki: p, name: "scratch", base: portScratchBase}
}

// LoadBins runs build-bins.sh, which builds any missing binary (printing
// progress) and prints where each lives.
func LoadBins(ctx context.Context, scripts string, progress io.Writer) (Bins, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(scripts, "build-bins.sh"))
	cmd.Stderr = progress
	out, err := cmd.Output()
	if err != nil {
		return Bins{}, fmt.Errorf("build lab binaries: %w", err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	return Bins{Etcd: vars["ETCD_DIR"], Kube: vars["KUBE_DIR"], Kubectl: vars["KUBECTL_DIR"], Node: vars["NODE_DIR"], CoreDNS: vars["COREDNS_DIR"], KubeRouter: vars["KUBE_ROUTER_DIR"], MinIO: vars["MINIO_DIR"],
		Versity: vars["VERSITY_DIR"], Velero: vars["VELERO_DIR"], VeleroHelper: vars["VELERO_HELPER_DIR"], VeleroAWS: vars["VELERO_AWS_DIR"]}, nil
}

// Up starts every component that is not running, sets up what is missing
// and seeds the lab once. On a running, seeded lab it only checks health.
func (c Config) Up(ctx context.Context, out io.Writer) error {
	start := time.Now()
	step := func(what string) func() {
		t := time.Now()
		fmt.Fprintf(out, "lab: %s ...\n", what)
		return func() { fmt.Fprintf(out, "lab: %s done (%.1fs)\n", what, time.Since(t).Seconds()) }
	}
	if err := mkdirs(c.StateDir); err != nil {
		return err
	}
	p, err := c.pki()
	if err != nil {
		return err
	}

	if err := c.linkTools(); err != nil {
		return err
	}
	done := step("object storage: primary MinIO, off-site MinIO, off-cloud Versity")
	for _, s := range stores {
		if err := s.start(ctx, c); err != nil {
			return err
		}
		if err := s.lockedBucket(ctx); err != nil {
			return err
		}
	}
	if err := replicate(ctx); err != nil {
		return fmt.Errorf("replication primary -> off-site: %w", err)
	}
	if err := evidenceBuckets(ctx); err != nil {
		return err
	}
	done()

	done = step("images: pause, shop (e2e/lab/cmd) and velero (node-agent, restore helper)")
	images, err := c.buildImages(ctx)
	if err != nil {
		return err
	}
	done()

	src, scratch := c.sourceCluster(p), c.scratchCluster(p)
	for _, k := range []*cluster{src, scratch} {
		done := step(k.name + " cluster: etcd, kube-apiserver, controller-manager, scheduler")
		if err := k.up(ctx); err != nil {
			return fmt.Errorf("%s cluster: %w", k.name, err)
		}
		done()
		done = step(k.name + " node: network namespace, relay, containerd, kubelet, kube-proxy, kube-router, CoreDNS")
		if err := k.node(ctx, images); err != nil {
			return fmt.Errorf("%s node: %w", k.name, err)
		}
		done()
		done = step(k.name + " storage: StorageClass " + storageClass + ", local PersistentVolumes, pv-reclaimer")
		if err := k.storage(ctx); err != nil {
			return fmt.Errorf("%s storage: %w", k.name, err)
		}
		done()
	}

	done = step("scratch cluster: scratch marker and NetworkPolicy admission webhook")
	if err := scratch.markScratch(ctx); err != nil {
		return err
	}
	if err := scratch.webhook(ctx); err != nil {
		return fmt.Errorf("admission webhook: %w", err)
	}
	done()

	done = step("velero and node-agent in both clusters (scratch: ReadOnly location)")
	// Before Velero starts, so that its backups include the Storefronts.
	if err := src.applyAppCRD(ctx); err != nil {
		return fmt.Errorf("application CRD: %w", err)
	}
	if err := src.velero(ctx, false); err != nil {
		return err
	}
	if err := scratch.velero(ctx, true); err != nil {
		return err
	}
	done()

	st, err := c.LoadState()
	if errors.Is(err, errNotSeeded) {
		if st, err = c.seed(ctx, src, scratch, step); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := c.writeScenario(src, scratch); err != nil {
		return err
	}
	fmt.Fprintf(out, "lab: up in %.1fs; backups %s\n", time.Since(start).Seconds(), strings.Join(st.Backups, ", "))
	fmt.Fprintf(out, "lab: state in %s; eval \"$(make -s lab-env)\" to use it\n", c.StateDir)
	return nil
}

// seed deploys the application, backs it up twice (the data canary changes
// in between), waits for the off-site replica and the off-cloud copy, and
// for the scratch cluster's Velero to list both backups.
func (c Config) seed(ctx context.Context, src, scratch *cluster, step func(string) func()) (State, error) {
	var st State
	done := step("seed the shop application in the source cluster")
	if err := src.seedApp(ctx); err != nil {
		return st, fmt.Errorf("seed application: %w", err)
	}
	if err := src.schedule(ctx); err != nil {
		return st, fmt.Errorf("create schedule: %w", err)
	}
	done()
	var firstBackupAt time.Time
	for i := 0; i < 2; i++ {
		done := step(fmt.Sprintf("backup %d of 2", i+1))
		at := time.Now()
		if i == 0 {
			firstBackupAt = at
		}
		if len(st.Backups) > 0 && strings.HasSuffix(st.Backups[len(st.Backups)-1], at.UTC().Format("20060102150405")) {
			// Backup names have whole seconds; wait for the next one.
			time.Sleep(time.Until(at.Truncate(time.Second).Add(time.Second)))
			at = time.Now()
		}
		if err := src.writeCanary(ctx, at); err != nil {
			return st, fmt.Errorf("write data canary: %w", err)
		}
		if err := src.placeOrder(ctx, fmt.Sprintf("order %d: 2 x espresso, placed %s", i+1, at.UTC().Format(time.RFC3339))); err != nil {
			return st, fmt.Errorf("place an order: %w", err)
		}
		name, err := src.backupFromSchedule(ctx, at)
		if err != nil {
			return st, err
		}
		st.Backups = append(st.Backups, name)
		st.Canaries = append(st.Canaries, at.UTC().Format(time.RFC3339Nano))
		done()
	}
	done = step("off-site replication and off-cloud copy")
	prefix := backupPrefix + "/"
	if err := waitReplicated(ctx, prefix); err != nil {
		return st, err
	}
	if _, err := copyOffcloud(ctx, prefix); err != nil {
		return st, err
	}
	done()
	done = step("scratch cluster's Velero syncs the backups (up to a minute)")
	kc, err := scratch.kube()
	if err != nil {
		return st, err
	}
	if err := c.waitReady(ctx, &proc{d: daemon{name: "scratch-velero"}}, 3*time.Minute, func(ctx context.Context) error {
		for _, b := range st.Backups {
			if err := backupPhase(ctx, kc, b, "Completed"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return st, err
	}
	done()
	// The lab scenario's recovery window (retention, scenario.go) must
	// reach back to the first backup when the first drill starts: lab-up
	// ends no sooner than labWindowAge after it.
	if wait := time.Until(firstBackupAt.Add(labWindowAge)); wait > 0 {
		time.Sleep(wait)
	}
	st.SeededAt = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return st, err
	}
	return st, os.WriteFile(c.path("lab.json"), b, 0o644)
}

// linkTools puts the client tools a drill's runbook steps and the tests
// call (kubectl, velero, etcdctl) in <state>/bin, for PATH.
func (c Config) linkTools() error {
	dir := c.path("bin")
	if err := mkdirs(dir); err != nil {
		return err
	}
	for name, target := range map[string]string{
		"kubectl": filepath.Join(c.Bins.Kubectl, "kubectl"),
		"velero":  c.VeleroBinary(),
		"etcdctl": filepath.Join(c.Bins.Etcd, "etcdctl"),
	} {
		link := filepath.Join(dir, name)
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	return nil
}

// LoadState reads what `up` recorded; errNotSeeded when it has not finished.
func (c Config) LoadState() (State, error) {
	var st State
	b, err := os.ReadFile(c.path("lab.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, errNotSeeded
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// markScratch labels kube-system with the marker firedrill requires before
// it restores anything into a cluster.
func (k *cluster) markScratch(ctx context.Context) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	u, err := toUnstructured(&corev1.Namespace{
		TypeMeta:   typeMeta("v1", "Namespace"),
		ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{scratchLabel: "true"}},
	})
	if err != nil {
		return err
	}
	return kc.apply(ctx, u)
}

// Status checks every component and returns an error naming those down.
func (c Config) Status(ctx context.Context, out io.Writer) error {
	checks := map[string]error{}
	for _, s := range stores {
		checks["s3-"+s.name] = s.health(ctx)
	}
	p := &pki{dir: c.path("pki")}
	for _, k := range []*cluster{c.sourceCluster(p), c.scratchCluster(p)} {
		for n, err := range k.health(ctx) {
			checks[n] = err
		}
		checks[k.name+"-velero"] = httpOK(plainClient, fmt.Sprintf("http://127.0.0.1:%d/metrics", k.port(offsetVeleroMetrics)))(ctx)
		checks[k.name+"-pv-reclaimer"] = nil
		if _, ok := c.alive(k.name + "-pv-reclaimer"); !ok {
			checks[k.name+"-pv-reclaimer"] = errors.New("not running")
		}
		if kc, err := k.kube(); err != nil {
			checks[k.name+"-node-agent"] = err
		} else {
			checks[k.name+"-node-agent"] = nodeAgentReady(ctx, kc)
		}
	}
	checks["scratch-webhook"] = httpOK(insecureClient, fmt.Sprintf("https://127.0.0.1:%d/healthz", portWebhook))(ctx)
	if _, err := c.LoadState(); err != nil {
		checks["seed"] = err
	} else {
		checks["seed"] = nil
	}
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	var down []string
	for _, n := range names {
		if err := checks[n]; err != nil {
			fmt.Fprintf(out, "%-32s DOWN  %v\n", n, firstLine(err.Error()))
			down = append(down, n)
		} else {
			fmt.Fprintf(out, "%-32s up\n", n)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("%d of %d lab components down: %s", len(down), len(names), strings.Join(down, ", "))
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Down stops every process the lab started, waits for each to exit, and
// removes the lab's state.
func (c Config) Down(out io.Writer) error {
	names, err := c.recorded()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.stop(n, 30*time.Second); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs[i] = fmt.Errorf("stop %s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// What the nodes' pods left: their processes, mounts, network
	// namespaces, and the nodes' own namespaces and veth pairs.
	p := &pki{dir: c.path("pki")}
	for _, k := range []*cluster{c.sourceCluster(p), c.scratchCluster(p)} {
		if err := k.nodeCleanup(context.Background()); err != nil {
			return fmt.Errorf("clean up the %s node: %w", k.name, err)
		}
	}
	fmt.Fprintf(out, "lab: stopped %d processes\n", len(names))
	return os.RemoveAll(c.StateDir)
}

// StopComponent stops one running component and waits for it to exit.
func (c Config) StopComponent(name string) error {
	if _, ok := c.alive(name); !ok {
		return fmt.Errorf("component %q is not running (see firedrill-lab status)", name)
	}
	return c.stop(name, 30*time.Second)
}

// Env returns `export NAME=value` lines for a shell or a test.
func (c Config) Env() (string, error) {
	st, err := c.LoadState()
	if err != nil {
		return "", fmt.Errorf("%w: run make lab-up", err)
	}
	p := &pki{dir: c.path("pki")}
	src, scratch := c.sourceCluster(p), c.scratchCluster(p)
	vars := [][2]string{
		{"FIREDRILL_LAB_DIR", c.StateDir},
		{"FIREDRILL_LAB_CTL", c.Self},
		{"FIREDRILL_LAB_BIN", c.path("bin")}, // kubectl, velero, etcdctl
		{"FIREDRILL_LAB_SOURCE_KUBECONFIG", src.Kubeconfig()},
		{"FIREDRILL_LAB_SOURCE_CONTEXT", src.Context()},
		{"FIREDRILL_LAB_SCRATCH_KUBECONFIG", scratch.Kubeconfig()},
		{"FIREDRILL_LAB_SCRATCH_CONTEXT", scratch.Context()},
		// The real nodes: containerd's socket (for `ctr -n k8s.io images
		// import`), and the address at which pods of each cluster reach
		// the lab's API and S3 servers (through the relay; see nodeNet).
		{"FIREDRILL_LAB_SOURCE_CONTAINERD", src.containerdSocket()},
		{"FIREDRILL_LAB_SCRATCH_CONTAINERD", scratch.containerdSocket()},
		{"FIREDRILL_LAB_SOURCE_POD_GATEWAY", src.net().hostIP},
		{"FIREDRILL_LAB_SCRATCH_POD_GATEWAY", scratch.net().hostIP},
		{"FIREDRILL_LAB_VELERO", c.VeleroBinaryFromState()},
		{"FIREDRILL_LAB_VELERO_NAMESPACE", veleroNS},
		{"FIREDRILL_LAB_SCHEDULE", scheduleName},
		{"FIREDRILL_LAB_BACKUPS", strings.Join(st.Backups, " ")},
		{"FIREDRILL_LAB_BACKUP_OLDEST", st.Backups[0]},
		{"FIREDRILL_LAB_BACKUP_LATEST", st.Backups[len(st.Backups)-1]},
		{"FIREDRILL_LAB_CANARY_LATEST", st.Canaries[len(st.Canaries)-1]},
		{"FIREDRILL_LAB_APP_NAMESPACES", strings.Join(appNamespaces, " ")},
		// The stateful back end (see seed.go): its volume is in every
		// backup through file-system backup.
		{"FIREDRILL_LAB_DATA_NAMESPACE", canaryNamespace},
		{"FIREDRILL_LAB_DATA_STATEFULSET", dataWorkload},
		{"FIREDRILL_LAB_DATA_POD", dataWorkload + "-0"},
		{"FIREDRILL_LAB_DATA_CONTAINER", dataContainer},
		{"FIREDRILL_LAB_DATA_PVC", dataPVC},
		{"FIREDRILL_LAB_DATA_VOLUME", dataVolume},
		{"FIREDRILL_LAB_DATA_ORDERS_FILE", dataOrdersFile},
		{"FIREDRILL_LAB_DATA_CANARY_FILE", dataCanaryFile},
		{"FIREDRILL_LAB_STORAGE_CLASS", storageClass},
		{"FIREDRILL_LAB_VELERO_IMAGE", VeleroImage},
		{"FIREDRILL_LAB_WEBHOOK_DENY", WebhookDenyReason},
		{"FIREDRILL_LAB_SCENARIO", scenarioName},
		{"FIREDRILL_SCENARIOS", c.path("scenarios")},
		{"FIREDRILL_LAB_EVIDENCE_BUCKET", evidenceBucket},
		{"FIREDRILL_LAB_EVIDENCE_UNLOCKED_BUCKET", evidenceUnlocked},
		{"FIREDRILL_LAB_HISTORY_BUCKET", historyBucket},
	}
	for _, s := range stores {
		up := "FIREDRILL_LAB_" + strings.ToUpper(s.name) + "_"
		vars = append(vars,
			[2]string{up + "ENDPOINT", s.Endpoint()}, [2]string{up + "REGION", s3Region},
			[2]string{up + "BUCKET", s.bucket}, [2]string{up + "PREFIX", backupPrefix},
			[2]string{up + "ACCESS_KEY", s3AccessKey}, [2]string{up + "SECRET_KEY", s3SecretKey})
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", v[0], shellQuote(v[1]))
	}
	return b.String(), nil
}

// VeleroBinaryFromState finds the velero binary the running lab uses, from
// the PID file of the source cluster's Velero server.
func (c Config) VeleroBinaryFromState() string {
	b, err := os.ReadFile(c.pidFile("source-velero"))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		return ""
	}
	return lines[1]
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
