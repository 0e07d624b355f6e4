#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the version the
# admin-tools image ships (as temporalio's own compose set-up does). Safe to run again: an
# existing database is kept, and setup-schema/update-schema skip what is already there.
set -eu
: "${POSTGRES_SEEDS:=postgresql}" "${DB_PORT:=5432}" "${POSTGRES_USER:=temporal}"
export SQL_PASSWORD="${SQL_PASSWORD:-${POSTGRES_PWD:-temporal}}"
schemas=/etc/temporal/schema/postgresql/v12

echo "temporal schema: waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
i=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
  i=$((i + 1)); [ "$i" -lt 60 ] || { echo "PostgreSQL did not answer" >&2; exit 1; }
  sleep 1
done

sqltool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=$schemas/${pair#*:}/versioned
  sqltool --db "$db" create 2>/dev/null || echo "temporal schema: database $db exists"
  sqltool --db "$db" setup-schema -v 0.0
  sqltool --db "$db" update-schema -d "$dir"
done
echo "temporal schema: ready"
