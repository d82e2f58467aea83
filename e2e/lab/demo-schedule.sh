#!/usr/bin/env bash
# demo-schedule.sh: what `make demo-schedule` runs after `make lab-up`: the
# lab's scenario as a scheduled drill, the way a platform team installs one
# (README, "Scheduled drills"): render the manifests, create the Secrets they
# name, load the image, apply, and start one run as a Job from the CronJob.
# The drill then runs as a pod on the scratch cluster's real node. Exit 0
# only when the drill in the pod passed.
#
# Usage: demo-schedule.sh PATH/TO/firedrill RUNNER-IMAGE-ARCHIVE IMAGE-NAME
set -euo pipefail
firedrill=${1:?usage: demo-schedule.sh FIREDRILL ARCHIVE IMAGE}
archive=${2:?usage: demo-schedule.sh FIREDRILL ARCHIVE IMAGE}
image=${3:?usage: demo-schedule.sh FIREDRILL ARCHIVE IMAGE}
export PATH="$FIREDRILL_LAB_BIN:$PATH"
k() { kubectl --kubeconfig "$FIREDRILL_LAB_SCRATCH_KUBECONFIG" "$@"; }

ns=firedrill
name=lab-scheduled
gw=$FIREDRILL_LAB_SCRATCH_POD_GATEWAY
work="$FIREDRILL_LAB_DIR/demo-schedule"
mkdir -p "$work"

echo "== The scenario as the drill pod sees the lab: S3 at $gw (the relay on the scratch node's gateway), not 127.0.0.1;"
echo "   cleanup always, so a failed demo run leaves the lab ready for the next"
sed -e "s#http://127.0.0.1:#http://$gw:#g" -e "s/^  name: $FIREDRILL_LAB_SCENARIO\$/  name: $name/" \
    -e "s/cleanup: {policy: onSuccess}/cleanup: {policy: always}/" \
    "$FIREDRILL_SCENARIOS/$FIREDRILL_LAB_SCENARIO.yaml" > "$work/$name.yaml"
cp "$FIREDRILL_SCENARIOS/$FIREDRILL_LAB_SCENARIO.md" "$work/"
"$firedrill" validate "$work/$name.yaml"

echo
echo "== Load the runner image into the scratch node (no registry here: ctr images import)"
ctr -a "$FIREDRILL_LAB_SCRATCH_CONTAINERD" -n k8s.io images import "$archive"

echo
echo "== Render the schedule ($work/drills.yaml)"
"$firedrill" schedule render --scenario "$work/$name.yaml" --cadence quarterly --namespace "$ns" --image "$image" \
    --history "s3://$FIREDRILL_LAB_HISTORY_BUCKET/demo" --history-endpoint "http://$gw:27000" --history-path-style \
    --evidence-push "s3://$FIREDRILL_LAB_EVIDENCE_BUCKET/demo-schedule" --evidence-push-endpoint "http://$gw:27000" \
    --evidence-push-path-style --run-arg --evidence-retention=1d > "$work/drills.yaml"
grep -E '^kind:' "$work/drills.yaml" | sort | uniq -c

echo
echo "== Apply it, then create the Secrets it names (credentials never go in the manifests)"
k apply -f "$work/drills.yaml"
keys="$work/keys"
mkdir -p "$keys"
[ -f "$keys/firedrill-evidence.key" ] || "$firedrill" evidence keygen --out-dir "$keys"
secret() { # NAME KEY=VALUE...: create or replace
    local n=$1
    shift
    local args=()
    for kv in "$@"; do args+=(--from-literal="$kv"); done
    k -n "$ns" create secret generic "$n" "${args[@]}" --dry-run=client -o yaml | k apply -f - >/dev/null
    echo "secret/$n"
}
secret firedrill-credentials \
    "FIREDRILL_LAB_PRIMARY_ACCESS_KEY=$FIREDRILL_LAB_PRIMARY_ACCESS_KEY" "FIREDRILL_LAB_PRIMARY_SECRET_KEY=$FIREDRILL_LAB_PRIMARY_SECRET_KEY" \
    "FIREDRILL_LAB_OFFSITE_ACCESS_KEY=$FIREDRILL_LAB_OFFSITE_ACCESS_KEY" "FIREDRILL_LAB_OFFSITE_SECRET_KEY=$FIREDRILL_LAB_OFFSITE_SECRET_KEY" \
    "FIREDRILL_LAB_OFFCLOUD_ACCESS_KEY=$FIREDRILL_LAB_OFFCLOUD_ACCESS_KEY" "FIREDRILL_LAB_OFFCLOUD_SECRET_KEY=$FIREDRILL_LAB_OFFCLOUD_SECRET_KEY"
k -n "$ns" create secret generic firedrill-source-kubeconfig --from-file=kubeconfig="$FIREDRILL_LAB_SOURCE_KUBECONFIG" \
    --dry-run=client -o yaml | k apply -f - >/dev/null && echo secret/firedrill-source-kubeconfig
secret firedrill-history "FIREDRILL_HISTORY_ACCESS_KEY_ID=$FIREDRILL_LAB_PRIMARY_ACCESS_KEY" \
    "FIREDRILL_HISTORY_SECRET_ACCESS_KEY=$FIREDRILL_LAB_PRIMARY_SECRET_KEY"
secret firedrill-evidence "FIREDRILL_EVIDENCE_KEY=$(cat "$keys/firedrill-evidence.key")" \
    "FIREDRILL_EVIDENCE_ACCESS_KEY_ID=$FIREDRILL_LAB_PRIMARY_ACCESS_KEY" \
    "FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY=$FIREDRILL_LAB_PRIMARY_SECRET_KEY"

echo
job="$name-$(date -u +%Y%m%d%H%M%S)"
echo "== The first run: job/$job from cronjob/firedrill-$name, followed live"
k -n "$ns" create job "$job" --from="cronjob/firedrill-$name"
start=$SECONDS
# The pod's log can be followed once its container started.
until k -n "$ns" get pods -l "job-name=$job" -o jsonpath='{.items[*].status.containerStatuses[*].state}' 2>/dev/null | grep -qE 'running|terminated'; do
    if [ $((SECONDS - start)) -gt 120 ]; then
        echo "the drill pod did not start within 2 minutes:" >&2
        k -n "$ns" describe pods -l "job-name=$job" >&2
        exit 1
    fi
    sleep 1
done
k -n "$ns" logs -f "job/$job" || true
status=0
if k -n "$ns" wait --for=condition=Complete "job/$job" --timeout=60s >/dev/null 2>&1; then
    echo
    echo "== job/$job completed in $((SECONDS - start)) s: the scheduled drill passed in its pod"
else
    status=1
    echo
    echo "== job/$job did not complete: the scheduled drill failed (see its log above)"
    k -n "$ns" get "job/$job" -o wide
fi
cat <<MSG

Its record is in the shared history s3://$FIREDRILL_LAB_HISTORY_BUCKET/demo:
  FIREDRILL_HISTORY_ACCESS_KEY_ID=\$FIREDRILL_LAB_PRIMARY_ACCESS_KEY FIREDRILL_HISTORY_SECRET_ACCESS_KEY=\$FIREDRILL_LAB_PRIMARY_SECRET_KEY \\
    $firedrill history --history s3://$FIREDRILL_LAB_HISTORY_BUCKET/demo --history-endpoint $FIREDRILL_LAB_PRIMARY_ENDPOINT --history-path-style
Its signed evidence is under s3://$FIREDRILL_LAB_EVIDENCE_BUCKET/demo-schedule/$name/ (public key: $keys/firedrill-evidence.pub).
The CronJob firedrill-$name runs it every quarter; 'kubectl -n $ns get cronjobs,jobs' shows it.
MSG
exit "$status"
