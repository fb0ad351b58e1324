#!/usr/bin/env bash
# A screenshot of the neo4j_graph exposure's page in dbt docs, which shows the
# graph model (assets/graph-model.svg):
#   scripts/docs-screenshot.sh [TARGET_DIR] [OUTPUT_PNG]
# TARGET_DIR is dbt's target/ after `dbt docs generate` (default: target);
# OUTPUT_PNG defaults to docs/img/dbt-docs-graph-model.png. The page is served
# over HTTP, as `dbt docs serve` does (index.html fetches manifest.json and
# catalog.json, which a file:// page may not), on a free localhost port, and
# rendered by headless Chromium (scripts/install-docs-deps.sh installs it).
# DOCS_WINDOW=WIDTH,HEIGHT sets the browser window (default 1600,1900).
set -euo pipefail

target=${1:-target}
output=${2:-docs/img/dbt-docs-graph-model.png}
window=${DOCS_WINDOW:-1600,1900}
page='index.html#!/exposure/exposure.c360.neo4j_graph'
chromium=/usr/bin/chromium

for needed in index.html manifest.json catalog.json assets/graph-model.svg; do
    if [[ ! -f "$target/$needed" ]]; then
        echo "error: no $target/$needed: run \`c360-export models generate\` and \`dbt docs generate\` first" >&2
        exit 1
    fi
done
if [[ ! -x "$chromium" ]]; then
    echo "error: no $chromium: run scripts/install-docs-deps.sh" >&2
    exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
scratch=$(mktemp -d)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$target" >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT

for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
    sleep 0.1
done

mkdir -p "$(dirname "$output")"
# --no-sandbox: Chromium's sandbox refuses to start as root. Without the
# background-networking flags Chromium dials out on its own, which a closed
# network refuses. The virtual time budget lets the page's scripts fetch the
# manifest and the picture and render before the shot.
if ! timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --user-data-dir="$scratch/profile" --hide-scrollbars \
    --window-size="$window" --virtual-time-budget=20000 \
    --screenshot="$(realpath -m "$output")" "http://127.0.0.1:$port/$page" \
    >"$scratch/chromium.log" 2>&1; then
    cat "$scratch/chromium.log" >&2
    echo "error: chromium could not take the screenshot" >&2
    exit 1
fi
[[ -s "$output" ]] || { cat "$scratch/chromium.log" >&2; echo "error: no $output" >&2; exit 1; }
echo "wrote $output (dbt docs, exposure neo4j_graph, window $window)"
