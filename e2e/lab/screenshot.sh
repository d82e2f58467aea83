#!/usr/bin/env bash
# screenshot.sh REPORT.html OUT.png: renders a drill report in headless
# Chromium (Debian's, installed if missing) so a person can check how it
# looks. The flags keep Chromium off the network: the report is
# self-contained and must render without it.
set -euo pipefail
report=${1:?usage: screenshot.sh REPORT.html OUT.png}
out=${2:?usage: screenshot.sh REPORT.html OUT.png}
if ! command -v chromium >/dev/null; then
	echo "installing Debian's chromium ..." >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$profile" --window-size=1100,1600 \
	--screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "screenshot of $report in $out"
