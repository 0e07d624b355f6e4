# PostgreSQL 15 (Debian bookworm) for docker-compose.offline.yml; BASE is the debootstrap base.
ARG BASE
FROM ${BASE}
COPY postgresql-entrypoint.sh /usr/local/bin/postgresql-entrypoint
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgresql-entrypoint"]
