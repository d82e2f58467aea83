#!/usr/bin/env bash
# demo.sh: what `make demo` runs once the lab is up (make demo brings it up
# and evals `firedrill-lab env` first). Usage: demo.sh PATH/TO/firedrill
set -euo pipefail
firedrill=${1:?usage: demo.sh PATH/TO/firedrill}

echo
echo "== The lab's drill scenario: $FIREDRILL_LAB_SCENARIO (from $FIREDRILL_SCENARIOS)"
"$firedrill" validate "$FIREDRILL_SCENARIOS/$FIREDRILL_LAB_SCENARIO.yaml"
echo
echo "== What the drill will do, step by step (touches nothing)"
"$firedrill" plan "$FIREDRILL_LAB_SCENARIO"
echo
if "$firedrill" run --help >/dev/null 2>&1; then
	echo "== Running the drill"
	"$firedrill" run "$FIREDRILL_LAB_SCENARIO"
else
	cat <<MSG
== Not yet: running the drill
firedrill cannot run a drill yet: 'firedrill run' (protection checks,
NetworkPolicy-first restore, RTO/RPO, report and retrospective) is still
being built. The lab it will run against is up and seeded:

  source cluster   KUBECONFIG=$FIREDRILL_LAB_SOURCE_KUBECONFIG
  scratch cluster  KUBECONFIG=$FIREDRILL_LAB_SCRATCH_KUBECONFIG (hardened, marked scratch)
  backups          $FIREDRILL_LAB_BACKUPS
  primary bucket   $FIREDRILL_LAB_PRIMARY_ENDPOINT/$FIREDRILL_LAB_PRIMARY_BUCKET (object lock, COMPLIANCE)
  off-site copy    $FIREDRILL_LAB_OFFSITE_ENDPOINT/$FIREDRILL_LAB_OFFSITE_BUCKET (MinIO replication)
  off-cloud copy   $FIREDRILL_LAB_OFFCLOUD_ENDPOINT/$FIREDRILL_LAB_OFFCLOUD_BUCKET (Versity)

Try the trap the drill avoids (Velero's default order is refused):
  eval "\$(make -s lab-env)"
  KUBECONFIG=\$FIREDRILL_LAB_SCRATCH_KUBECONFIG \$FIREDRILL_LAB_VELERO restore create demo-\$RANDOM \\
      --from-backup \$FIREDRILL_LAB_BACKUP_LATEST --include-namespaces shop \\
      --namespace-mappings shop:shop-demo --namespace velero --wait

Stop the lab with: make lab-down
MSG
fi
