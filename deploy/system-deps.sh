#!/usr/bin/env bash
# The system packages reporting's documents need, installed with apt when missing (Debian/Ubuntu):
#   fonts-noto-cjk       Noto Serif/Sans CJK SC: the PDF's and the charts' Chinese (stand-ins for
#                        仿宋_GB2312, 方正小标宋简体 and 黑体; docs/documents.md)
#   libpango-1.0-0, libpangoft2-1.0-0   WeasyPrint lays the PDF out with Pango
#   libharfbuzz-subset0  WeasyPrint subsets the embedded fonts with it (without it, fontTools takes
#                        ~7 s per document on the 20 MB CJK fonts instead of ~0.4 s)
#   poppler-utils        pdftotext, pdffonts, pdftoppm: the tests read every PDF back with them
# Usage: deploy/system-deps.sh [--check] [--runtime]
#   --check    install nothing; list what is missing and exit 1 if anything is
#   --runtime  leave out poppler-utils (the image needs only what renders)
set -euo pipefail

check=0
runtime=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --runtime) runtime=1 ;;
    *) echo "usage: $0 [--check] [--runtime]" >&2; exit 2 ;;
  esac
done

packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
[ "$runtime" = 1 ] || packages+=(poppler-utils)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ "${#missing[@]}" = 0 ] && exit 0

if [ "$check" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Reporting's documents need these system packages: ${missing[*]}" >&2
  echo "  install them as root: apt-get install -y ${missing[*]}   (or: sudo deploy/system-deps.sh)" >&2
  exit 1
fi

echo "Installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# fontconfig learns of the new fonts (the package's trigger does it too; harmless twice).
command -v fc-cache >/dev/null && fc-cache -s >/dev/null 2>&1 || true
