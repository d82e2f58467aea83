#!/usr/bin/env bash
# report-screenshots.sh OUTDIR REPORT.html...: renders each drill report in
# headless Chromium (Debian's, installed with poppler-utils if missing) at
# desktop width (1280), phone width (390) and printed to an A4 PDF, whose
# pages pdftoppm turns into PNGs: NAME-desktop.png, NAME-phone.png,
# NAME.pdf, NAME-print-N.png, NAME the report's folder (or file) name.
# Chromium is kept off the network: a report must render without it.
set -euo pipefail
out=${1:?usage: report-screenshots.sh OUTDIR REPORT.html...}
shift
[ $# -gt 0 ] || { echo "usage: report-screenshots.sh OUTDIR REPORT.html..." >&2; exit 2; }
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then
	echo "installing Debian's chromium and poppler-utils ..." >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null
fi
mkdir -p "$out"
out=$(realpath "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chrome() {
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir="$profile" "$@" 2>/dev/null
}
for report in "$@"; do
	src=$(realpath "$report")
	name=$(basename "$(dirname "$src")")
	case "$src" in
	*.html) ;;
	*) # a golden file: Chromium renders by extension
		name=$(basename "$src" | tr . -)
		cp "$src" "$out/$name.html"
		src="$out/$name.html" ;;
	esac
	chrome --window-size=1280,2000 --screenshot="$out/$name-desktop.png" "file://$src"
	chrome --window-size=390,2400 --screenshot="$out/$name-phone.png" "file://$src"
	chrome --no-pdf-header-footer --print-to-pdf="$out/$name.pdf" "file://$src"
	rm -f "$out/$name-print-"*.png
	pdftoppm -r 60 -png "$out/$name.pdf" "$out/$name-print"
	echo "$report: $out/$name-desktop.png, $name-phone.png, $name.pdf ($(ls "$out" | grep -c "^$name-print-") pages, as $name-print-N.png)"
done
