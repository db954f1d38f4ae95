#!/bin/sh
# The production start command: Uvicorn on $PORT behind nginx (deploy/nginx.conf).
#   --proxy-headers, --forwarded-allow-ips   trust X-Forwarded-* from these addresses only
#   --ws-max-size                            messages over {{ (cookiecutter._ws_max_message_bytes | int) // 1024 }} KiB close the socket (1009)
#   --ws-ping-*                              ping every WS_PING_INTERVAL s (20); drop a
#                                            socket whose answer takes over
#                                            WS_PING_TIMEOUT s (20): dead or not reading
#   --ws-per-message-deflate false           no compression: browsers offer it, and each
#                                            compressed socket holds zlib state (60 KB
#                                            idle, not 20) to shrink small JSON frames
#   --lifespan off                           Channels' router has no lifespan handler
#   --no-access-log                          the access log would record ?token= query
#                                            strings; nginx logs requests without them
set -eu
{%- if cookiecutter.channel_layer == "in_memory" %}
# The in-memory channel layer lives in one process: more workers would split the rooms.
if [ "${WEB_CONCURRENCY:-1}" != 1 ]; then
    echo "WEB_CONCURRENCY=${WEB_CONCURRENCY}: the in-memory channel layer needs one process." >&2
    echo "Bake the project with channel_layer=redis to run several." >&2
    exit 1
fi
{%- endif %}
# /metrics: the server processes of this machine keep their counts in one directory, which
# a scrape of any of them adds up; emptied here unless another server uses it already
# (docs/deployment.md, "Metrics"). Give each deployment on a machine its own.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/{{ cookiecutter.project_slug }}-metrics}"
python -m {{ cookiecutter.project_slug }}.realtime.metrics "$PROMETHEUS_MULTIPROC_DIR"
exec uvicorn config.asgi:application \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
    --ws-max-size {{ cookiecutter._ws_max_message_bytes }} \
    --ws-ping-interval "${WS_PING_INTERVAL:-20}" \
    --ws-ping-timeout "${WS_PING_TIMEOUT:-20}" \
    --ws-per-message-deflate false \
    --lifespan off \
    --no-access-log
