#!/bin/bash
# As the official image: `redis-server ARGS` runs as the redis user with the container
# configuration first (so compose's `redis-server --appendonly yes` works); anything else runs as given.
set -euo pipefail
if [ "${1:-}" = redis-server ]; then
    shift
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups redis-server /etc/redis/container.conf "$@"
fi
exec "$@"
