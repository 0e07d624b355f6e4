# The Anvil image without a registry: ./Dockerfile's layout on the debootstrap base, with the
# build host's node binary (package.json engines: node >= 20.3; bookworm's nodejs is 18) and
# production dependencies installed on the build host (npm ci --omit=dev).
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false ANVIL_HOME=/var/lib/anvil
COPY app /app
ENTRYPOINT ["node", "bin/anvil.js"]
CMD ["--help"]
