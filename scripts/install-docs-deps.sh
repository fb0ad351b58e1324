#!/usr/bin/env bash
# Install the Debian packages `make docs` needs for its screenshot, only those missing:
#   chromium           headless, takes the screenshot of the dbt docs page
#   fonts-dejavu-core  a font for the page's text and the diagram's monospace
# Kept apart from install-system-deps.sh so that `make demo` never needs a browser.
# Does nothing when everything is present; needs root only when something is not.
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] || missing+=(fonts-dejavu-core)

if ((${#missing[@]} == 0)); then
    echo "docs packages: all present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "       run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
echo "installing: ${missing[*]}"
apt-get install -y -q --no-install-recommends "${missing[@]}"
[[ -x /usr/bin/chromium ]] || { echo "error: chromium installed but no /usr/bin/chromium" >&2; exit 1; }
echo "docs packages: installed ${missing[*]}"
