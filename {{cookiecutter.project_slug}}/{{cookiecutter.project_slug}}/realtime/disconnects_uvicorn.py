"""How Uvicorn ends connections: what its ``send`` raises once the client has gone, and
how it stops taking new ones."""

# Uvicorn raises ClientDisconnected, an OSError.
CLIENT_GONE = (OSError,)


def stop_listening():
    """Uvicorn keeps listening until its own shutdown, which the application cannot start
    early: a WebSocket that arrives meanwhile is accepted and closed with 1001, and
    /healthz answers 503 (realtime/drain.py)."""
