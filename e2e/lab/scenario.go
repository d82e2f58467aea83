package lab

import (
	"fmt"
	"os"
	"time"
)

// labWindowAge is the shortest time between the lab's first backup and
// the end of lab-up, so the scenario's retention (30s) is always reached
// back: lab-up usually takes that long anyway, waiting for Velero's
// backup sync.
const labWindowAge = 40 * time.Second

// writeScenario writes the scenario that drills this lab, so that
// `firedrill run lab-region-loss` finds it through $FIREDRILL_SCENARIOS
// (printed by `env`). Credentials are references to the lab's env vars.
// The off-site copy's endpoint is the scratch node's relay, not 127.0.0.1:
// a drill restoring from the copy makes it a Velero location in the
// scratch cluster, and node-agent's pods there read the kopia repository
// through it (the machine reaches the relay too).
func (c Config) writeScenario(src, scratch *cluster) error {
	if err := mkdirs(c.path("scenarios")); err != nil {
		return err
	}
	body := fmt.Sprintf(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata:
  name: %[1]s
  description: Lose the lab's source cluster and its region; recover the shop into the hardened scratch cluster.
spec:
  disaster:
    summary: The region hosting the shop's cluster is down; recover the shop into a new cluster from backups.
    narrative: |
      At 03:10 the cloud provider's status page reports the region as
      unavailable. The shop's source cluster cannot be reached and will not
      come back in time. The platform team restores the shop from the latest
      Velero backup into a fresh, hardened cluster, in which workloads are
      refused until their namespace has NetworkPolicies.
    lost: [sourceCluster, region]
    detection: Synthetic checks of the shop fail from every probe location; the provider's status page confirms the outage.
    lead: on-call platform engineer
    observers: [shop application team]
  objectives:
    rto: 15m
    rpo: 24h
    # The recovery window (see README "The recovery window"). The lab's
    # schedule (daily at 03:00, TTL 12h) has only the backups lab-up takes,
    # at least 40 s before the first drill (lab-up ends no sooner,
    # labWindowAge): a restore can reach back that far, not a week. Nothing may outlive two days: the bucket's
    # one-day COMPLIANCE lock and the 12h TTL fit, and a lab left up
    # longer shows what a drill says of data kept too long.
    retention: 30s
    maxRetention: 2d
    tier: lab
  source:
    kubeconfig: %[2]q
    context: %[3]s
  backups:
    veleroNamespace: %[4]s
    storageLocation: default
    schedule: %[5]s
    # The Schedule's cron expression: the source is lost, so the recovery
    # window's missed runs are judged against this.
    scheduleCron: "0 3 * * *"
    includedNamespaces: [shop, shop-data]
    # Claims the backup holds no data of, on purpose: the drill names
    # them as warnings, not failures.
    acceptedOutOfScope:
      # The db's cache volume: a cache, so it needs no backup (the db pod
      # opts it out with backup.velero.io/backup-volumes-excludes).
      - shop-data/cache-db-0
      # An export area no pod mounts: file-system backup has nothing to
      # read, so no backup holds its data.
      - shop/exports
  storage:
    primary:
      endpoint: %[6]s
      region: %[7]s
      bucket: %[8]s
      prefix: %[9]s
      pathStyle: true
      credentials: {accessKeyIDEnv: FIREDRILL_LAB_PRIMARY_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_PRIMARY_SECRET_KEY}
      objectLock: {mode: COMPLIANCE, minRetention: 12h}
    copies:
      - name: offsite
        kind: offsite
        endpoint: %[10]s
        region: %[7]s
        bucket: %[11]s
        prefix: %[9]s
        pathStyle: true
        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFSITE_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_OFFSITE_SECRET_KEY}
        objectLock: {mode: COMPLIANCE, minRetention: 12h}
        compare: {mode: checksum}
        storageLocation: lab-offsite
      - name: offcloud
        kind: offcloud
        endpoint: %[12]s
        region: %[7]s
        bucket: %[13]s
        prefix: %[9]s
        pathStyle: true
        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFCLOUD_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_OFFCLOUD_SECRET_KEY}
        objectLock: {mode: COMPLIANCE, minRetention: 12h}
        compare: {mode: content}
  target:
    kubeconfig: %[14]q
    context: %[15]s
  checks:
    - name: shop-workloads
      workloads: {namespace: shop}
    - name: shop-data-workloads
      workloads: {namespace: shop-data}
    - name: shop-web-serves
      # Through the restored Service, via the scratch API server's proxy:
      # web answers 200 only when it reaches api over the pod network.
      http: {service: {namespace: shop, name: web, port: 80}, path: /healthz, expectStatus: 200, bodyContains: ok}
    - name: shop-takes-orders
      # web -> api -> db, across the shop's two namespaces: the whole
      # shop serves, not only its front end.
      http: {service: {namespace: shop, name: web, port: 80}, path: /orders, expectStatus: 200}
    - name: shop-api-identity
      serviceAccount: {namespace: shop, name: shop-api}
    - name: restored-orders
      # The db's order log, read inside the restored db pod: the volume's
      # data came back, not only its PersistentVolumeClaim. The image has
      # no shell or cat: /shop cat is its reader.
      exec: {namespace: %[16]s, pod: %[19]s, container: %[20]s, command: [/shop, cat, %[21]s], expectRegexp: '(?m)^order 2: '}
    - name: volume-canary
      # The time the db last wrote into its volume before the backup: the
      # application RPO of the report is the disaster time minus it.
      dataCanary: {namespace: %[16]s, pod: %[19]s, container: %[20]s, command: [/shop, cat, %[22]s]}
    - name: data-canary
      # The same idea kept in a ConfigMap (the seed writes it before each backup).
      dataCanary: {namespace: %[16]s, configMap: %[17]s, key: %[18]s}
  runbook: {file: %[1]s.md}
  cleanup: {policy: onSuccess}
`, scenarioName, src.Kubeconfig(), src.Context(), veleroNS, scheduleName,
		primaryStore.Endpoint(), s3Region, primaryStore.bucket, backupPrefix,
		scratch.relayS3(portOffsiteS3), offsiteStore.bucket, offcloudStore.Endpoint(), offcloudStore.bucket,
		scratch.Kubeconfig(), scratch.Context(), canaryNamespace, canaryName, canaryKey,
		dataWorkload+"-0", dataContainer, dataOrdersFile, dataCanaryFile)
	if err := os.WriteFile(c.path("scenarios", scenarioName+".md"), []byte(labRunbook), 0o644); err != nil {
		return err
	}
	return os.WriteFile(c.path("scenarios", scenarioName+".yaml"), []byte(body), 0o644)
}

// labRunbook is what the on-call engineer follows after the restore; its
// steps need kubectl and velero on PATH (FIREDRILL_LAB_BIN has both).
const labRunbook = `# Runbook: the shop's region is down

Restore the shop into the hardened scratch cluster, then prove it serves.

## 1. The backup we restored is Completed

` + "```sh firedrill-step name=\"backup-completed\" timeout=1m" + `
phase=$(kubectl -n "$FIREDRILL_VELERO_NAMESPACE" get backups.velero.io "$FIREDRILL_BACKUP" -o jsonpath='{.status.phase}')
echo "backup $FIREDRILL_BACKUP is $phase"
test "$phase" = Completed
` + "```" + `

## 2. Every namespace has its NetworkPolicies

The hardened cluster refuses workloads without them; if this fails the
restore order was wrong.

` + "```sh firedrill-step name=\"network-policies\" timeout=1m" + `
for ns in $FIREDRILL_NAMESPACES; do
  n=$(kubectl -n "$ns" get networkpolicies -o name | wc -l)
  echo "$ns: $n NetworkPolicies"
  test "$n" -gt 0
done
` + "```" + `

## 3. The shop's workloads are Available

` + "```sh firedrill-step name=\"workloads-available\" timeout=2m" + `
for ns in $FIREDRILL_NAMESPACES; do
  if [ -n "$(kubectl -n "$ns" get deployments -o name)" ]; then
    kubectl -n "$ns" wait deployment --all --for=condition=Available --timeout=90s
  fi
  for sts in $(kubectl -n "$ns" get statefulsets -o name); do
    kubectl -n "$ns" rollout status "$sts" --timeout=90s
  done
done
` + "```" + `

## 4. Tell the shop team

Not automated: a manual step. At a terminal the drill shows it and times it
until you confirm it; in CI, a scheduled drill or with --yes its estimate
counts toward RTO as declared.

` + "```text firedrill-manual name=\"tell-shop-team\" estimate=5m" + `
Post in the incident channel that the shop is restored, from which backup
(and so with which RPO), and that orders are being taken again.
` + "```" + `
`
