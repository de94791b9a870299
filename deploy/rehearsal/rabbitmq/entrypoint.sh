#!/bin/bash
# RABBITMQ_DEFAULT_USER/PASS become default_user/default_pass (used when the node first boots,
# as in the official image); the server runs as the rabbitmq user in the foreground.
set -euo pipefail
conf=/etc/rabbitmq/rabbitmq.conf
sed -i '/^default_user\|^default_pass/d' "$conf"
[ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER" >>"$conf"
[ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS" >>"$conf"
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq rabbitmq-server
