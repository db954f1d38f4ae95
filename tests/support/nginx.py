"""A baked project's ``deploy/nginx.conf``, made to run on this machine.

The site config is the project's own; only what points into Docker moves to this
machine: the upstream, the certificates, the logs, the listen ports. A minimal main
config (pid file and temporary folders in a folder of the test's) includes it.
"""

import os
import pwd
import re
import socket
from functools import cache

LISTEN = re.compile(r"listen\s+(\[::\]:)?(80|443)\b")


class NginxConfigError(Exception):
    """deploy/nginx.conf no longer has what the tests rewrite."""


@cache
def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def checkable_config(site, workdir, certificate, upstream="127.0.0.1:8000"):
    """``site`` (the text of deploy/nginx.conf) runnable here with ``nginx -t``:
    upstream, certificates and logs moved to this machine, included from a minimal
    main config in ``workdir``. Returns the main config's path."""
    for docker_path, local_path in {
        "server web:8000 ": f"server {upstream} ",
        "/etc/nginx/certs": str(certificate),
        "/var/log/nginx": str(workdir),
    }.items():
        if docker_path not in site:
            raise NginxConfigError(f"deploy/nginx.conf no longer has {docker_path!r}")
        site = site.replace(docker_path, local_path)
    (workdir / "site.conf").write_text(site)
    main = workdir / "nginx.conf"
    main.write_text(
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    client_body_temp_path {workdir}/body;\n"
        f"    proxy_temp_path {workdir}/proxy;\n"
        f"    include {workdir}/site.conf;\n"
        "}\n"
    )
    return main


def live_config(site, workdir, certificate, upstreams, http_port, https_port):
    """:func:`checkable_config`, listening on loopback ports, with every server of
    ``upstreams`` in the upstream block, its workers running as this user."""

    def listen(match):
        port = http_port if match.group(2) == "80" else https_port
        host = "[::1]" if match.group(1) else "127.0.0.1"
        return f"listen {host}:{port}"

    site, count = LISTEN.subn(listen, site)
    if count != 4:
        raise NginxConfigError(f"deploy/nginx.conf has {count} listen lines, not 4")
    if not has_ipv6_loopback():
        site = re.sub(r"\n\s*listen \[::1\]:\d+[^;]*;", "", site)
    config = checkable_config(site, workdir, certificate, upstream=upstreams[0])
    site_conf = workdir / "site.conf"
    site = site_conf.read_text()
    # One server line per upstream, each with the config's parameters (max_fails=0).
    line = re.search(rf"server {re.escape(upstreams[0])}(?P<parameters>[^;]*);", site)
    servers = "\n    ".join(f"server {upstream}{line['parameters']};" for upstream in upstreams)
    site = site.replace(line.group(0), servers, 1)
    # Temp folders that nginx would otherwise create under /var/lib/nginx.
    for kind in ("fastcgi", "uwsgi", "scgi"):
        site += f"{kind}_temp_path {workdir}/{kind};\n"
    site_conf.write_text(site)
    if os.geteuid() == 0:  # else the workers would run as nobody
        user = pwd.getpwuid(os.geteuid()).pw_name
        config.write_text(f"user {user};\n{config.read_text()}")
    return config
