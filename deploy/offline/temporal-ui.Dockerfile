# The Temporal Web UI: github.com/temporalio/ui-server/v2 from the Go module proxy (its assets are
# embedded in the module) with the module's config/docker.yaml, filled from TEMPORAL_* variables.
ARG BASE
FROM ${BASE}
COPY ui-server /home/ui-server/ui-server
COPY docker.yaml /home/ui-server/config/docker.yaml
WORKDIR /home/ui-server
EXPOSE 8080
ENTRYPOINT ["./ui-server", "--env", "docker", "start"]
