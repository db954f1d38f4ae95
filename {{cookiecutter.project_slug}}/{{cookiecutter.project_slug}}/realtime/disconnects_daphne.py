"""How Daphne ends a connection: what its ``send`` raises once the client has gone, and
the close code of a server that stops."""

from autobahn.exception import Disconnected
from daphne.ws_protocol import WebSocketProtocol

# Daphne raises autobahn's Disconnected ("Attempt to send on a closed protocol") for a
# frame that crosses the client's disconnect; a socket error is an OSError.
CLIENT_GONE = (Disconnected, OSError)

GOING_AWAY = 1001
daphne_server_close = WebSocketProtocol.serverClose


def server_close(protocol, code=None):
    """Daphne's ``serverClose``, and 1001 too (realtime/drain.py): autobahn's
    ``sendClose`` refuses any code but 1000 and 3000-4999, although 1001 ("going away")
    is the one RFC 6455 gives a server that stops. Daphne sends no reason either way."""
    if code == GOING_AWAY:
        protocol.sendCloseFrame(code=code, isReply=False)
    else:
        daphne_server_close(protocol, code)


WebSocketProtocol.serverClose = server_close
