#!/usr/bin/env bash
# Install the Debian packages c360's local stack needs, and only those missing:
#   postgresql        PostgreSQL 15+ with postgres_fdw and pg_trgm (contrib)
#   a Java 17/21 JRE  Neo4j 5.26 runs on nothing newer or older
#   maven             fetches Neo4j's jars (c360-export stack up does the fetch)
#   python3-venv      for the project's .venv
# Does nothing when everything is present; needs root only when something is not.
set -euo pipefail

missing=()

have_postgres() {
    local bin
    for bin in /usr/lib/postgresql/*/bin/pg_ctl; do
        [[ -x "$bin" ]] || continue
        local version
        version=$(basename "$(dirname "$(dirname "$bin")")")
        [[ "$version" =~ ^[0-9]+$ ]] && ((version >= 15)) && return 0
    done
    return 1
}

have_supported_java() {
    # Neo4j 5.26 needs 17 or 21; a newer default `java` does not count.
    local release
    for release in /usr/lib/jvm/*/release; do
        [[ -f "$release" ]] || continue
        if grep -Eq '^JAVA_VERSION="(17|21)[."]' "$release" \
            && [[ -x "$(dirname "$release")/bin/java" ]]; then
            return 0
        fi
    done
    return 1
}

java_package() {
    # Debian 12 ships OpenJDK 17; later releases dropped it for 21.
    if apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then
        echo openjdk-17-jre-headless
    else
        echo openjdk-21-jre-headless
    fi
}

have_postgres || missing+=(postgresql)
have_supported_java || missing+=(JAVA)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if ((${#missing[@]} == 0)); then
    echo "system packages: all present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing system packages: ${missing[*]/JAVA/openjdk-17-jre-headless (or 21)}" >&2
    echo "       run this script as root, or: sudo apt-get install ${missing[*]/JAVA/openjdk-17-jre-headless}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
packages=()
for name in "${missing[@]}"; do
    if [[ "$name" == JAVA ]]; then
        packages+=("$(java_package)")
    else
        packages+=("$name")
    fi
done
echo "installing: ${packages[*]}"
apt-get install -y -q --no-install-recommends "${packages[@]}"

# Debian's postgresql package creates and starts a system cluster on 5432; c360
# runs its own cluster and leaves that one alone.
have_postgres || { echo "error: postgresql installed but no PostgreSQL 15+ found" >&2; exit 1; }
have_supported_java || { echo "error: no Java 17/21 under /usr/lib/jvm after install" >&2; exit 1; }
echo "system packages: installed ${packages[*]}"
