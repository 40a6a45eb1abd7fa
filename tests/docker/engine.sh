#!/usr/bin/env bash
# A Docker engine for CI on a Debian machine with none running: .ci/run calls this; a user with
# their own engine never needs it (`make test-docker` uses whatever `docker` reaches).
#   engine.sh install        Debian 12's docker.io (Engine 20.10) and mmdebstrap from apt-get, and
#                            from Debian 13's archive the Compose v2 plugin (docker-compose 2.26,
#                            one static binary) and Engine 26.1's dockerd (it runs on Debian 12's
#                            containerd and runc). Exit 2 with one line where an engine is impossible
#                            here (not root, no apt-get: CI skips Docker); exit 1 when a step failed.
#   engine.sh start 20.10|26.1   start that dockerd (logs to $LGS_DOCKERD_LOG), wait for it
#   engine.sh stop           stop the dockerd this script started
# Both engines share /var/lib/docker, so the second reuses the images the first built.
set -euo pipefail
trixie=/var/cache/lgs-docker/trixie     # Debian 13's packages, unpacked; kept between runs
pidfile=/run/lgs-dockerd.pid
log=${LGS_DOCKERD_LOG:-/var/log/lgs-dockerd.log}  # root's, not a name in /tmp another user could take

die() { echo "engine.sh: $*" >&2; exit 1; }
impossible() { echo "engine.sh: $*" >&2; exit 2; }

setup() {
    [ "$(id -u)" = 0 ] || impossible "needs root (apt-get, dockerd)"
    command -v apt-get >/dev/null || impossible "no apt-get: not a Debian machine"
    export DEBIAN_FRONTEND=noninteractive
    if ! command -v dockerd >/dev/null || ! command -v mmdebstrap >/dev/null; then
        apt-get install -y --no-install-recommends docker.io mmdebstrap >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 \
                 && apt-get install -y --no-install-recommends docker.io mmdebstrap >/dev/null 2>&1; } \
            || die "apt-get install docker.io mmdebstrap failed"
    fi
    if [ ! -x "$trixie/usr/libexec/docker/cli-plugins/docker-compose" ] || [ ! -x "$trixie/usr/sbin/dockerd" ]; then
        local apt
        apt=$(mktemp -d)  # private (0700): nobody can swap a package between download and unpacking
        mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/sources" "$trixie"
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            > "$apt/sources/trixie.sources"
        local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/sources"
                    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
                    -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
        apt-get "${opts[@]}" update >/dev/null 2>&1 || die "cannot read Debian 13's package lists"
        (cd "$apt/archives" && apt-get "${opts[@]}" download docker-compose docker.io >/dev/null 2>&1) \
            || die "cannot download Debian 13's docker-compose and docker.io"
        for deb in "$apt"/archives/docker-compose_*.deb "$apt"/archives/docker.io_*.deb; do
            dpkg-deb -x "$deb" "$trixie"
        done
        rm -rf "$apt"
    fi
    # The Compose v2 plugin, where every docker client looks for it.
    install -D -m 755 "$trixie/usr/libexec/docker/cli-plugins/docker-compose" \
        /usr/libexec/docker/cli-plugins/docker-compose
    docker compose version >/dev/null || die "the Compose v2 plugin does not run"
}

start() {
    local version=$1 dockerd
    case "$version" in
        20.10) dockerd=/usr/sbin/dockerd; PATH=/usr/sbin:$PATH ;;
        # Its own docker-proxy first on PATH: dockerd runs the one it finds.
        26.1) dockerd=$trixie/usr/sbin/dockerd; PATH=$trixie/usr/sbin:$PATH ;;
        *) die "unknown engine $version: 20.10 or 26.1" ;;
    esac
    [ -x "$dockerd" ] || die "no dockerd for $version: run engine.sh install"
    if docker info >/dev/null 2>&1; then die "a Docker engine is already running: stop it first"; fi
    export PATH
    nohup "$dockerd" --pidfile "$pidfile" >"$log" 2>&1 &
    for _ in $(seq 60); do
        if docker info >/dev/null 2>&1; then
            echo "engine: Docker Engine $(docker version --format '{{.Server.Version}}'), Compose $(docker compose version --short)"
            return
        fi
        sleep 0.5
    done
    tail -5 "$log" >&2
    die "dockerd $version did not start in 30 s (log: $log)"
}

stop() {
    [ -s "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
        sleep 0.5
    done
    die "dockerd (pid $pid) did not stop in 30 s"
}

case "${1:-}" in
    install) setup ;;
    start) start "${2:-}" ;;
    stop) stop ;;
    *) die "usage: engine.sh install | start 20.10|26.1 | stop" ;;
esac
