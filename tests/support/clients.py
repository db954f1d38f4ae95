"""The outside clients of a live deployment: HTTPS requests, the users' sign-in, the
JSON API, and WebSockets, as its users' programs and browsers send them.

Through nginx by default; or, with ``port`` (``server`` for a WebSocket), straight to one
server process, with the header nginx adds for Django (``X-Forwarded-Proto``). A user is
signed in as the project's ``auth`` option says: a token (``auth=token``) or a session
kept by a :class:`Browser` (``auth=session``).
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from websockets.asyncio.client import connect

from tests.support.http_client import insecure_tls, request

OPEN_TIMEOUT = 30  # seconds for a WebSocket handshake


class SignInError(Exception):
    """A user could not sign in (log in, or get a token)."""


class Browser:
    """One user agent of the site: keeps its cookies, sends Django's CSRF token."""

    def __init__(self, clients):
        self.clients = clients
        self.cookies = {}

    def request(self, method, path, *, headers=None, body=None, port=None):
        """See :meth:`Clients.http`; sends and keeps the cookies."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.clients.http(method, path, headers=headers, body=body, port=port)
        self.cookies.update(response.cookies())
        return response

    def log_in(self, username, password, *, port=None):
        """Django's LoginView: GET the form for the CSRF cookie and token, POST it."""
        page = self.request("GET", "/accounts/login/", port=port)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status != 200 or found is None or "csrftoken" not in self.cookies:
            raise SignInError(f"GET /accounts/login/ gave no CSRF form: {page!r}")
        form = {
            "csrfmiddlewaretoken": found.group(1),
            "username": username,
            "password": password,
        }
        response = self.request(
            "POST",
            "/accounts/login/",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.clients.origin}/accounts/login/",
                "Origin": self.clients.origin,
            },
            body=urlencode(form),
            port=port,
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SignInError(f"login of {username} failed: {response!r}")
        return self

    def post_json(self, path, payload, *, port=None):
        """A JSON POST with the CSRF header and an HTTPS Referer, as the site's JS sends."""
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": f"{self.clients.origin}/",
        }
        return self.request("POST", path, headers=headers, body=json.dumps(payload), port=port)


class Clients:
    """Requests and sockets to the site behind ``proxy`` (a :class:`~tests.support.nginx.Proxy`)
    or to a server of ``server_ports``, as the users who signed in with :meth:`sign_in`."""

    def __init__(self, auth, password, proxy, server_ports):
        self.auth = auth
        self.password = password
        self.origin = proxy.origin
        self.https_port = proxy.https_port
        self.server_ports = server_ports
        self.tokens = {}  # auth=token: username -> key
        self.browsers = {}  # auth=session: username -> logged-in Browser

    def http(self, method, path, *, headers=None, body=None, port=None):
        """An HTTPS request through nginx; or, with ``port``, a plain one straight to
        that server with the header nginx adds for Django (X-Forwarded-Proto)."""
        if port is None:
            return request(self.https_port, method, path, tls=True, headers=headers, body=body)
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        return request(port, method, path, headers=headers, body=body)

    def obtain_token(self, username, *, port=None):
        """auth=token: POST /api/token/ with JSON credentials; returns the key."""
        response = self.http(
            "POST",
            "/api/token/",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"username": username, "password": self.password}),
            port=port,
        )
        try:
            return response.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise SignInError(f"POST /api/token/ for {username}: {response!r}") from None

    def log_in(self, username, *, port=None):
        """auth=session: a :class:`Browser` logged in as ``username``."""
        return Browser(self).log_in(username, self.password, port=port)

    def sign_in(self, usernames):
        """Every user at once, each straight to a server in turn, with the header nginx
        adds: a test of sign-in through nginx fails if the proxy is broken, not every
        test."""
        ports = [self.server_ports[i % len(self.server_ports)] for i in range(len(usernames))]
        with ThreadPoolExecutor(len(usernames)) as pool:
            if self.auth == "token":
                keys = pool.map(lambda u, p: self.obtain_token(u, port=p), usernames, ports)
                self.tokens = dict(zip(usernames, keys))
            else:
                browsers = pool.map(lambda u, p: self.log_in(u, port=p), usernames, ports)
                self.browsers = dict(zip(usernames, browsers))

    def credentials(self, username):
        """The handshake headers that say who the client is."""
        if self.auth == "token":
            return {"Authorization": f"Token {self.tokens[username]}"}
        return {"Cookie": f"sessionid={self.browsers[username].cookies['sessionid']}"}

    def api(self, user, method, path, payload=None, *, port=None):
        """A request to the JSON API as ``user`` (a JSON POST with ``payload``), as a
        client of its auth option sends it: the token header, or the session's cookies
        and CSRF token. Through nginx, or straight to the server on ``port``."""
        if self.auth == "session":
            browser = self.browsers[user]
            if payload is None:
                return browser.request(method, path, port=port)
            if method != "POST":
                raise ValueError(f"a JSON {method} is not what the site's pages send")
            return browser.post_json(path, payload, port=port)
        headers = {"Authorization": f"Token {self.tokens[user]}"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload)
        return self.http(method, path, headers=headers, body=body, port=port)

    def post_notification(self, sender, payload, *, port=None):
        """POST /api/notifications/ as ``sender``: through nginx, or to one server."""
        return self.api(sender, "POST", "/api/notifications/", payload, port=port)

    def websocket(
        self, path, *, user=None, origin=True, headers=None, server=None, compression=None
    ):
        """An unopened ``websockets`` connection (``async with`` it).

        Through nginx's TLS port, or with ``server`` (an index into ``server_ports``)
        straight to that server over plain ws://. ``user`` adds that user's credentials;
        ``origin`` True sends the site's own origin, None sends none; ``compression``
        "deflate" offers per-message compression, as browsers do.
        """
        all_headers = dict(self.credentials(user)) if user else {}
        all_headers.update(headers or {})
        if origin is True:
            origin = self.origin
        if server is None:
            uri, tls = f"wss://localhost:{self.https_port}{path}", insecure_tls()
        else:
            uri, tls = f"ws://localhost:{self.server_ports[server]}{path}", None
            all_headers["X-Forwarded-Proto"] = "https"
        return connect(
            uri,
            host="127.0.0.1",
            ssl=tls,
            origin=origin,
            additional_headers=all_headers,
            compression=compression,
            proxy=None,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            ping_interval=None,
            max_size=None,
        )
