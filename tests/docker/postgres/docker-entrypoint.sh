#!/bin/bash
# The official postgres image's init contract, for the stand-in (see Dockerfile beside it).
set -Eeuo pipefail

if [ "$(id -u)" = 0 ]; then
    # As root: make the data directory the server's, then run this script again as postgres.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "error: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # The official image accepts scram logins from any address (its pg_hba "host all all all").
    printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    # While the init scripts run the server listens on its Unix socket only: a TCP health check
    # (docker-compose.yml's) stays red until they have finished.
    pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses='' -k /var/run/postgresql" start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --host=/var/run/postgresql --username="$POSTGRES_USER")
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname=postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sql) echo "docker-entrypoint.sh: running $f"; "${psql[@]}" --dbname="$POSTGRES_DB" -f "$f" ;;
            *.sh) echo "docker-entrypoint.sh: sourcing $f"; . "$f" ;;
            *) echo "docker-entrypoint.sh: ignoring $f" ;;
        esac
    done
    pg_ctl --pgdata="$PGDATA" --wait --silent -m fast stop
    echo "PostgreSQL init process complete; ready for start up."
fi

if [ "${1:-}" = postgres ]; then
    shift
    exec postgres -D "$PGDATA" -c listen_addresses='*' -k /var/run/postgresql "$@"
fi
exec "$@"
