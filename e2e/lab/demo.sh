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
echo "== What the drill will do, step by step (touches nothing)"
"$firedrill" plan "$FIREDRILL_LAB_SCENARIO"
echo
echo "== Running the drill: the shop's region is lost; recover it into the hardened scratch cluster"
status=0
"$firedrill" run "$FIREDRILL_LAB_SCENARIO" || status=$?
echo
echo "== Drill history"
"$firedrill" history "$FIREDRILL_LAB_SCENARIO"
cat <<MSG

Open the report (report.html above) in a browser; fill in retrospective.md
with the team. 'firedrill verify $FIREDRILL_LAB_SCENARIO' runs the protection
checks alone. Stop the lab with: make lab-down
MSG
exit "$status"
