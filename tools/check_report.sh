#!/usr/bin/env bash
# Renders an experiment's report.html to a PNG with headless Chromium, so that a
# person (or a reviewer without a browser) can look at the report as it will be
# seen: figures, tables and styling, not the HTML source.
#
#   tools/check_report.sh <run_dir>/report.html [out.png]
#
# The PNG defaults to the report's path with .html replaced by .png; its path is
# printed on stdout. The window is 1280 px wide and tall enough for the whole
# page (measured with a throwaway wrapper page that loads the report in an
# iframe, or else estimated from its figures, table rows and lines; override
# it with CHECK_REPORT_HEIGHT=<px>). Installs Debian's `chromium` with apt-get when
# it is missing (as root, or through sudo; `apt-get update` only then), as
# tools/setup.sh does for the build's packages. Not part of `bazel test`.
# Exit code 1: the report is missing or Chromium failed; 2: a usage error.
set -euo pipefail

usage() {
  echo "usage: tools/check_report.sh <run_dir>/report.html [out.png]" >&2
  exit 2
}

[ "$#" -ge 1 ] && [ "$#" -le 2 ] || usage
html="$1"
if [ ! -f "$html" ]; then
  echo "check_report.sh: no such file: $html" >&2
  exit 1
fi
html_abs="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
if [ "$#" -eq 2 ]; then
  png="$2"
else
  png="${html_abs%.html}.png"
fi
png_dir="$(dirname "$png")"
mkdir -p "$png_dir"
png_abs="$(cd "$png_dir" && pwd)/$(basename "$png")"

# Installs chromium when no Chromium binary is on the PATH.
find_chromium() {
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! chrome="$(find_chromium)"; then
  echo "check_report.sh: installing chromium" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO="sudo"
    else
      echo "check_report.sh: not root and no sudo; cannot install chromium" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get update -q >&2; then
    echo "check_report.sh: 'apt-get update' failed; cannot install chromium" >&2
    exit 1
  fi
  if ! $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2; then
    echo "check_report.sh: 'apt-get install chromium' failed" >&2
    exit 1
  fi
  chrome="$(find_chromium)" || {
    echo "check_report.sh: chromium installed but not on the PATH" >&2
    exit 1
  }
fi

# Chromium writes its profile under $HOME; use a throwaway one.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The file:// URL of the report ('%', ' ', '#' and '?' percent-encoded).
url="file://$(printf '%s' "$html_abs" | sed -e 's/%/%25/g' -e 's/ /%20/g' \
  -e 's/#/%23/g' -e 's/?/%3F/g')"

# The page's height at 1280 px, measured by a throwaway wrapper page that loads
# the report in an iframe and writes its height into its own title (the report
# itself runs no script); estimated from the figures, table rows and lines
# when that fails.
if [ -n "${CHECK_REPORT_HEIGHT:-}" ]; then
  height="$CHECK_REPORT_HEIGHT"
else
  printf '%s\n' \
    '<html><body style="margin:0">' \
    "<iframe id=\"f\" src=\"$url\" style=\"width:1280px;height:100px;border:0\"></iframe>" \
    '<script>document.getElementById("f").onload = function() {' \
    '  var d = this.contentDocument;' \
    '  document.title = "HEIGHT=" + Math.max(d.documentElement.scrollHeight,' \
    '                                        d.body.scrollHeight);' \
    '};</script></body></html>' >"$work/measure.html"
  height="$(timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
    --allow-file-access-from-files --user-data-dir="$work/profile" \
    --virtual-time-budget=10000 --dump-dom "file://$work/measure.html" \
    2>/dev/null | sed -n 's/.*HEIGHT=\([0-9][0-9]*\).*/\1/p' | head -n 1 || true)"
  if [ -z "$height" ] || [ "$height" -lt 100 ]; then
    figures=$(grep -o '<figure' "$html" | wc -l || true)
    rows=$(grep -o '<tr' "$html" | wc -l || true)
    lines=$(wc -l <"$html")
    height=$((600 + figures * 460 + rows * 28 + lines * 2))
  fi
  [ "$height" -gt 30000 ] && height=30000
fi

rm -f "$png_abs"
if ! "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --screenshot="$png_abs" \
  --window-size="1280,$height" "$url" >/dev/null 2>"$work/stderr.txt"; then
  cat "$work/stderr.txt" >&2
  echo "check_report.sh: chromium failed on $html_abs" >&2
  exit 1
fi
if [ ! -s "$png_abs" ]; then
  cat "$work/stderr.txt" >&2
  echo "check_report.sh: chromium wrote no screenshot to $png_abs" >&2
  exit 1
fi
echo "$png_abs"
