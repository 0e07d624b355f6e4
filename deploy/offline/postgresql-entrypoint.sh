#!/bin/sh
# PostgreSQL 15 from Debian, started the way the public postgres image is: POSTGRES_USER and
# POSTGRES_PASSWORD make the superuser on the first start (an empty PGDATA), password logins
# from any address afterwards. The healthcheck's pg_isready reaches it through the local socket.
set -eu
: "${POSTGRES_USER:=postgres}" "${PGDATA:=/var/lib/postgresql/data}"
[ -n "${POSTGRES_PASSWORD:-}" ] || { echo "postgresql: POSTGRES_PASSWORD is not set" >&2; exit 2; }
bin=/usr/lib/postgresql/15/bin
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile" && chown postgres "$pwfile"
  as_postgres "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "postgresql: initialised $PGDATA (superuser $POSTGRES_USER)"
fi
# exec'd, not forked (setpriv, not su): PostgreSQL is PID 1 and gets the stop signal itself
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" -c listen_addresses='*'
