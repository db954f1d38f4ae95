"""How Daphne ends connections: what its ``send`` raises once the client has gone, the
close code of a server that stops, and how it stops taking new ones."""

import sys

from autobahn.exception import Disconnected
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet.interfaces import IListeningPort

# Daphne raises autobahn's Disconnected ("Attempt to send on a closed protocol") for a
# frame that crosses the client's disconnect; a socket error is an OSError.
CLIENT_GONE = (Disconnected, OSError)

# Codes RFC 6455 gives a server that autobahn's ``sendClose`` refuses (it takes 1000 and
# 3000-4999 only): 1001, the server is stopping (realtime/drain.py); 1011, a handler failed.
SERVER_CODES = (1001, 1011)
daphne_server_close = WebSocketProtocol.serverClose


def server_close(protocol, code=None):
    """Daphne's ``serverClose``, and the SERVER_CODES too, written as a close frame
    straight away. Daphne sends no reason either way."""
    if code in SERVER_CODES:
        protocol.sendCloseFrame(code=code, isReply=False)
    else:
        daphne_server_close(protocol, code)


WebSocketProtocol.serverClose = server_close


def stop_listening():
    """Refuse new connections from now on (realtime/drain.py), so that the proxy sends
    them to another server. A connection that reached Daphne just before it stops
    would keep it from exiting: a sync consumer's thread waits on the stopped loop."""
    # Daphne installed Twisted's reactor before it loaded the project; elsewhere
    # (the test suite) nothing listens through Twisted, and importing it would install one.
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return
    for reader in reactor.getReaders():
        if IListeningPort.providedBy(reader):
            reader.stopListening()
