#!/usr/bin/env bash
# demo.sh: what `make demo` runs once the lab is up (make demo brings it up
# and evals `firedrill-lab env` first). Usage: demo.sh PATH/TO/firedrill
set -euo pipefail
firedrill=${1:?usage: demo.sh PATH/TO/firedrill}
# The lab's runbook steps call kubectl and velero.
export PATH="$FIREDRILL_LAB_BIN:$PATH"

echo
echo "== The lab's drill scenario: $FIREDRILL_LAB_SCENARIO (from $FIREDRILL_SCENARIOS)"
"$firedrill" validate "$FIREDRILL_SCENARIOS/$FIREDRILL_LAB_SCENARIO.yaml"
echo
echo "== The shop in the source cluster: real containers on the lab's node (restored ones will run the same way)"
kubectl --kubeconfig "$FIREDRILL_LAB_SOURCE_KUBECONFIG" get pods -A -l 'app in (web,api,db)' -o wide
echo
echo "== What the drill will do, step by step (touches nothing)"
"$firedrill" plan "$FIREDRILL_LAB_SCENARIO"
echo
echo "== A key pair to sign the drill's evidence (kept with the lab's state)"
keys="$FIREDRILL_LAB_DIR/demo-evidence-keys"
mkdir -p "$keys"
[ -f "$keys/firedrill-evidence.key" ] || "$firedrill" evidence keygen --out-dir "$keys"
echo
echo "== Running the drill: the shop's region is lost; recover it into the hardened scratch cluster"
echo "   (its signed evidence goes, COMPLIANCE-locked for a day, to s3://$FIREDRILL_LAB_EVIDENCE_BUCKET on the lab's MinIO;"
echo "   --yes: the runbook's manual step is not asked for, its 5m estimate counts toward RTO as declared)"
status=0
FIREDRILL_EVIDENCE_ACCESS_KEY_ID="$FIREDRILL_LAB_PRIMARY_ACCESS_KEY" \
FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY="$FIREDRILL_LAB_PRIMARY_SECRET_KEY" \
"$firedrill" run "$FIREDRILL_LAB_SCENARIO" --yes --evidence-key "$keys/firedrill-evidence.key" \
    --evidence-push "s3://$FIREDRILL_LAB_EVIDENCE_BUCKET/demo" --evidence-push-endpoint "$FIREDRILL_LAB_PRIMARY_ENDPOINT" \
    --evidence-push-path-style --evidence-retention 1d || status=$?
echo
echo "== Drill history"
"$firedrill" history "$FIREDRILL_LAB_SCENARIO"
id=$("$firedrill" history "$FIREDRILL_LAB_SCENARIO" -o json | sed -n 's/.*"drill_id": "\(.*\)".*/\1/p' | head -1)
drilldir="$("$firedrill" history "$FIREDRILL_LAB_SCENARIO" -o json | sed -n 's/.*"report": "\(.*\)\/report.html".*/\1/p' | head -1)"
bundle="$drilldir/evidence.tar.gz"
if [ -f "$drilldir/report.md" ] && grep -q '^## Recovery window' "$drilldir/report.md"; then
    echo
    echo "== The recovery window of the lab's schedule (backup retention, from the drill's report.md;"
    echo "   report.html draws it as a strip)"
    sed -n '/^## Recovery window/,/^## /p' "$drilldir/report.md" | sed '1d;$d'
fi
if [ -f "$bundle" ]; then
    echo
    echo "== The auditor's side: verify drill $id's evidence with the public key"
    "$firedrill" evidence verify "$bundle" --public-key "$keys/firedrill-evidence.pub" || status=$?
fi
cat <<MSG

Open the report (report.html above) in a browser; fill in retrospective.md
with the team. The signed evidence bundle is $bundle;
'firedrill evidence summary' lists every drill for an audit period.
'firedrill verify $FIREDRILL_LAB_SCENARIO' runs the protection checks alone.
Stop the lab with: make lab-down
MSG
exit "$status"
