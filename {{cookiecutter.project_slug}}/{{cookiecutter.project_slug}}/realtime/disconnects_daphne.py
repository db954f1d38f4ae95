"""What the server's ``send`` raises once the client has gone."""

from autobahn.exception import Disconnected

# Daphne raises autobahn's Disconnected ("Attempt to send on a closed protocol") for a
# frame that crosses the client's disconnect; a socket error is an OSError.
CLIENT_GONE = (Disconnected, OSError)
