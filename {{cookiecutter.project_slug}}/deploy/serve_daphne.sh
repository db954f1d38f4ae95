#!/bin/sh
# The production start command: Daphne on $PORT behind nginx (deploy/nginx.conf).
#   --proxy-headers       client address and scheme from nginx's X-Forwarded-* headers
#   --websocket-max-*     messages over {{ (cookiecutter._ws_max_message_bytes | int) // 1024 }} KiB are refused before they reach Python
#   --ping-*              ping every WS_PING_INTERVAL s (20); drop a socket whose answer
#                         takes over WS_PING_TIMEOUT s (20), such as a client that stopped
#                         reading (Daphne would buffer all that is sent to it until then)
# Daphne runs one process: scale with more containers (docker compose --scale web=N).
set -eu
# /metrics: the server processes of this machine keep their counts in one directory, which
# a scrape of any of them adds up; emptied here unless another server uses it already
# (docs/deployment.md, "Metrics"). Give each deployment on a machine its own.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/{{ cookiecutter.project_slug }}-metrics}"
python -m {{ cookiecutter.project_slug }}.realtime.metrics "$PROMETHEUS_MULTIPROC_DIR"
exec daphne \
    --bind "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --proxy-headers \
    --websocket-max-message-size {{ cookiecutter._ws_max_message_bytes }} \
    --websocket-max-frame-size {{ cookiecutter._ws_max_message_bytes }} \
    --ping-interval "${WS_PING_INTERVAL:-20}" \
    --ping-timeout "${WS_PING_TIMEOUT:-20}" \
    --application-close-timeout 10 \
    config.asgi:application
