#!/bin/sh
# Once Temporal answers: creates the namespace (unless it exists) and registers Anvil's search
# attributes (Keyword) that it lacks. The embedded dev server gets them from `anvil` itself;
# a cluster gets them here. ANVIL_SEARCH_ATTRIBUTES is the comma-separated list.
set -eu
: "${TEMPORAL_ADDRESS:=temporal:7233}" "${DEFAULT_NAMESPACE:=default}" "${ANVIL_SEARCH_ATTRIBUTES:=}"
host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}
# The CLI is given an IPv4 address: the service name may also resolve to an IPv6 one it cannot reach.
ip=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
export TEMPORAL_ADDRESS="${ip:-$host}:$port"

echo "temporal namespace: waiting for Temporal at $TEMPORAL_ADDRESS"
i=0
until temporal operator cluster health >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 60 ] || { echo "Temporal did not become healthy" >&2; exit 1; }
  sleep 2
done

temporal operator namespace describe --namespace "$DEFAULT_NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$DEFAULT_NAMESPACE" --retention 7d

# a new namespace reaches every frontend within the namespace cache's refresh (about 10 s)
i=0
until existing=$(temporal operator search-attribute list --namespace "$DEFAULT_NAMESPACE" 2>/dev/null); do
  i=$((i + 1)); [ "$i" -lt 30 ] || { echo "namespace $DEFAULT_NAMESPACE did not become usable" >&2; exit 1; }
  sleep 2
done
for name in $(echo "$ANVIL_SEARCH_ATTRIBUTES" | tr ',' ' '); do
  if echo "$existing" | grep -qw "$name"; then continue; fi
  temporal operator search-attribute create --namespace "$DEFAULT_NAMESPACE" --name "$name" --type Keyword
done
echo "temporal namespace: $DEFAULT_NAMESPACE ready (search attributes: ${ANVIL_SEARCH_ATTRIBUTES:-none})"
