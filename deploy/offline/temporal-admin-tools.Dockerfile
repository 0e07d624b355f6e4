# What deploy/temporal/scripts need: temporal-sql-tool (go.temporal.io/server/cmd/tools/sql), the
# module's PostgreSQL schemas, and the temporal CLI (.tools/bin/temporal, from scripts/ensure-temporal.sh).
ARG BASE
FROM ${BASE}
COPY sql /usr/local/bin/temporal-sql-tool
COPY schema/postgresql /etc/temporal/schema/postgresql
COPY temporal /usr/local/bin/temporal
