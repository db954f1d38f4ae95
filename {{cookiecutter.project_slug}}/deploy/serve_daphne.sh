#!/bin/sh
# The production start command: Daphne on $PORT behind nginx (deploy/nginx.conf).
#   --proxy-headers       client address and scheme from nginx's X-Forwarded-* headers
#   --websocket-max-*     messages over 64 KiB are refused before they reach Python
#   --ping-*              ping idle sockets every 20 s, drop them after 30 s of silence
# Daphne runs one process: scale with more containers (docker compose --scale web=N).
set -eu
exec daphne \
    --bind "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --proxy-headers \
    --websocket-max-message-size 65536 \
    --websocket-max-frame-size 65536 \
    --ping-interval 20 \
    --ping-timeout 30 \
    --application-close-timeout 10 \
    config.asgi:application
