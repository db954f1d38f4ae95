"""Refusing a WebSocket handshake, with the reason where the server can say it.

A handshake refused before it is accepted gets HTTP 403. Uvicorn lets the application
write that response (the ASGI "websocket.http.response" extension): its body says why.
Daphne answers with a bare 403 of its own.
"""

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator

from {{ cookiecutter.project_slug }}.realtime import metrics


class Refusal:
    """An ASGI application that refuses every handshake, saying ``reason`` where it can.
    The metrics count it under ``kind``: a path without a route, unless said otherwise."""

    def __init__(self, reason, kind="no_route"):
        self.reason = reason
        self.kind = kind

    async def __call__(self, scope, receive, send):
        await receive()  # websocket.connect
        metrics.refused(self.kind)
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close"})
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": f"{self.reason}\n".encode()})


class ExplainingOriginValidator(OriginValidator):
    """Channels' OriginValidator, whose refusals say which Origin was not allowed."""

    async def __call__(self, scope, receive, send):
        origin = dict(scope.get("headers", [])).get(b"origin", b"").decode("latin1")
        if self.valid_origin(urlparse(origin) if origin else None):
            return await self.application(scope, receive, send)
        reason = (
            f"the Origin {origin} is not one of this site's"
            if origin
            else "a handshake without an Origin header is refused"
        )
        return await Refusal(reason, kind="origin")(scope, receive, send)
