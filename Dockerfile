# The Anvil image: the `anvil` CLI, so every worker kind (`worker --queue <kind>`), the Dojo
# gateway (`env serve`) and one-off commands. docker-compose.yml builds it; see the README's
# deployment section. bin/anvil.js runs the TypeScript sources with tsx (a runtime dependency),
# so there is no compile step and no dev dependency in the image.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    ANVIL_HOME=/var/lib/anvil

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force

# Sources, including sandbox/image/ (its hash names the sandbox image the workers start) and
# sandbox/harness/ (the Python the sandbox runs for verification and grading).
COPY . .

# Runs as root: the sandbox workers drive the host's Docker engine through its socket, which is
# root-equivalent anyway, and write the artifact store the sandbox containers bind-mount.
ENTRYPOINT ["node", "bin/anvil.js"]
CMD ["--help"]
