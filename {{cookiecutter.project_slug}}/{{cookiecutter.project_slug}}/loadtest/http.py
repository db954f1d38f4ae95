"""The server under load, and the few HTTP requests that signing in takes."""

import ipaddress
import json as jsonlib
import os
import socket
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPSConnection
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

HTTP_TIMEOUT = 10  # seconds for one sign-in request


class SignInError(Exception):
    """The tool could not sign in; the message says what the server answered."""


class RemoteServerError(Exception):
    """A URL off this machine without ``--allow-remote``."""


@dataclass(frozen=True)
class Server:
    url: str

    @classmethod
    def at(cls, url, *, allow_remote=False):
        """The server at ``url``; refuses one that is not on loopback unless allowed:
        a load test is an attack on anyone else's machine."""
        server = cls(url.rstrip("/"))
        if server.scheme not in ("http", "https") or not server.host:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        if not allow_remote and not server.is_loopback():
            raise RemoteServerError(
                f"{server.host} is not this machine; pass --allow-remote to load it anyway"
            )
        return server

    @property
    def parts(self):
        return urlsplit(self.url)

    @property
    def scheme(self):
        return self.parts.scheme

    @property
    def host(self):
        return self.parts.hostname

    @property
    def port(self):
        return self.parts.port or (443 if self.scheme == "https" else 80)

    @property
    def origin(self):
        return f"{self.scheme}://{self.parts.netloc}"

    def websocket_url(self, path):
        scheme = "wss" if self.scheme == "https" else "ws"
        return f"{scheme}://{self.parts.netloc}{path}"

    def is_loopback(self):
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(self.host, self.port)}
        except socket.gaierror:
            return False
        return all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


@dataclass
class Response:
    status: int
    text: str
    cookies: dict

    def json(self):
        try:
            return jsonlib.loads(self.text)
        except ValueError:
            return {}


def request(server, method, path, *, form=None, json=None, headers=None):
    """One request, redirects not followed; the cookies it set by name."""
    headers = {"Origin": server.origin, **(headers or {})}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif json is not None:
        body = jsonlib.dumps(json)
        headers["Content-Type"] = "application/json"
    connection_class = HTTPSConnection if server.scheme == "https" else HTTPConnection
    connection = connection_class(server.host, server.port, timeout=HTTP_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        text = response.read().decode(errors="replace")
        return Response(response.status, text, {name: c.value for name, c in cookies.items()})
    except OSError as error:
        raise SignInError(f"{method} {server.origin}{path}: {error}") from None
    finally:
        connection.close()


def credentials(args, *, instead):
    """``(username, password)`` from the flags or the environment; ``instead`` names the
    flag that signs in without them."""
    username = args.username or os.environ.get("LOADTEST_USERNAME")
    password = args.password or os.environ.get("LOADTEST_PASSWORD")
    if not (username and password):
        raise SignInError(
            "no credentials: give --username and --password (or set LOADTEST_USERNAME and "
            f"LOADTEST_PASSWORD), or {instead}"
        )
    return username, password
