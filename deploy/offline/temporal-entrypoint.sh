#!/bin/sh
# The Temporal server with config/docker.yaml (the module's own template, filled from DB,
# POSTGRES_SEEDS, POSTGRES_USER, POSTGRES_PWD, ... as in the public image). Bound to every
# address, it tells the cluster's members its own container address, as the public image does.
set -eu
: "${BIND_ON_IP:=$(getent ahostsv4 "$(hostname)" | awk 'NR == 1 { print $1 }')}"
export BIND_ON_IP
if [ "$BIND_ON_IP" = 0.0.0.0 ]; then
  : "${TEMPORAL_BROADCAST_ADDRESS:=$(getent ahostsv4 "$(hostname)" | awk 'NR == 1 { print $1 }')}"
  export TEMPORAL_BROADCAST_ADDRESS
fi
cd /etc/temporal
exec temporal-server --env docker --config config start
