# The Temporal server built from the Go module proxy (go.temporal.io/server/cmd/server), with the
# module's config/docker.yaml; dynamic config is mounted by docker-compose.yml.
ARG BASE
FROM ${BASE}
COPY server /usr/local/bin/temporal-server
COPY docker.yaml /etc/temporal/config/docker.yaml
COPY temporal-entrypoint.sh /usr/local/bin/temporal-entrypoint
EXPOSE 7233
ENTRYPOINT ["/usr/local/bin/temporal-entrypoint"]
