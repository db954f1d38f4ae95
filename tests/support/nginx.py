"""A baked project's ``deploy/nginx.conf``, made to run on this machine.

The site config is the project's own; only what points into Docker moves to this
machine: the upstream, the certificates, the logs, the listen ports. A minimal main
config (pid file and temporary folders in a folder of the test's) includes it.
:class:`Proxy` runs it in front of a live deployment's servers.
"""

import os
import pwd
import re

from tests.support.processes import accepting, has_ipv6_loopback, require, tail
from tests.support.supervisor import Process, wait_until

LISTEN = re.compile(r"listen\s+(\[::\]:)?(80|443)\b")


class NginxConfigError(Exception):
    """deploy/nginx.conf no longer has what the tests rewrite."""


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


class Proxy:
    """nginx with the project's ``deploy/nginx.conf`` on loopback ports, in front of the
    servers on ``upstream_ports``: plain HTTP on ``http_port`` (redirects), TLS on
    ``https_port`` with the throw-away ``certificate``. Its folder is ``workdir``."""

    def __init__(self, workdir, certificate, upstream_ports, http_port, https_port):
        self.workdir = workdir
        self.certificate = certificate
        self.upstream_ports = upstream_ports
        self.http_port = http_port
        self.https_port = https_port
        self.origin = f"https://localhost:{https_port}"  # what a browser sends as Origin

    def start(self, project, supervisor):
        """Run nginx with ``project``'s site config; returns once both ports accept."""
        executable = require("nginx")
        self.workdir.mkdir()
        config = live_config(
            (project / "deploy" / "nginx.conf").read_text(),
            self.workdir,
            self.certificate,
            [f"127.0.0.1:{port}" for port in self.upstream_ports],
            self.http_port,
            self.https_port,
        )
        command = [executable, "-p", self.workdir, "-e", self.workdir / "error.log"]
        command += ["-c", config, "-g", "daemon off;"]
        process = supervisor.adopt(Process("nginx", command, log=self.workdir / "nginx.log"))
        for port in (self.http_port, self.https_port):
            wait_until(lambda port=port: accepting(port), process, f"listening on {port}")

    def logs(self):
        """The tails of nginx's error and access logs, for a failure report."""
        parts = []
        for name in ("error.log", "access.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"--- nginx {name} ---\n{tail(path.read_text(errors='replace'))}")
        return "\n".join(parts)
