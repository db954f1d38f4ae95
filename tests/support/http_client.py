"""One HTTP request to a server on this machine, as an outside client sends it
(``http.client``, ``Host: localhost``, no redirects followed), and what came back."""

import http.client
import json
import ssl
from functools import cache
from http.cookies import SimpleCookie

HTTP_TIMEOUT = 60  # socket timeout of a request (a login hashes a password)


@cache
def insecure_tls():
    """A client context that accepts the throw-away self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Response:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    @property
    def text(self):
        return self.body.decode(errors="replace")

    def json(self):
        return json.loads(self.body)

    def cookies(self):
        """name -> value of every cookie this response sets."""
        jar = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}

    def __repr__(self):
        return f"<HTTP {self.status} {self.text[:300]!r}>"


def request(port, method, path, *, tls=False, headers=None, body=None, timeout=HTTP_TIMEOUT):
    """One request to 127.0.0.1:``port`` with ``Host: localhost``; no redirects followed."""
    if tls:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=insecure_tls()
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            method, path, body=body, headers={"Host": "localhost", **(headers or {})}
        )
        return Response(connection.getresponse())
    finally:
        connection.close()
